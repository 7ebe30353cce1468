/* f32-spconv scalar kernels: SB_UKERNEL(f32_spconv, fn, G (0 = any), kernel_size (0 = any)). */
SB_UKERNEL(f32_spconv, sb_f32_spconv_ukernel__scalar, 0, 0)
