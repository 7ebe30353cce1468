/* NEON f32-layernorm kernels: SB_UKERNEL(f32_layernorm, fn, 0, 0). */
SB_UKERNEL(f32_layernorm, sb_f32_layernorm_ukernel__neon, 0, 0)
