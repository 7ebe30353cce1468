/* x86 f32-gavgpool kernels (f32-gavgpool/<level>.c from one .inc template, highest level first):
 * SB_UKERNEL(f32_gavgpool, fn, 0, 0). */
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx2"
SB_UKERNEL(f32_gavgpool, sb_f32_gavgpool_ukernel__avx2, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "sse41"
SB_UKERNEL(f32_gavgpool, sb_f32_gavgpool_ukernel__sse41, 0, 0)
