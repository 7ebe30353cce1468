/* Naive references for the kernel tests, in double precision and written from docs/format.md and sb_kernels.h
 * (not from engine/kernels): dense conv and gemm, random group-sparse weights with their densified form, conv shape
 * helpers and the conv output check (rows in range against the reference, rows outside untouched). */
#ifndef SB_KERNEL_ORACLE_H
#define SB_KERNEL_ORACLE_H

#include "harness.h"

/* Group-sparse weights with the arrays they point into, plus the dense equivalent W[Cout][Cin][kernel_size]. */
typedef struct sparse_buffers {
  sb_sparse_weights w;
  int32_t* nnz;
  int32_t* group_start;
  int32_t* index;
  float* values;
  float* bias;
  float* dense;
} sparse_buffers;

/* Keeps each (group, input channel) pair with probability `density`; each group is forced empty with probability
 * `empty_group_prob`. */
void make_sparse(rng* r, int32_t cout, int32_t cin, int32_t kernel_size, int32_t group, double density,
                 double empty_group_prob, sparse_buffers* out);
void free_sparse(sparse_buffers* b);

/* ref[c * pixels + p] = bias[c] + sum_i w[c][i] * input[i * plane_stride + p]; mag = |bias| + sum |terms|. */
void oracle_gemm(size_t pixels, size_t plane_stride, size_t cout, size_t cin, const float* w, const float* bias,
                 const float* input, double* ref, double* mag);

/* Dense conv, weights [out_c][in_c/groups][kh][kw]; ref/mag [out_c][out_h][out_w]. */
void oracle_conv(const sb_conv_shape* s, const float* w, const float* bias, const float* input, double* ref,
                 double* mag);

/* Fills out_h/out_w from the input size, kernel, stride, dilation, pad_top/left and the given bottom/right padding.
 * Returns 0 when the output would be empty. */
int conv_shape_finish(sb_conv_shape* s, int32_t pad_bottom, int32_t pad_right);
/* A random conv shape. k > 0 / stride > 0 fix them; depthwise forces groups = in_c = out_c. */
sb_conv_shape random_conv_shape(rng* r, int32_t k, int32_t stride, int depthwise, int allow_groups, int quick);
const char* conv_shape_label(const sb_conv_shape* s);

/* A listed conv case: geometry with explicit bottom/right padding and one dilation for both axes. */
typedef struct conv_case {
  int32_t in_c, in_h, in_w, out_c, kh, kw, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, dil, groups;
} conv_case;
sb_conv_shape conv_case_shape(const conv_case* cc);
/* Whether a kernel registered with (kernel_size, stride) params (0 = any) accepts the shape: kh == kw == kernel_size,
 * stride_h == stride_w == stride. */
int conv_params_fit(const sb_conv_shape* s, int32_t kernel_size, int32_t stride);

/* Checks a [channels][plane_stride] output whose planes were written at [offset, offset + pixels): the slice matches
 * act(ref[c * pixels + p]), the rest of each plane and the guard hold the sentinel. */
void check_slice_output(checker* c, const sb_activation* act, const float* out, const double* ref, const double* mag,
                        size_t channels, size_t pixels, size_t plane_stride, size_t offset);

/* Output rows of one conv case: the whole range in one call, in uneven chunks, or one sub-range (rows outside it
 * must stay untouched). Decided by `mode` (0, 1, 2) and r. */
typedef struct row_split {
  size_t count;
  size_t begin[4], end[4];
} row_split;
row_split make_row_split(rng* r, int mode, size_t out_h);

/* Checks `out` (out_c*out_h*out_w + guard) against act(ref): rows covered by `split` match, others hold the
 * sentinel, and the guard after the buffer is intact. */
void check_conv_output(checker* c, const sb_conv_shape* s, const sb_activation* act, const float* out,
                       const double* ref, const double* mag, const row_split* split);

#endif /* SB_KERNEL_ORACLE_H */
