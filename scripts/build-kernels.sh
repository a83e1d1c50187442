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

# The module shares TF.js's memory and has no stack of its own (stack-size=0): a kernel whose
# locals spill to linear memory (an array indexed by a variable) would write over TF.js's data.
# Such a kernel reads the stack pointer global: refuse it.
if command -v llvm-objdump >/dev/null; then
  if llvm-objdump -d "$out" | grep -q 'global\.get'; then
    echo "$out: a kernel uses a linear-memory stack (global.get of the stack pointer); keep its locals scalar or fixed-size" >&2
    exit 1
  fi
fi
