/* NEON f32-resize kernels: SB_UKERNEL(f32_resize_nearest, fn, x_scale (0 = any), 0), SB_UKERNEL(f32_resize_bilinear,
 * fn, 0, 0). */
SB_UKERNEL(f32_resize_nearest, sb_f32_resize_nearest_ukernel__neon_x2, 2, 0)
SB_UKERNEL(f32_resize_nearest, sb_f32_resize_nearest_ukernel__neon, 0, 0)
SB_UKERNEL(f32_resize_bilinear, sb_f32_resize_bilinear_ukernel__neon, 0, 0)
