/* f32-softmax scalar kernels: SB_UKERNEL(f32_softmax, fn, 0, 0). */
SB_UKERNEL(f32_softmax, sb_f32_softmax_ukernel__scalar, 0, 0)
