/* x86-64 kernel choice (choice.h). One table for every ISA level: within a family the AVX-512 rules come first,
 * then AVX2+FMA, then SSE4.1, and the choice walk (engine/kernels/config/scalar.c) skips any rule whose kernel's
 * level is above the active one (registry.h: the CPU's best, or SPARSEBYTE_KERNELS), so the first rule of a level
 * the CPU runs wins. Figures: benchmarks/kernels (ns/MAC on the build machine, docs/x86.md). */
#include "choice.h"

#define SB_REGISTRY_DECLARE_ONLY
#include "registry_lists.inc"

static const sb_kernel_rule rules[] = {
    /* ---- X1: f32-spmm, f32-gemm, f32-conv, f32-spconv ---- */
    /* SpMM (benchmarks/kernels --targets x86, ns/MAC MAC-weighted over 90 MobileNet 1x1/FC cases per G at
     * 50/70/90%, load ~14 on 2 cores so per-case figures are noisy; docs/x86.md): G1 avx512_64x 0.121 (best in 43
     * cases) vs avx2 0.135; G2 avx512 0.058 (59) vs avx2 0.053 (25); G4 avx512_48x 0.028 (best in 75 of 90, 07:55 UTC
     * load ~10, with the one-vector remainder) vs avx512_32x (8, deleted), avx2_24x (1; 0.036 in 83 before
     * avx512_48x existed; it had beaten avx512_64x 0.144 vs 0.267 before the unrolled template), sse41_8x (6); G8
     * avx512_32x 0.037 (74) vs avx2_8x 0.040; SSE4.1 0.08-0.14; scalar 2.4. */
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx512_g1_64x, 1, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx512_g2_64x, 2, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx512_g4_48x, 4, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx512_g8_32x, 8, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx2_g1_32x, 1, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx2_g2_32x, 2, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx2_g4_24x, 4, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx2_g8_8x, 8, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__sse41_g1_16x, 1, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__sse41_g2_16x, 2, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__sse41_g4_8x, 4, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__sse41_g8_4x, 8, 0, 0, 0, 0, 0),
    /* Dense 1x1/FC/MatMul, 60 cases: avx512_8x32 0.023 ns/MAC (best in 37), avx2_6x16 0.023 (23), sse41 0.070. */
    SB_RULE(F32_GEMM, sb_f32_gemm_ukernel__avx512_8x32, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_GEMM, sb_f32_gemm_ukernel__avx2_6x16, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_GEMM, sb_f32_gemm_ukernel__sse41_4x8, 0, 0, 0, 0, 0, 0),
    /* Dense kxk convs (stems) and kernel-level sparse convs: im2col panels of output pixels through the gemm and
     * spmm templates (f32-conv, 12 cases: avx512 0.099 ns/MAC, avx2 0.116, sse41 0.229, scalar 2.57). */
    SB_RULE(F32_CONV, sb_f32_conv_ukernel__avx512, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_CONV, sb_f32_conv_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_CONV, sb_f32_conv_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPCONV, sb_f32_spconv_ukernel__avx512, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPCONV, sb_f32_spconv_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPCONV, sb_f32_spconv_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    /* ---- end X1 ---- */

    /* ---- X2: dwconv, vbinary, vunary, gavgpool, pool, resize, transpose, softmax, layernorm ---- */
    /* AVX-512 only where it measured faster than AVX2 (ns per MAC or element, best of 15, AMD EPYC Zen4, load ~11;
     * the AVX2 rules below serve the AVX-512 level elsewhere): vact sigmoid 0.33 vs 0.47, GELU 1.08 vs 1.63 (clamps,
     * hardswish equal), layernorm 1024x96 0.233 vs 0.258. Not faster, so not registered: dwconv 3x3s1 56x56x144
     * 0.059 vs 0.055, 7x7x960 0.273 vs 0.227, 3x3s2 28x28x256 0.183 vs 0.181 (the row ring's 16-wide vectors waste
     * lanes on 7- and 14-wide rows); vadd 0.133 vs 0.128, affine 0.092 vs 0.087, softmax 1024x64 0.93 vs 0.74 (40x4000
     * 0.45 vs 0.58), gavgpool 1280x49 0.061 vs 0.051. dwconv vs scalar: 3x3s1 0.045-0.23 vs 1.0-2.1 ns/MAC (AVX2),
     * 0.10-0.26 (SSE4.1); 3x3s2 0.10-0.18 vs 1.06. */
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__avx2_3x3s1, 3, 1, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__avx2_3x3s2, 3, 2, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__avx2_5x5s1, 5, 1, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__avx2_5x5s2, 5, 2, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__avx2_7x7s1, 7, 1, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__avx2_any, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__sse41_3x3s1, 3, 1, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__sse41_3x3s2, 3, 2, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__sse41_5x5s1, 5, 1, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__sse41_5x5s2, 5, 2, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__sse41_7x7s1, 7, 1, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__sse41_any, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_GAVGPOOL, sb_f32_gavgpool_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_GAVGPOOL, sb_f32_gavgpool_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_MAXPOOL, sb_f32_maxpool_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_MAXPOOL, sb_f32_maxpool_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_AVGPOOL, sb_f32_avgpool_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_AVGPOOL, sb_f32_avgpool_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VADD, sb_f32_vadd_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VADD, sb_f32_vadd_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMUL, sb_f32_vmul_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMUL, sb_f32_vmul_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VADDC, sb_f32_vaddc_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VADDC, sb_f32_vaddc_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMULC, sb_f32_vmulc_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMULC, sb_f32_vmulc_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMAXC, sb_f32_vmaxc_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMAXC, sb_f32_vmaxc_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMINC, sb_f32_vminc_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMINC, sb_f32_vminc_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VPRELUC, sb_f32_vpreluc_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VPRELUC, sb_f32_vpreluc_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VACT, sb_f32_vact_ukernel__avx512, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VACT, sb_f32_vact_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VACT, sb_f32_vact_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_AFFINE, sb_f32_affine_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_AFFINE, sb_f32_affine_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_LAYERNORM, sb_f32_layernorm_ukernel__avx512, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_LAYERNORM, sb_f32_layernorm_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_LAYERNORM, sb_f32_layernorm_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_SOFTMAX, sb_f32_softmax_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_SOFTMAX, sb_f32_softmax_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_RESIZE_BILINEAR, sb_f32_resize_bilinear_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_RESIZE_BILINEAR, sb_f32_resize_bilinear_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_RESIZE_NEAREST, sb_f32_resize_nearest_ukernel__avx2_x2, 2, 0, 0, 0, 0, 0),
    SB_RULE(F32_RESIZE_NEAREST, sb_f32_resize_nearest_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_RESIZE_NEAREST, sb_f32_resize_nearest_ukernel__sse41_x2, 2, 0, 0, 0, 0, 0),
    SB_RULE(F32_RESIZE_NEAREST, sb_f32_resize_nearest_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_TRANSPOSE, sb_f32_transpose_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_TRANSPOSE, sb_f32_transpose_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    /* ---- end X2 ---- */
};

const sb_kernel_rule* const sb_kernel_rules = rules;
const size_t sb_kernel_rule_count = sizeof rules / sizeof rules[0];
/* Dense kxk conv through im2col + f32-gemm from this many inputs per output (Cin*kh*kw; conv.c); 0 = never. */
const int32_t sb_conv_im2col_min_inputs = 0;
const int32_t sb_conv_im2col_max_direct_in_c = 0;
