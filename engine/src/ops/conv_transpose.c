/* CONV_TRANSPOSE: the gradient of a 2-D convolution, y[n,co,oy,ox] = b[co] + sum over ci of co's group, ky, kx of
 * x[n,ci,iy,ix] * w[ci,co',ky,kx] where oy + pad_top = iy * stride_h + ky * dilation_h (ox alike). The portable
 * reference gathers per output pixel (no scatter, so (n, co) planes run in parallel without races) over the
 * (kernel, input) index pairs that reach each output row and column, listed once at prepare (H * kh row pairs in
 * all), so the work is exactly the MACs even for large strides. The node's activation is fused.
 * SIMD builds run GEMM + col2im instead: per group, col[co][ky][kx][H*W] = W^T x through the f32-gemm kernel (the
 * weights packed [co][ky][kx][ci] at load), then each output plane is the bias plus the strided sum of its kh*kw
 * col rows (kernels_arm/README.md, "ConvTranspose"). With one input channel per group (depthwise) the col rows are
 * weight times input plane: col2im reads the input directly, no GEMM. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* For each output index o of one axis, taps[first[o] .. first[o + 1]) are its (kernel index, input index) pairs. */
typedef struct tap_list {
  int32_t* first;
  int32_t* taps; /* pairs: k, i */
} tap_list;

typedef struct conv_transpose_state {
  int32_t n, cin, h, w, cout, oh, ow, kh, kw, groups;
  const float* weights;
  const float* bias;
  tap_list rows, cols; /* in one allocation, n->owned[1] */
  /* GEMM + col2im (NULL gemm: the reference gather); packed, zeros and col live in n->owned[1] before the taps */
  sb_f32_gemm_ukernel* gemm;
  float* packed; /* [groups][cout_g][kh][kw][cin_g] */
  float* zeros;  /* [cout * kh * kw] the GEMM's bias */
  float* col;    /* [cout][kh][kw][h * w] one image */
  sb_f32_vunary_ukernel* act_fn; /* the node's activation over an output plane (f32-vact; SIMD builds) */
  int32_t sh, sw, pt, pl, dh, dw;
} conv_transpose_state;

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* Number of (k, i) pairs with o + pad = i * stride + k * dilation, 0 <= o < out, 0 <= i < in: per k, the i of an
 * interval (closed form, so hostile sizes cost O(k) here). */
static size_t count_taps(int32_t in, int32_t k, int32_t stride, int32_t pad, int32_t dil, int32_t out) {
  size_t total = 0;
  for (int32_t kk = 0; kk < k; kk++) {
    int64_t shift = (int64_t)kk * dil - pad; /* o = i * stride + shift */
    int64_t lo = -floor_div(shift, stride), hi = floor_div((int64_t)out - 1 - shift, stride);
    if (lo < 0) lo = 0;
    if (hi > in - 1) hi = in - 1;
    if (hi >= lo) total += (size_t)(hi - lo + 1);
  }
  return total;
}

static void fill_taps(tap_list* t, int32_t in, int32_t k, int32_t stride, int32_t pad, int32_t dil, int32_t out) {
  int32_t used = 0;
  for (int32_t o = 0; o < out; o++) {
    t->first[o] = used;
    for (int32_t kk = 0; kk < k; kk++) {
      int64_t v = (int64_t)o + pad - (int64_t)kk * dil;
      if (v < 0 || v % stride) continue;
      int64_t i = v / stride;
      if (i >= in) continue;
      t->taps[2 * used] = kk;
      t->taps[2 * used + 1] = (int32_t)i;
      used++;
    }
  }
  t->first[out] = used;
}

static int32_t out_size(int32_t size, int32_t k, int32_t stride, int32_t pb, int32_t pe, int32_t d, int32_t op) {
  int64_t v = (int64_t)(size - 1) * stride - pb - pe + (int64_t)d * (k - 1) + op + 1;
  return v < 1 || v > SB_MAX_DIM ? -1 : (int32_t)v;
}

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", 4);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const sb_tensor* w = sb_input(m, n, 1);
  const int32_t kh = sb_attr_conv_transpose_kh(n), kw = sb_attr_conv_transpose_kw(n);
  const int32_t sh = sb_attr_conv_transpose_stride_h(n), sw = sb_attr_conv_transpose_stride_w(n);
  const int32_t dh = sb_attr_conv_transpose_dilation_h(n), dw = sb_attr_conv_transpose_dilation_w(n);
  const int32_t groups = sb_attr_conv_transpose_groups(n);
  const int32_t pt = sb_attr_conv_transpose_pad_top(n), pl = sb_attr_conv_transpose_pad_left(n);
  const int32_t pb = sb_attr_conv_transpose_pad_bottom(n), pr = sb_attr_conv_transpose_pad_right(n);
  const int32_t oph = sb_attr_conv_transpose_output_pad_h(n), opw = sb_attr_conv_transpose_output_pad_w(n);
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || groups < 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "kernel %dx%d, strides %dx%d, dilations %dx%d and groups %d must be >= 1", kh,
                        kw, sh, sw, dh, dw, groups);
  if (pt < 0 || pl < 0 || pb < 0 || pr < 0)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "pads [%d,%d,%d,%d] must be >= 0", pt, pl, pb, pr);
  if (oph < 0 || opw < 0 || oph >= sh || opw >= sw)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output padding %dx%d must be >= 0 and smaller than the strides %dx%d", oph,
                        opw, sh, sw);
  const int32_t cin = x->dims[1];
  if (cin % groups)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input '%s' has %d channels, not a multiple of groups %d", x->name, cin,
                        groups);
  if (w->rank != 4 || w->dims[0] != cin)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "weight '%s' must be [Cin=%d, Cout/groups, %d, %d]", w->name, cin, kh, kw);
  const int32_t cout = w->dims[1] * groups;
  const int32_t wdims[4] = {cin, w->dims[1], kh, kw};
  if ((st = sb_check_constant(m, n, 1, "W", SB_DTYPE_F32, 4, wdims)) != SB_OK) return st;
  const int32_t oh = out_size(x->dims[2], kh, sh, pt, pb, dh, oph), ow = out_size(x->dims[3], kw, sw, pl, pr, dw, opw);
  if (oh < 0 || ow < 0)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "pads [%d,%d,%d,%d] leave no output of input '%s'", pt, pl, pb, pr,
                        x->name);
  const int32_t out_dims[4] = {x->dims[0], cout, oh, ow};
  if ((st = sb_check_output(m, n, 4, out_dims)) != SB_OK) return st;
  conv_transpose_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  if ((st = sb_bias_or_zeros(m, n, 2, cout, &s->bias, (float**)&n->owned[0])) != SB_OK) return st;
  *s = (conv_transpose_state){x->dims[0], cin, x->dims[2], x->dims[3], cout, oh, ow, kh, kw, groups,
                              sb_f32(w), s->bias, {0}, {0}, NULL, NULL, NULL, NULL, NULL, sh, sw, pt, pl, dh, dw};
  const size_t row_taps = count_taps(s->h, kh, sh, pt, dh, oh), col_taps = count_taps(s->w, kw, sw, pl, dw, ow);
  const size_t k_size = (size_t)kh * kw, cin_g = (size_t)(cin / groups), plane = (size_t)s->h * s->w;
  const sb_kernel_shape ks = {0, 0, (int64_t)plane, (int32_t)cin_g, (int32_t)((size_t)(cout / groups) * k_size),
                              s->w, 0};
  const sb_kernel_entry* k = sb_pick_kernel(SB_FAMILY_F32_GEMM, ks, n);
  if (!k) return SB_ERR_UNSUPPORTED;
  const int use_gemm = strcmp(k->arch, "scalar") != 0; /* the scalar GEMM is no faster than the gather */
  const size_t floats = use_gemm ? (size_t)cout * k_size * (cin_g + 1 + (cin_g > 1 ? plane : 0)) : 0;
  float* block_f = malloc(floats * sizeof(float) +
                          ((size_t)oh + 1 + (size_t)ow + 1 + 2 * (row_taps + col_taps)) * sizeof(int32_t));
  if (!block_f) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->owned[1] = block_f;
  int32_t* block = (int32_t*)(block_f + floats);
  s->rows = (tap_list){block, block + oh + 1};
  s->cols = (tap_list){block + oh + 1 + 2 * row_taps, block + oh + 1 + 2 * row_taps + ow + 1};
  fill_taps(&s->rows, s->h, kh, sh, pt, dh, oh);
  fill_taps(&s->cols, s->w, kw, sw, pl, dw, ow);
  n->macs = (int64_t)x->dims[0] * cout * (int64_t)row_taps * (int64_t)col_taps * (cin / groups);
  n->dense_macs = n->macs;
  n->kernel_name = "ref_conv_transpose";
  if (use_gemm) {
    /* the fused activation through f32-vact, not one scalar call per pixel (selfie_segmentation's sigmoid over its
     * 256x256 output: most of the node's 0.58 ms in node) */
    const sb_kernel_entry* a = sb_pick_kernel(SB_FAMILY_F32_VACT, sb_kernel_shape_params(0, 0), n);
    if (!a) return SB_ERR_UNSUPPORTED;
    s->act_fn = (sb_f32_vunary_ukernel*)a->fn;
    s->gemm = (sb_f32_gemm_ukernel*)k->fn;
    s->packed = block_f;
    s->zeros = s->packed + (size_t)cout * k_size * cin_g;
    s->col = s->zeros + (size_t)cout * k_size;
    memset(s->zeros, 0, (size_t)cout * k_size * sizeof(float));
    const size_t cout_g = (size_t)(cout / groups);
    for (size_t g = 0; g < (size_t)groups; g++)
      for (size_t ci = 0; ci < cin_g; ci++)
        for (size_t co = 0; co < cout_g; co++)
          for (size_t kk = 0; kk < k_size; kk++)
            s->packed[(((g * cout_g + co) * k_size + kk) * cin_g) + ci] =
                s->weights[((g * cin_g + ci) * cout_g + co) * k_size + kk];
    n->kernel_name = k->name;
  }
  return SB_OK;
}

typedef struct conv_transpose_job {
  const sb_activation* act;
  const conv_transpose_state* s;
  const float* x;
  float* y;
} conv_transpose_job;

/* Output planes [begin, end) of the n*cout (image, output channel) planes. */
static void run_planes(void* ctx, size_t begin, size_t end) {
  const conv_transpose_job* j = ctx;
  const conv_transpose_state* s = j->s;
  const int32_t cin_g = s->cin / s->groups, cout_g = s->cout / s->groups;
  const size_t in_plane = (size_t)s->h * (size_t)s->w, k_size = (size_t)s->kh * (size_t)s->kw;
  for (size_t p = begin; p < end; p++) {
    const int32_t img = (int32_t)(p / (size_t)s->cout), co = (int32_t)(p % (size_t)s->cout);
    const int32_t g = co / cout_g, co_g = co % cout_g;
    float* y = j->y + p * (size_t)s->oh * (size_t)s->ow;
    for (int32_t oy = 0; oy < s->oh; oy++) {
      for (int32_t ox = 0; ox < s->ow; ox++) {
        float acc = s->bias[co];
        for (int32_t r = s->rows.first[oy]; r < s->rows.first[oy + 1]; r++) {
          const int32_t ky = s->rows.taps[2 * r], iy = s->rows.taps[2 * r + 1];
          for (int32_t c = s->cols.first[ox]; c < s->cols.first[ox + 1]; c++) {
            const int32_t kx = s->cols.taps[2 * c], ix = s->cols.taps[2 * c + 1];
            const float* xp = j->x + ((size_t)img * s->cin + (size_t)g * cin_g) * in_plane + (size_t)iy * s->w + ix;
            const float* wp = s->weights + (((size_t)g * cin_g) * cout_g + co_g) * k_size + (size_t)ky * s->kw + kx;
            for (int32_t ci = 0; ci < cin_g; ci++) acc += xp[ci * in_plane] * wp[(size_t)ci * cout_g * k_size];
          }
        }
        y[(size_t)oy * s->ow + ox] = sb_activate(j->act, acc);
      }
    }
  }
}

/* Output channels per GEMM unit: a multiple of 4 rows (kh*kw per channel), so the kernel's 4-row tiles fall on the
 * same rows for any thread count. */
static size_t unit_channels(const conv_transpose_state* s) {
  const size_t k = (size_t)s->kh * s->kw;
  return k % 4 == 0 ? 1 : k % 2 == 0 ? 2 : 4;
}

/* col2im of output channel co of one image: bias, plus each (ky, kx) col row added at its strided positions; with
 * one input channel per group the row is w[co][ky][kx] times the group's input plane x. */
static void col2im_plane(const conv_transpose_state* s, size_t co, const float* x, float* y,
                         const sb_activation* act) {
  const size_t plane = (size_t)s->h * s->w, out_plane = (size_t)s->oh * s->ow;
  const int direct = s->cin == s->groups;
  for (size_t i = 0; i < out_plane; i++) y[i] = s->bias[co];
  for (int32_t ky = 0; ky < s->kh; ky++) {
    for (int32_t kx = 0; kx < s->kw; kx++) {
      const size_t row = (co * (size_t)s->kh + (size_t)ky) * s->kw + (size_t)kx;
      const float* c = direct ? x + co / (size_t)(s->cout / s->groups) * plane : s->col + row * plane;
      const float wv = direct ? s->packed[row] : 1.0f;
      const int32_t ox0 = kx * s->dw - s->pl; /* ox = ix * sw + ox0 */
      const int32_t ix_lo = ox0 >= 0 ? 0 : (-ox0 + s->sw - 1) / s->sw;
      const int64_t last = (int64_t)s->ow - 1 - ox0;
      const int32_t ix_hi = last < 0 ? -1 : (int32_t)(last / s->sw < s->w - 1 ? last / s->sw : s->w - 1);
      for (int32_t iy = 0; iy < s->h; iy++) {
        const int32_t oy = iy * s->sh - s->pt + ky * s->dh;
        if (oy < 0 || oy >= s->oh) continue;
        if (ix_hi < ix_lo) continue;
        const float* crow = c + (size_t)iy * s->w + ix_lo;
        float* yrow = y + (size_t)oy * s->ow + (size_t)(ix_lo * s->sw + ox0);
        const size_t count = (size_t)(ix_hi - ix_lo + 1);
        if (direct) {
          for (size_t i = 0; i < count; i++) yrow[i * (size_t)s->sw] += wv * crow[i];
        } else if (s->sw == 1) {
          for (size_t i = 0; i < count; i++) yrow[i] += crow[i];
        } else {
          for (size_t i = 0; i < count; i++) yrow[i * (size_t)s->sw] += crow[i];
        }
      }
    }
  }
  if (act->kind != SB_ACT_NONE) s->act_fn(out_plane, y, y, act);
}

typedef struct gemm_job {
  const conv_transpose_state* s;
  const sb_activation* act;
  const float* x; /* one image */
  float* y;
} gemm_job;

/* GEMM units [begin, end) (unit_channels output channels of one group each), then their col2im. */
static void run_units(void* ctx, size_t begin, size_t end) {
  const gemm_job* j = ctx;
  const conv_transpose_state* s = j->s;
  const size_t cin_g = (size_t)(s->cin / s->groups), cout_g = (size_t)(s->cout / s->groups);
  const size_t k_size = (size_t)s->kh * s->kw, plane = (size_t)s->h * s->w, uc = unit_channels(s);
  const size_t per_group = (cout_g + uc - 1) / uc;
  for (size_t u = begin; u < end;) {
    const size_t g = u / per_group, first = u % per_group;
    const size_t last = (end - u < per_group - first) ? first + (end - u) : per_group; /* units of this group */
    const size_t c0 = first * uc, c1 = last * uc < cout_g ? last * uc : cout_g;
    const size_t co = g * cout_g + c0; /* global output channel of c0 */
    if (cin_g > 1)
      s->gemm(plane, plane, (c1 - c0) * k_size, cin_g, s->packed + co * k_size * cin_g, s->zeros,
              j->x + g * cin_g * plane, s->col + co * k_size * plane, &(sb_activation){SB_ACT_NONE, 0.0f, 0.0f});
    for (size_t c = co; c < co + (c1 - c0); c++) col2im_plane(s, c, j->x, j->y + c * (size_t)s->oh * s->ow, j->act);
    u += last - first;
  }
}

static void run(sb_model* m, sb_node* n) {
  const conv_transpose_state* s = n->state;
  if (s->gemm) {
    const size_t uc = unit_channels(s), cout_g = (size_t)(s->cout / s->groups);
    const size_t units = (size_t)s->groups * ((cout_g + uc - 1) / uc);
    const size_t cost = uc * (size_t)s->kh * s->kw * (size_t)(s->cin / s->groups + 1) * (size_t)s->h * s->w;
    for (int32_t img = 0; img < s->n; img++) {
      gemm_job job = {s, &n->act, sb_input(m, n, 0)->data + (size_t)img * s->cin * s->h * s->w,
                      sb_output(m, n)->data + (size_t)img * s->cout * s->oh * s->ow};
      sb_parallel_for(m->pool, units, cost >= 32768 ? 1 : 32768 / cost, run_units, &job);
    }
    return;
  }
  conv_transpose_job job = {&n->act, s, sb_input(m, n, 0)->data, sb_output(m, n)->data};
  sb_parallel_for(m->pool, (size_t)s->n * (size_t)s->cout, 1, run_planes, &job);
}

const sb_op_def sb_op_conv_transpose = SB_OP_DEF(CONV_TRANSPOSE, prepare, run, 1);
