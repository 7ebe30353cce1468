/* x86 f32-vbinary kernels (f32-vbinary/<level>.c from one .inc template, highest level first): SB_UKERNEL(f32_vadd |
 * f32_vmul | f32_vaddc | f32_vmulc | f32_vmaxc | f32_vminc | f32_vpreluc, fn, 0, 0). */
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "avx2"
SB_UKERNEL(f32_vadd, sb_f32_vadd_ukernel__avx2, 0, 0)
SB_UKERNEL(f32_vmul, sb_f32_vmul_ukernel__avx2, 0, 0)
SB_UKERNEL(f32_vaddc, sb_f32_vaddc_ukernel__avx2, 0, 0)
SB_UKERNEL(f32_vmulc, sb_f32_vmulc_ukernel__avx2, 0, 0)
SB_UKERNEL(f32_vmaxc, sb_f32_vmaxc_ukernel__avx2, 0, 0)
SB_UKERNEL(f32_vminc, sb_f32_vminc_ukernel__avx2, 0, 0)
SB_UKERNEL(f32_vpreluc, sb_f32_vpreluc_ukernel__avx2, 0, 0)
#undef SB_LIST_ARCH
#define SB_LIST_ARCH "sse41"
SB_UKERNEL(f32_vadd, sb_f32_vadd_ukernel__sse41, 0, 0)
SB_UKERNEL(f32_vmul, sb_f32_vmul_ukernel__sse41, 0, 0)
SB_UKERNEL(f32_vaddc, sb_f32_vaddc_ukernel__sse41, 0, 0)
SB_UKERNEL(f32_vmulc, sb_f32_vmulc_ukernel__sse41, 0, 0)
SB_UKERNEL(f32_vmaxc, sb_f32_vmaxc_ukernel__sse41, 0, 0)
SB_UKERNEL(f32_vminc, sb_f32_vminc_ukernel__sse41, 0, 0)
SB_UKERNEL(f32_vpreluc, sb_f32_vpreluc_ukernel__sse41, 0, 0)
