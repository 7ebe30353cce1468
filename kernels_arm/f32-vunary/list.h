/* NEON f32-vunary kernels: SB_UKERNEL(f32_vact, fn, 0, 0) and SB_UKERNEL(f32_affine, fn, 0, 0). */
SB_UKERNEL(f32_vact, sb_f32_vact_ukernel__neon, 0, 0)
SB_UKERNEL(f32_affine, sb_f32_affine_ukernel__neon, 0, 0)
