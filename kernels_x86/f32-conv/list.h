/* x86 f32-conv kernels, one per ISA level (f32-conv/conv.inc; kernels_x86/config/x86.c chooses):
 * SB_UKERNEL(f32_conv, fn, kernel_size (0 = any), stride (0 = any)). */
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx512"
SB_UKERNEL(f32_conv, sb_f32_conv_ukernel__avx512, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx2"
SB_UKERNEL(f32_conv, sb_f32_conv_ukernel__avx2, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "sse41"
SB_UKERNEL(f32_conv, sb_f32_conv_ukernel__sse41, 0, 0)
