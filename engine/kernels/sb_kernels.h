/* Kernel families: one signature per family, shared by the scalar reference (engine/kernels/<family>/scalar.c),
 * NEON (kernels_arm/<family>/), WASM SIMD128 (kernels_wasm/<family>/) and TVM-generated variants.
 *
 * Layout: activations are NCHW; kernels work on one image (the executor loops over the batch).
 * Threading splits work by output rows (conv families) or pixel ranges (spmm/gemm), never inside a reduction, so
 * results are identical for any thread count.
 *
 * Registry: the families are listed once in families.inc. Each family has a list header per architecture, `list.h`
 * in its directory, with one line per kernel:  SB_UKERNEL(<family>, <function>, <param1>, <param2>)  (see each family
 * below for the params). registry.c gathers the lists; which kernel a node runs is decided by the architecture's
 * choice table (choice.h), with the scalar kernels as the fallback; tests and benchmarks iterate over the same
 * registry. A param of 0 means any; a kernel_size param k means kh == kw == k (3 for 3x3), a stride param s means
 * stride_h == stride_w == s. */
#ifndef SB_KERNELS_H
#define SB_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* ---- activations (fused epilogue of every compute kernel) ---- */
enum {
  SB_ACT_NONE = 0, SB_ACT_CLIP = 1, SB_ACT_HARDSIGMOID = 2, SB_ACT_HARDSWISH = 3, SB_ACT_SIGMOID = 4,
  SB_ACT_LEAKYRELU = 5, SB_ACT_ELU = 6, SB_ACT_SILU = 7, SB_ACT_GELU = 8, SB_ACT_GELU_TANH = 9,
  SB_ACT_SQRT = 10, SB_ACT_EXP = 11, SB_ACT_TANH = 12, SB_ACT_ABS = 13, SB_ACT_NEG = 14, SB_ACT_RECIPROCAL = 15,
  SB_ACT_ERF = 16, SB_ACT_LOG = 17, SB_ACT_SOFTPLUS = 18
};

typedef struct sb_activation {
  int32_t kind;
  float p0, p1; /* CLIP: min, max. HARDSIGMOID: alpha, beta. LEAKYRELU, ELU: alpha. */
} sb_activation;

/* Every kind but NONE and CLIP; sb_activate keeps those two inline so that the switch below, grown large, does not
 * make compilers call sb_activate out of line from the kernels' scalar tails (ReLU/ReLU6 are most layers). */
static inline float sb_activate_other(const sb_activation* a, float x) {
  switch (a->kind) {
    case SB_ACT_HARDSIGMOID: {
      float y = a->p0 * x + a->p1;
      return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
    }
    case SB_ACT_HARDSWISH: {
      float y = x / 6.0f + 0.5f;
      y = y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
      return x * y;
    }
    case SB_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case SB_ACT_LEAKYRELU: return x < 0.0f ? a->p0 * x : x;
    case SB_ACT_ELU: return x < 0.0f ? a->p0 * (expf(x) - 1.0f) : x;
    case SB_ACT_SILU: return x / (1.0f + expf(-x));
    case SB_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case SB_ACT_GELU_TANH: return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case SB_ACT_SQRT: return sqrtf(x);
    case SB_ACT_EXP: return expf(x);
    case SB_ACT_TANH: return tanhf(x);
    case SB_ACT_ABS: return fabsf(x);
    case SB_ACT_NEG: return -x;
    case SB_ACT_RECIPROCAL: return 1.0f / x;
    case SB_ACT_ERF: return erff(x);
    case SB_ACT_LOG: return logf(x);
    case SB_ACT_SOFTPLUS: return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x)); /* no overflow for large x */
    default: return x;
  }
}

static inline float sb_activate(const sb_activation* a, float x) {
  if (a->kind == SB_ACT_CLIP) return x < a->p0 ? a->p0 : (x > a->p1 ? a->p1 : x);
  if (a->kind == SB_ACT_NONE) return x;
  return sb_activate_other(a, x);
}

/* ---- group-sparse weights (docs/format.md, "Group-sparse weights") ---- */
typedef struct sb_sparse_weights {
  int32_t out_channels;      /* Cout */
  int32_t in_channels;       /* Cin */
  int32_t kernel_size;       /* kh*kw (1 for 1x1 conv and FC) */
  int32_t group;             /* G: 1, 2, 4, 8 */
  int32_t num_groups;        /* ceil(Cout / G) */
  const int32_t* nnz;        /* [num_groups] kept input channels per group */
  const int32_t* group_start;/* [num_groups + 1] prefix sums of nnz (derived by the engine at load) */
  const int32_t* index;      /* [T] kept input channel, ascending within a group */
  const float* values;       /* [T][kernel_size][G]; lanes past Cout are zero */
  const float* bias;         /* [Cout]; never NULL (the engine supplies zeros) */
} sb_sparse_weights;

/* ---- conv geometry (one image) ---- */
typedef struct sb_conv_shape {
  int32_t in_c, in_h, in_w;
  int32_t out_c, out_h, out_w;
  int32_t kh, kw;
  int32_t stride_h, stride_w;
  int32_t pad_top, pad_left; /* bottom/right padding is implied by out_h/out_w */
  int32_t dil_h, dil_w;
  int32_t groups;
} sb_conv_shape;

typedef struct sb_pool_shape {
  int32_t channels, in_h, in_w, out_h, out_w;
  int32_t kh, kw, stride_h, stride_w, pad_top, pad_left;
  int32_t count_include_pad;
  int32_t pad_bottom, pad_right; /* the padded extent bounds the count_include_pad divisor */
} sb_pool_shape;

/* f32-spmm: group-sparse 1x1 stride-1 conv and FC.
 *   output[c * plane_stride + p] = act(bias[c] + sum_{j in group(c)} values[j][0][c % G] * input[index[j] * plane_stride + p])
 *   for p in [0, pixels). input/output point at the first pixel of the slice (threads pass offsets).
 * list.h params: SB_UKERNEL(f32_spmm, fn, G, pixel_tile)   -- G must equal w->group (never 0: the scalar list has one
 *   line per G); pixel_tile is informative. */
typedef void sb_f32_spmm_ukernel(size_t pixels, size_t plane_stride, const sb_sparse_weights* w,
                               const float* input, float* output, const sb_activation* act);

/* f32-gemm: dense 1x1 stride-1 conv and FC. weights [out_channels][in_channels], bias [out_channels] never NULL.
 *   output[c * plane_stride + p] = act(bias[c] + sum_i weights[c][i] * input[i * plane_stride + p])
 * list.h params: SB_UKERNEL(f32_gemm, fn, channel_tile, pixel_tile) */
typedef void sb_f32_gemm_ukernel(size_t pixels, size_t plane_stride, size_t out_channels, size_t in_channels,
                               const float* weights, const float* bias, const float* input, float* output,
                               const sb_activation* act);

/* f32-conv: dense conv, any kernel/stride/padding/dilation/groups. weights [out_c][in_c/groups][kh][kw].
 * Computes output rows [oy_begin, oy_end) of every output channel. input [in_c][in_h][in_w], output [out_c][out_h][out_w].
 * list.h params: SB_UKERNEL(f32_conv, fn, kernel_size (0 = any), stride (0 = any)) */
typedef void sb_f32_conv_ukernel(const sb_conv_shape* s, const float* weights, const float* bias,
                               const float* input, float* output, const sb_activation* act,
                               size_t oy_begin, size_t oy_end);

/* f32-dwconv: depthwise conv (groups == in_c == out_c). weights [c][kh][kw]. Same signature as f32-conv.
 * list.h params: SB_UKERNEL(f32_dwconv, fn, kernel_size (kh == kw; 0 = any), stride (0 = any)) */

/* f32-spconv: kernel-level group-sparse kxk conv (groups = 1), any stride/padding, and 1x1 convs that are not
 * stride-1/unpadded. Computes output rows [oy_begin, oy_end).
 * list.h params: SB_UKERNEL(f32_spconv, fn, G (0 = any), kernel_size (0 = any)) */
typedef void sb_f32_spconv_ukernel(const sb_conv_shape* s, const sb_sparse_weights* w, const float* input,
                                 float* output, const sb_activation* act, size_t oy_begin, size_t oy_end);

/* f32-pool: max and average pooling over planes [c_begin, c_end). Windows are clipped to the input; padding never
 * wins a max; an average divides by the clipped window size, or with count_include_pad by the size of the window
 * clipped to the padded input [-pad_top, in_h + pad_bottom) x [-pad_left, in_w + pad_right) (as ONNX/onnxruntime and
 * PyTorch; it is kh*kw except where ceil_mode lets a window run past the end padding). A window holding no input pixel
 * (inconsistent shapes only) gives 0.
 * list.h params: SB_UKERNEL(f32_maxpool | f32_avgpool, fn, kernel_size (0 = any), stride (0 = any)) */
typedef void sb_f32_pool_ukernel(const sb_pool_shape* s, const float* input, float* output, size_t c_begin,
                               size_t c_end);

/* f32-gavgpool: output[c] = mean(input[c][0..pixels)) (0 when pixels == 0).  list.h params: SB_UKERNEL(f32_gavgpool, fn, 0, 0) */
typedef void sb_f32_gavgpool_ukernel(size_t channels, size_t pixels, const float* input, float* output);

/* f32-vbinary: y[i] = act(a[i] op b[i]) (same shape) and y[c][p] = act(a[c][p] op b[c]) (per-channel broadcast;
 * one row with channels 1 is a scalar operand): op add, mul, max, min, or prelu (a < 0 ? a * b : a).
 * Other broadcasts use the engine's generic reference loop.
 * list.h params: SB_UKERNEL(f32_vadd | f32_vmul, fn, 0, 0) and
 * SB_UKERNEL(f32_vaddc | f32_vmulc | f32_vmaxc | f32_vminc | f32_vpreluc, fn, 0, 0) */
typedef void sb_f32_vbinary_ukernel(size_t n, const float* a, const float* b, float* y, const sb_activation* act);
typedef void sb_f32_vbinaryc_ukernel(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                   const sb_activation* act);

/* f32-vunary: y[i] = act(x[i]); f32-affine: y[c][p] = act(x[c][p] * scale[c] + shift[c]).
 * list.h params: SB_UKERNEL(f32_vact, fn, 0, 0), SB_UKERNEL(f32_affine, fn, 0, 0) */
typedef void sb_f32_vunary_ukernel(size_t n, const float* x, float* y, const sb_activation* act);
typedef void sb_f32_affine_ukernel(size_t channels, size_t pixels, const float* x, const float* scale,
                                 const float* shift, float* y, const sb_activation* act);

/* f32-layernorm: `rows` rows of `len` contiguous floats, each normalised over itself (LayerNormalization over the
 * trailing axes): y[r][k] = (x[r][k] - mean_r) / sqrt(var_r + eps) * scale[k] + bias[k] (bias NULL: none), var the
 * biased variance, mean and var in two passes. list.h params: SB_UKERNEL(f32_layernorm, fn, 0, 0) */
typedef void sb_f32_layernorm_ukernel(size_t rows, size_t len, const float* x, const float* scale, const float* bias,
                                      float eps, float* y);

/* f32-softmax: `rows` rows of `len` contiguous floats (Softmax over the last axis), y[r][k] = exp(x[r][k] - max_r) /
 * sum_j exp(x[r][j] - max_r). list.h params: SB_UKERNEL(f32_softmax, fn, 0, 0) */
typedef void sb_f32_softmax_ukernel(size_t rows, size_t len, const float* x, float* y);

/* f32-resize-nearest, f32-resize-bilinear: RESIZE of the last two axes, output rows [oy_begin, oy_end) of one plane
 * (input [in_h][in_w], output [out_h][out_w]) from index/weight tables built at prepare (engine/src/ops/resize.c).
 * Nearest reads y_lo/x_lo only: output[oy][ox] = input[y_lo[oy]][x_lo[ox]]. Bilinear:
 *   output[oy][ox] = sum over (a, b) in {lo, hi}^2 of wy_a[oy] * wx_b[ox] * input[y_a[oy]][x_b[ox]]
 * where x_hi[ox] is x_lo[ox] + 1, or x_lo[ox] when that is the last column (in_w - 1), and likewise for y.
 * list.h params: SB_UKERNEL(f32_resize_nearest, fn, x_scale, 0): x_scale k > 0 only for a kernel that requires
 *   x_lo[ox] == ox / k and out_w == k * in_w (the node offers k when its table is that, else 0; 0 = any table);
 *   SB_UKERNEL(f32_resize_bilinear, fn, 0, 0). */
typedef struct sb_resize_plan {
  int32_t in_h, in_w, out_h, out_w;
  const int32_t *y_lo, *y_hi, *x_lo, *x_hi;
  const float *wy_lo, *wy_hi, *wx_lo, *wx_hi;
} sb_resize_plan;
typedef void sb_f32_resize_ukernel(const sb_resize_plan* p, const float* input, float* output, size_t oy_begin,
                                   size_t oy_end);

/* f32-transpose: the inner 2-D block of a TRANSPOSE whose last two (merged) output axes are swapped input axes:
 *   output[a * out_stride + b] = input[b * in_stride + a]   for a < a_count, b < b_count
 * (input: b_count rows of a_count floats, row stride in_stride >= a_count; output: a_count rows of b_count floats,
 * row stride out_stride >= b_count; positions between rows are not written). NCHW -> NHWC is a_count = H*W,
 * b_count = C; NHWC -> NCHW a_count = C, b_count = H*W; DepthToSpace's inner block a_count = W, b_count = block size.
 * engine/src/ops/transpose.c calls it per outer index; other permutations keep the reference row loop.
 * list.h params: SB_UKERNEL(f32_transpose, fn, 0, 0) */
typedef void sb_f32_transpose_ukernel(size_t a_count, size_t b_count, const float* input, size_t in_stride,
                                      float* output, size_t out_stride);

/* Function types by registry family name (SB_UKERNEL's first argument, families.inc), so that a list line declares
 * its kernel:  #define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
 * (C11 allows repeating a typedef of the same type: sb_f32_spmm_ukernel names itself.) */
#define SB_FAMILY(name, ENUM, dir, type, p1, r1, p2, r2) typedef type sb_##name##_ukernel;
#include "families.inc"
#undef SB_FAMILY

#endif /* SB_KERNELS_H */
