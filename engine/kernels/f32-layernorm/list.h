/* f32-layernorm scalar kernels: SB_UKERNEL(f32_layernorm, fn, 0, 0). */
SB_UKERNEL(f32_layernorm, sb_f32_layernorm_ukernel__scalar, 0, 0)
