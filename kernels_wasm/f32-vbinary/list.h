/* f32-vbinary WASM SIMD128 kernels: SB_UKERNEL(f32_vadd | f32_vmul | f32_vaddc | f32_vmulc | f32_vmaxc | f32_vminc |
 * f32_vpreluc, fn, 0, 0). */
SB_UKERNEL(f32_vadd, sb_f32_vadd_ukernel__wasmsimd_x8, 0, 0)
SB_UKERNEL(f32_vmul, sb_f32_vmul_ukernel__wasmsimd_x8, 0, 0)
SB_UKERNEL(f32_vaddc, sb_f32_vaddc_ukernel__wasmsimd_x8, 0, 0)
SB_UKERNEL(f32_vmulc, sb_f32_vmulc_ukernel__wasmsimd_x8, 0, 0)
SB_UKERNEL(f32_vmaxc, sb_f32_vmaxc_ukernel__wasmsimd_x8, 0, 0)
SB_UKERNEL(f32_vminc, sb_f32_vminc_ukernel__wasmsimd_x8, 0, 0)
SB_UKERNEL(f32_vpreluc, sb_f32_vpreluc_ukernel__wasmsimd_x8, 0, 0)
