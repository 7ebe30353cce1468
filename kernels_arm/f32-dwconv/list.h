/* NEON f32-dwconv kernels: SB_UKERNEL(f32_dwconv, fn, kernel_size (kh == kw), stride). */
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__neon_3x3s1, 3, 1)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__neon_3x3s2, 3, 2)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__neon_5x5s1, 5, 1)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__neon_5x5s2, 5, 2)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__neon_7x7s1, 7, 1)
