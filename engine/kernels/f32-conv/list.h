/* f32-conv scalar kernels: SB_UKERNEL(f32_conv, fn, kernel_size (0 = any), stride (0 = any)). */
SB_UKERNEL(f32_conv, sb_f32_conv_ukernel__scalar, 0, 0)
