/* x86 f32-transpose kernels (f32-transpose/<level>.c from one .inc template, highest level first):
 * SB_UKERNEL(f32_transpose, fn, 0, 0). */
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx2"
SB_UKERNEL(f32_transpose, sb_f32_transpose_ukernel__avx2, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "sse41"
SB_UKERNEL(f32_transpose, sb_f32_transpose_ukernel__sse41, 0, 0)
