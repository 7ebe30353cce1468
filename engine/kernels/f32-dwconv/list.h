/* f32-dwconv scalar kernels: SB_UKERNEL(f32_dwconv, fn, kernel_size (kh == kw; 0 = any), stride (0 = any)). */
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__scalar, 0, 0)
