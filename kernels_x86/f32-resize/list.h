/* x86 f32-resize kernels (f32-resize/<level>.c from one .inc template, highest level first):
 * SB_UKERNEL(f32_resize_nearest, fn, x_scale (0 = any), 0), SB_UKERNEL(f32_resize_bilinear, fn, 0, 0). */
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx2"
SB_UKERNEL(f32_resize_nearest, sb_f32_resize_nearest_ukernel__avx2_x2, 2, 0)
SB_UKERNEL(f32_resize_nearest, sb_f32_resize_nearest_ukernel__avx2, 0, 0)
SB_UKERNEL(f32_resize_bilinear, sb_f32_resize_bilinear_ukernel__avx2, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "sse41"
SB_UKERNEL(f32_resize_nearest, sb_f32_resize_nearest_ukernel__sse41_x2, 2, 0)
SB_UKERNEL(f32_resize_nearest, sb_f32_resize_nearest_ukernel__sse41, 0, 0)
SB_UKERNEL(f32_resize_bilinear, sb_f32_resize_bilinear_ukernel__sse41, 0, 0)
