/* f32-dwconv WASM SIMD128 kernels: SB_UKERNEL(f32_dwconv, fn, kernel_size (kh == kw; 0 = any), stride (0 = any)). */
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__wasmsimd_3x3s1, 3, 1)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__wasmsimd_3x3s2, 3, 2)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__wasmsimd_5x5s1, 5, 1)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__wasmsimd_5x5s2, 5, 2)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__wasmsimd_any, 0, 0)
