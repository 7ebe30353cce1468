/* x86 f32-vunary kernels (f32-vunary/<level>.c from one .inc template, highest level first): SB_UKERNEL(f32_vact, fn,
 * 0, 0) and SB_UKERNEL(f32_affine, fn, 0, 0). */
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx512"
SB_UKERNEL(f32_vact, sb_f32_vact_ukernel__avx512, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx2"
SB_UKERNEL(f32_vact, sb_f32_vact_ukernel__avx2, 0, 0)
SB_UKERNEL(f32_affine, sb_f32_affine_ukernel__avx2, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "sse41"
SB_UKERNEL(f32_vact, sb_f32_vact_ukernel__sse41, 0, 0)
SB_UKERNEL(f32_affine, sb_f32_affine_ukernel__sse41, 0, 0)
