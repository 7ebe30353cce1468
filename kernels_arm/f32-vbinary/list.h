/* NEON f32-vbinary kernels: SB_UKERNEL(f32_vadd | f32_vmul | f32_vaddc | f32_vmulc, fn, 0, 0). */
SB_UKERNEL(f32_vadd, sb_f32_vadd_ukernel__neon, 0, 0)
SB_UKERNEL(f32_vmul, sb_f32_vmul_ukernel__neon, 0, 0)
SB_UKERNEL(f32_vaddc, sb_f32_vaddc_ukernel__neon, 0, 0)
SB_UKERNEL(f32_vmulc, sb_f32_vmulc_ukernel__neon, 0, 0)
