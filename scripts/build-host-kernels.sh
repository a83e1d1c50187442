#!/usr/bin/env bash
# Builds procnas's kernels for this machine: kernels/src/*.c through kernels/host/binding.c into
# kernels/build/Release/procnas_kernels.node (node-gyp, -O3 -march=native). npm install runs it.
# The sources are written for clang's vectoriser (GCC built the depthwise forward 3.7x slower),
# so without clang this builds nothing and says so: the engine then uses the committed
# WebAssembly build. A failed build is reported, and does not fail the install, for the same reason.
#   scripts/build-host-kernels.sh
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang >/dev/null; then
  echo "procnas: clang not found, so the kernels are not built for this machine; the WebAssembly build runs (apt-get install clang, then scripts/build-host-kernels.sh)"
  exit 0
fi
if command -v node-gyp >/dev/null; then
  gyp=(node-gyp)
else
  # Outside npm scripts: the node-gyp that npm bundles.
  gyp=(node "$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js")
fi
nodedir="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null)}"
args=(rebuild --directory=kernels)
if [ -n "$nodedir" ] && [ "$nodedir" != "undefined" ] && [ "$nodedir" != "null" ]; then args+=("--nodedir=$nodedir"); fi
if ! log=$(CC=clang CXX=clang++ "${gyp[@]}" "${args[@]}" 2>&1); then
  echo "$log" | tail -20 >&2
  echo "procnas: building the kernels for this machine failed (above); the WebAssembly build runs" >&2
  exit 0
fi
echo "procnas: kernels built for this machine (kernels/build/Release/procnas_kernels.node)"
