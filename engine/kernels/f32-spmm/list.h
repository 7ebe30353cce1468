/* f32-spmm scalar kernels: SB_UKERNEL(f32_spmm, fn, G, pixel_tile). Dispatch matches G exactly, so the scalar
 * kernel (which reads w->group and handles any G) is listed once per G. */
SB_UKERNEL(f32_spmm, sb_f32_spmm_ukernel__scalar, 1, 1)
SB_UKERNEL(f32_spmm, sb_f32_spmm_ukernel__scalar, 2, 1)
SB_UKERNEL(f32_spmm, sb_f32_spmm_ukernel__scalar, 4, 1)
SB_UKERNEL(f32_spmm, sb_f32_spmm_ukernel__scalar, 8, 1)
