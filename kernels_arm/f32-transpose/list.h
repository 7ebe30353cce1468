/* NEON f32-transpose kernels: SB_UKERNEL(f32_transpose, fn, 0, 0). */
SB_UKERNEL(f32_transpose, sb_f32_transpose_ukernel__neon, 0, 0)
