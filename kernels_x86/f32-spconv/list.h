/* x86 f32-spconv kernels, one per ISA level (f32-spconv/spconv.inc; kernels_x86/config/x86.c chooses):
 * SB_UKERNEL(f32_spconv, fn, G (0 = any), kernel_size (0 = any)). */
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx512"
SB_UKERNEL(f32_spconv, sb_f32_spconv_ukernel__avx512, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx2"
SB_UKERNEL(f32_spconv, sb_f32_spconv_ukernel__avx2, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "sse41"
SB_UKERNEL(f32_spconv, sb_f32_spconv_ukernel__sse41, 0, 0)
