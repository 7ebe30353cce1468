/* NEON kernel choice (choice.h): the first rule of a family that matches a node picks its kernel. Figures are
 * benchmarks/kernels results (kernels_arm/README.md, "Microkernel benchmark"): aarch64 instructions per MAC under
 * qemu-aarch64, which are deterministic. */
#include "choice.h"

#define SB_REGISTRY_DECLARE_ONLY
#include "registry_lists.inc"

static const sb_kernel_rule rules[] = {
    /* SpMM, one kernel per G (figures: insn/MAC, MAC-weighted over the 90 cases of a G: 30 MobileNet 1x1/FC shapes
     * x 50/70/90%). G=1: 0.648 (g1_16x, deleted: 0.778 vs 0.620 in the first run; tie on FC). G=2: 0.555.
     * G=4: 0.405 (g4_8x, deleted: 0.510 vs 0.406 in the first run; 0.1% better on FC only). G=8: 0.385 (g8_8x,
     * deleted: 0.419, more on every 1x1 layer, e.g. 2 kept inputs at 112x112 1.460 vs 1.264, 38 kept 0.395 vs
     * 0.363; FC within 0.3%). The first run had g8_8x ahead up to 16 kept inputs; that was with the lane-by-lane
     * activation fallback inlined (kernels_arm/common/neon.h). */
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g1_32x, 1, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g2_16x, 2, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g4_16x, 4, 0, 0, 0, 0, 0),
    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g8_12x, 8, 0, 0, 0, 0, 0),
    /* Dense 1x1: 4x16 on every MobileNet 1x1 layer (0.315-0.425 insn/MAC; the 8x8 tile, deleted, took 8-10% more on
     * each, e.g. v2 112x112 16->96 0.457 vs 0.425; FC: the same dot-product path in both, 1.240 vs 1.244). An
     * earlier run had 8x8 ahead for Cin <= 32: that was with the lane-by-lane activation fallback inlined into every
     * tile epilogue, which made gcc compile the 4x16 loops worse (kernels_arm/common/neon.h keeps it out of line). */
    SB_RULE(F32_GEMM, sb_f32_gemm_ukernel__neon_4x16, 0, 0, 0, 0, 0, 0),
    /* One NEON kernel per remaining family and param set; each far below scalar (insn/MAC over their cases):
     * stem conv 0.883 vs 21.5, spconv 0.885 vs 23.3, dwconv 3x3s1 0.742, 3x3s2 1.526, 5x5s1 0.806 and 5x5s2 1.386
     * (MobileNetV3's 5x5 layers) vs 20.4, gavgpool 1.31 vs 4.21, per element vadd 2.63 vs 15.5, vaddc 3.56 vs
     * 14.5, vact 2.00 vs 12.0, affine 3.82 vs 17.2. */
    SB_RULE(F32_CONV, sb_f32_conv_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__neon_3x3s1, 3, 1, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__neon_3x3s2, 3, 2, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__neon_5x5s1, 5, 1, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__neon_5x5s2, 5, 2, 0, 0, 0, 0),
    SB_RULE(F32_DWCONV, sb_f32_dwconv_ukernel__neon_7x7s1, 7, 1, 0, 0, 0, 0),
    SB_RULE(F32_SPCONV, sb_f32_spconv_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_GAVGPOOL, sb_f32_gavgpool_ukernel__neon, 0, 0, 0, 0, 0, 0),
    /* Max/avg pooling: 4 pixels per vector along the row (stride 1/2), scalar borders and strides > 2. */
    SB_RULE(F32_MAXPOOL, sb_f32_maxpool_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_AVGPOOL, sb_f32_avgpool_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VADD, sb_f32_vadd_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMUL, sb_f32_vmul_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VADDC, sb_f32_vaddc_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMULC, sb_f32_vmulc_ukernel__neon, 0, 0, 0, 0, 0, 0),
    /* Max/min with a scalar, PReLU with a slope per H*W row (benchmarks/kernels v2 shapes, ReLU6): vmaxc 1.95,
     * vpreluc 2.20 insn per element vs 15.7, 16.3 scalar; openwakeword-embedding's 19 Max(x, c) 4.97M -> 0.51M,
     * palm_detection_lite's 26 PReLUs 20.9M -> 4.55M (the generic broadcast loop before). */
    SB_RULE(F32_VMAXC, sb_f32_vmaxc_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VMINC, sb_f32_vminc_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VPRELUC, sb_f32_vpreluc_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_VACT, sb_f32_vact_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_AFFINE, sb_f32_affine_ukernel__neon, 0, 0, 0, 0, 0, 0),
    /* LayerNorm over the last axis, MobileViT-XS-like rows 1024x96, 256x120, 64x144: 4.50, 4.57, 4.26 insn per
     * element vs 25.2 scalar (double sums). Softmax over the last axis, attention rows 4096x256, 1024x64, 256x16
     * and a CTC head's 40x18710: 13.1, 14.9, 22.5, 12.6 vs 46.0-47.2. */
    SB_RULE(F32_LAYERNORM, sb_f32_layernorm_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_SOFTMAX, sb_f32_softmax_ukernel__neon, 0, 0, 0, 0, 0, 0),
    /* Resize and transpose copies (benchmarks/kernels, insn per output element): 2x nearest with the x_scale 2 table
     * (x_lo = ox / 2) zip1/zip2, 0.96 vs 2.35 for the lane-gather kernel and 7.13 scalar (YOLO neck 64x40x40 ->
     * 80x80); any other nearest table (3x: 2.00 vs 7.18); bilinear 8.12 vs 23.26 (2x, half-pixel and
     * align-corners, 64x28x28), 6.56 vs 23.06 (DeepLab 8x to 224x224); transpose 1.50-1.56 vs 5.0-5.1 (NCHW<->NHWC,
     * 64 channels at 56x56), 0.58-0.67 vs 5.0-8.0 (3 channels: ld3/st3), 1.54 vs 9.97 (DepthToSpace block 2). */
    SB_RULE(F32_RESIZE_NEAREST, sb_f32_resize_nearest_ukernel__neon_x2, 2, 0, 0, 0, 0, 0),
    SB_RULE(F32_RESIZE_NEAREST, sb_f32_resize_nearest_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_RESIZE_BILINEAR, sb_f32_resize_bilinear_ukernel__neon, 0, 0, 0, 0, 0, 0),
    SB_RULE(F32_TRANSPOSE, sb_f32_transpose_ukernel__neon, 0, 0, 0, 0, 0, 0),
};

const sb_kernel_rule* const sb_kernel_rules = rules;
const size_t sb_kernel_rule_count = sizeof rules / sizeof rules[0];
/* Dense kxk conv through im2col + f32-gemm from this many inputs per output (Cin*kh*kw; conv.c). benchmarks/kernels,
 * dense: cases (UNet/YOLOv8n 3x3, Cin 4..128): f32-conv 0.59-1.18 insn/MAC, f32-gemm on the im2col tile 0.31-0.36;
 * whole models under qemu: unet_small 420.9M -> 238.9M, nudenet-320n 998.3M -> 313.4M instructions. */
const int32_t sb_conv_im2col_min_inputs = 64;
/* Cin <= 4 stays direct (f32-conv's few-input-channel path): BlazeFace's 5x5/2 3->24 stem on 128x128, 3.43M aarch64
 * instructions vs 4.43M through im2col + gemm. */
const int32_t sb_conv_im2col_max_direct_in_c = 4;
