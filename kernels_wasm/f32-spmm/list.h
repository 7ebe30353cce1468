/* f32-spmm WASM SIMD128 kernels: SB_UKERNEL(f32_spmm, fn, G, pixel_tile), best first. */
SB_UKERNEL(f32_spmm, sb_f32_spmm_ukernel__wasmsimd_g1_32x, 1, 32)
SB_UKERNEL(f32_spmm, sb_f32_spmm_ukernel__wasmsimd_g2_16x, 2, 16)
SB_UKERNEL(f32_spmm, sb_f32_spmm_ukernel__wasmsimd_g4_8x, 4, 8)
SB_UKERNEL(f32_spmm, sb_f32_spmm_ukernel__wasmsimd_g8_4x, 8, 4)
