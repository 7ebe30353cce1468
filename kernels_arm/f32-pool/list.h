/* NEON f32-pool kernels: SB_UKERNEL(f32_maxpool | f32_avgpool, fn, kernel_size (0 = any), stride (0 = any)). */
SB_UKERNEL(f32_maxpool, sb_f32_maxpool_ukernel__neon, 0, 0)
SB_UKERNEL(f32_avgpool, sb_f32_avgpool_ukernel__neon, 0, 0)
