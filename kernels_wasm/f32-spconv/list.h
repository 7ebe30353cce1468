/* f32-spconv WASM SIMD128 kernels: SB_UKERNEL(f32_spconv, fn, G (0 = any), kernel_size (0 = any)). */
SB_UKERNEL(f32_spconv, sb_f32_spconv_ukernel__wasmsimd_any, 0, 0)
