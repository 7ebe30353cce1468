/* x86 f32-softmax kernels (f32-softmax/<level>.c from one .inc template, highest level first):
 * SB_UKERNEL(f32_softmax, fn, 0, 0). */
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx2"
SB_UKERNEL(f32_softmax, sb_f32_softmax_ukernel__avx2, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "sse41"
SB_UKERNEL(f32_softmax, sb_f32_softmax_ukernel__sse41, 0, 0)
