/* NEON kernel choice (choice.h): the first rule of a family that matches a node picks its kernel. Figures are
 * benchmarks/kernels results (kernels_arm/README.md, "Microkernel benchmark"): aarch64 instructions per MAC under
 * qemu-aarch64, which are deterministic. */
#include "choice.h"

#define SB_REGISTRY_DECLARE_ONLY
#include "registry_lists.inc"

static const sb_kernel_rule rules[] = {
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g1_32x, 1, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g2_16x, 2, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g4_16x, 4, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g8_8x, 8, 0, 0, 0, 0, 0),
    SB_RULE(F32_GEMM, sb_f32_gemm_ukernel__neon_4x16, 0, 0, 0, 0, 0, 0),
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
