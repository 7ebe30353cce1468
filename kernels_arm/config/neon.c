/* NEON kernel choice (choice.h): the first rule of a family that matches a node picks its kernel. Figures are
 * benchmarks/kernels results (kernels_arm/README.md, "Microkernel benchmark"): aarch64 instructions per MAC under
 * qemu-aarch64, which are deterministic. */
#include "choice.h"

#define SB_REGISTRY_DECLARE_ONLY
#include "registry_lists.inc"

static const sb_kernel_rule rules[] = {
    /* SpMM, one kernel per G except G=8 (figures: insn/MAC, MAC-weighted over the 90 cases of a G: 30 MobileNet
     * 1x1/FC shapes x 50/70/90%). G=1: 0.620 (g1_16x, deleted: 0.778; tie on FC). G=2: 0.586. G=4: 0.406 (g4_8x,
     * deleted: 0.510; 0.1% better on FC only). */
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g1_32x, 1, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g2_16x, 2, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g4_16x, 4, 0, 0, 0, 0, 0),
    /* G=8 by kept inputs per group: up to 16 the 8-pixel tile has fewer instructions (v2 112x112 16->96 at 90%,
     * 2 kept: 1.448 vs 1.638; 16 kept: 0.477 vs 0.480), from 19 on the 12-pixel tile (19: tie; 26: 0.414 vs 0.420;
     * 512: 0.335 vs 0.357). Every one of the 90 G=8 cases follows this split. */
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g8_8x, 8, 0, 0, 0, 0, 18),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g8_12x, 8, 0, 0, 0, 0, 0),
    /* Dense 1x1: 4x16 on every MobileNet 1x1 layer (0.315-0.425 insn/MAC; the 8x8 tile, deleted, took 8-10% more on
     * each, e.g. v2 112x112 16->96 0.457 vs 0.425; FC: the same dot-product path in both, 1.240 vs 1.244). An
     * earlier run had 8x8 ahead for Cin <= 32: that was with the lane-by-lane activation fallback inlined into every
     * tile epilogue, which made gcc compile the 4x16 loops worse (kernels_arm/common/neon.h keeps it out of line). */
    SB_RULE(F32_GEMM, sb_f32_gemm_ukernel__neon_4x16, 0, 0, 0, 0, 0, 0),
    /* One NEON kernel per remaining family and param set; each far below scalar (insn/MAC over their cases):
     * stem conv 0.895 vs 22.5, spconv 0.890 vs 24.3, dwconv 3x3s1 0.744 and 3x3s2 1.534 vs 21.8, gavgpool 1.31
     * vs 4.21, per element vadd 2.38 vs 19.0, vaddc 2.58 vs 17.5, vact 1.75 vs 13.5, affine 2.83 vs 19.6. 5x5
     * depthwise is not in the MobileNets; the kernels follow the 3x3 ones (same code, wider taps). */
    SB_RULE(F32_CONV, sb_f32_conv_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__neon_3x3s1, 3, 1, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__neon_3x3s2, 3, 2, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__neon_5x5s1, 5, 1, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__neon_5x5s2, 5, 2, 0, 0, 0, 0),
    SB_RULE(F32_SPCONV, sb_f32_spconv_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_GAVGPOOL, sb_f32_gavgpool_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VADD, sb_f32_vadd_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMUL, sb_f32_vmul_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VADDC, sb_f32_vaddc_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMULC, sb_f32_vmulc_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VACT, sb_f32_vact_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_AFFINE, sb_f32_affine_ukernel__neon, 0, 0, 0, 0, 0, 0),
};

const sb_kernel_rule* const sb_kernel_rules = rules;
const size_t sb_kernel_rule_count = sizeof rules / sizeof rules[0];
