#!/usr/bin/env bash
# Builds and runs bench/kernels.c (procnas's kernels in isolation) against the kernel sources in
# SOURCES (default kernels/src), as the host build compiles them.
#   bench/kernels.sh [REPEATS] [SOURCES]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-21}"
sources="${2:-kernels/src}"
command -v clang >/dev/null || { echo "bench/kernels.sh: clang not found (apt-get install clang)" >&2; exit 2; }
[ -f "$sources/kernels.h" ] || { echo "bench/kernels.sh: $sources: no kernels.h there (expected a copy of kernels/src)" >&2; exit 2; }
out="$(mktemp -d)/kernels"
clang -O3 -march=native -fno-math-errno -std=c11 -I"$sources" bench/kernels.c "$sources"/*.c -o "$out" -lm
"$out" "$repeats"
