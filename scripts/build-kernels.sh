#!/usr/bin/env bash
# Builds kernels/procnas-kernels.wasm from kernels/src/*.c (Debian: apt-get install clang lld).
# The built file is committed, so installing procnas needs no C toolchain.
#   scripts/build-kernels.sh [OUTPUT]   (default kernels/procnas-kernels.wasm)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-kernels/procnas-kernels.wasm}"
clang --target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib \
  -Wl,--no-entry -Wl,--import-memory -Wl,-z,stack-size=0 -Wl,--strip-all \
  -o "$out" kernels/src/*.c
