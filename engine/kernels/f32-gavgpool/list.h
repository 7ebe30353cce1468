/* f32-gavgpool scalar kernels: SB_UKERNEL(f32_gavgpool, fn, 0, 0). */
SB_UKERNEL(f32_gavgpool, sb_f32_gavgpool_ukernel__scalar, 0, 0)
