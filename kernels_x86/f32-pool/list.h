/* x86 f32-pool kernels (f32-pool/<level>.c from one .inc template, highest level first): SB_UKERNEL(f32_maxpool |
 * f32_avgpool, fn, kernel_size (0 = any), stride (0 = any)). */
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx2"
SB_UKERNEL(f32_maxpool, sb_f32_maxpool_ukernel__avx2, 0, 0)
SB_UKERNEL(f32_avgpool, sb_f32_avgpool_ukernel__avx2, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "sse41"
SB_UKERNEL(f32_maxpool, sb_f32_maxpool_ukernel__sse41, 0, 0)
SB_UKERNEL(f32_avgpool, sb_f32_avgpool_ukernel__sse41, 0, 0)
