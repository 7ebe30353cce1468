# WASM SIMD128 kernels, for the emscripten builds (web/build.sh, tests/kernels/build_harness.py --config wasm-node):
# every kernels_wasm/<family>/*.c, and config/wasmsimd.c (the choice table). Paths are relative to the repository
# root; compile with -msimd128 -DSB_ARCH_WASMSIMD.
WASM_KERNEL_SRCS := $(sort $(wildcard kernels_wasm/*/*.c))
