#!/bin/sh
# Builds web/dist/sparsebyte.{js,wasm} (engine + WASM SIMD128 kernels) with emscripten. Needs `apt-get install
# emscripten`. Incremental; pass `clean` to start over.
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = clean ]; then rm -rf build/wasm web/dist; fi
make -s -f web/wasm.mk -j"$(nproc)"
