/* f32-transpose scalar kernels: SB_UKERNEL(f32_transpose, fn, 0, 0). */
SB_UKERNEL(f32_transpose, sb_f32_transpose_ukernel__scalar, 0, 0)
