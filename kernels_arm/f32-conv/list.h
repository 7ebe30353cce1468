/* NEON f32-conv kernels: SB_UKERNEL(f32_conv, fn, kernel_size (0 = any), stride (0 = any)). */
SB_UKERNEL(f32_conv, sb_f32_conv_ukernel__neon, 0, 0)
