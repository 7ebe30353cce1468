/* NEON f32-gavgpool kernels: SB_UKERNEL(f32_gavgpool, fn, 0, 0). */
SB_UKERNEL(f32_gavgpool, sb_f32_gavgpool_ukernel__neon, 0, 0)
