# WASM SIMD128 kernels, for the emscripten builds (web/build.sh, tests/kernels/build_harness.py --config wasm-node).
# Paths are relative to the repository root; compile with -msimd128 -DSB_ARCH_WASMSIMD.
WASM_KERNEL_SRCS = \
	kernels_wasm/f32-spmm/wasmsimd.c \
	kernels_wasm/f32-gemm/wasmsimd.c \
	kernels_wasm/f32-conv/wasmsimd.c \
	kernels_wasm/f32-dwconv/wasmsimd.c \
	kernels_wasm/f32-spconv/wasmsimd.c \
	kernels_wasm/f32-gavgpool/wasmsimd.c \
	kernels_wasm/f32-vbinary/wasmsimd.c \
	kernels_wasm/f32-vunary/wasmsimd.c \
	kernels_wasm/config/wasmsimd.c
