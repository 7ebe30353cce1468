/* f32-gemm scalar kernels: SB_UKERNEL(f32_gemm, fn, channel_tile, pixel_tile). */
SB_UKERNEL(f32_gemm, sb_f32_gemm_ukernel__scalar, 1, 1)
