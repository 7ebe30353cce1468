/* x86-64 kernel choice (choice.h). One table for every ISA level: within a family the AVX-512 rules come first,
 * then AVX2+FMA, then SSE4.1, and the choice walk (engine/kernels/config/scalar.c) skips any rule whose kernel's
 * level is above the active one (registry.h: the CPU's best, or SPARSEBYTE_KERNELS), so the first rule of a level
 * the CPU runs wins. Figures: benchmarks/kernels (ns/MAC on the build machine, docs/x86.md). */
#include "choice.h"

#define SB_REGISTRY_DECLARE_ONLY
#include "registry_lists.inc"

static const sb_kernel_rule rules[] = {
    /* ---- X1: f32-spmm, f32-gemm, f32-conv, f32-spconv ---- */
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx512_g1_64x, 1, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx512_g2_64x, 2, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx512_g4_64x, 4, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx512_g8_32x, 8, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx2_g1_32x, 1, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx2_g2_32x, 2, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx2_g4_24x, 4, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__avx2_g8_8x, 8, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__sse41_g1_16x, 1, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__sse41_g2_16x, 2, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__sse41_g4_8x, 4, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__sse41_g8_4x, 8, 0, 0, 0, 0, 0),
    SB_RULE(F32_GEMM, sb_f32_gemm_ukernel__avx512_8x32, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_GEMM, sb_f32_gemm_ukernel__avx2_6x16, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_GEMM, sb_f32_gemm_ukernel__sse41_4x8, 0, 0, 0, 0, 0, 0),
    /* Dense kxk convs (stems) and kernel-level sparse convs: im2col panels of output pixels through the gemm and
     * spmm templates. */
    SB_RULE(F32_CONV, sb_f32_conv_ukernel__avx512, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_CONV, sb_f32_conv_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_CONV, sb_f32_conv_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPCONV, sb_f32_spconv_ukernel__avx512, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPCONV, sb_f32_spconv_ukernel__avx2, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPCONV, sb_f32_spconv_ukernel__sse41, 0, 0, 0, 0, 0, 0),
    /* ---- end X1 ---- */

    /* ---- X2: dwconv, vbinary, vunary, gavgpool, pool, resize, transpose, softmax, layernorm ---- */
    /* ---- end X2 ---- */
};

const sb_kernel_rule* const sb_kernel_rules = rules;
const size_t sb_kernel_rule_count = sizeof rules / sizeof rules[0];
/* Dense kxk conv through im2col + f32-gemm from this many inputs per output (Cin*kh*kw; conv.c); 0 = never. */
const int32_t sb_conv_im2col_min_inputs = 0;
const int32_t sb_conv_im2col_max_direct_in_c = 0;
