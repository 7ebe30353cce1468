/* f32-spmm scalar kernels: SB_UKERNEL(f32_spmm, fn, G, pixel_tile). G = 0: any G (the scalar kernel reads w->group). */
SB_UKERNEL(f32_spmm, sb_f32_spmm_ukernel__scalar, 0, 1)
