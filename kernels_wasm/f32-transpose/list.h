/* f32-transpose WASM SIMD128 kernels: SB_UKERNEL(f32_transpose, fn, 0, 0). */
SB_UKERNEL(f32_transpose, sb_f32_transpose_ukernel__wasmsimd, 0, 0)
