/* x86 f32-dwconv kernels (f32-dwconv/<level>.c from one .inc template, highest level first): SB_UKERNEL(f32_dwconv,
 * fn, kernel_size (kh == kw; 0 = any), stride (0 = any)). */
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx2"
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__avx2_3x3s1, 3, 1)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__avx2_3x3s2, 3, 2)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__avx2_5x5s1, 5, 1)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__avx2_5x5s2, 5, 2)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__avx2_7x7s1, 7, 1)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__avx2_any, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "sse41"
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__sse41_3x3s1, 3, 1)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__sse41_3x3s2, 3, 2)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__sse41_5x5s1, 5, 1)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__sse41_5x5s2, 5, 2)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__sse41_7x7s1, 7, 1)
SB_UKERNEL(f32_dwconv, sb_f32_dwconv_ukernel__sse41_any, 0, 0)
