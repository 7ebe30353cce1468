/* NEON f32-softmax kernels: SB_UKERNEL(f32_softmax, fn, 0, 0). */
SB_UKERNEL(f32_softmax, sb_f32_softmax_ukernel__neon, 0, 0)
