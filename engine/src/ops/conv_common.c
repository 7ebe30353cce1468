/* Conv geometry checks and the batch/thread loop shared by CONV and CONV_SPARSE. */
#include "ops.h"

static int64_t conv_out_size(int64_t in, int64_t pad0, int64_t pad1, int64_t k, int64_t dil, int64_t stride) {
  int64_t span = in + pad0 + pad1 - dil * (k - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

sb_status sb_conv_geometry(const sb_model* m, const sb_node* n, int32_t cout, sb_conv_shape* s) {
  sb_status st = sb_check_activation(m, n, 0, "X", 4);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const int32_t kh = sb_attr_conv_kh(n), kw = sb_attr_conv_kw(n), sh = sb_attr_conv_stride_h(n),
                sw = sb_attr_conv_stride_w(n), pt = sb_attr_conv_pad_top(n), pl = sb_attr_conv_pad_left(n),
                pb = sb_attr_conv_pad_bottom(n), pr = sb_attr_conv_pad_right(n), dh = sb_attr_conv_dilation_h(n),
                dw = sb_attr_conv_dilation_w(n), groups = sb_attr_conv_groups(n);
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || groups < 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "kernel %dx%d, stride %dx%d, dilation %dx%d, groups %d: each must be >= 1",
                        kh, kw, sh, sw, dh, dw, groups);
  if (pt < 0 || pl < 0 || pb < 0 || pr < 0)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "negative padding (%d,%d,%d,%d)", pt, pl, pb, pr);
  if (kh > SB_MAX_DIM || kw > SB_MAX_DIM || pt > SB_MAX_DIM || pl > SB_MAX_DIM || pb > SB_MAX_DIM ||
      pr > SB_MAX_DIM || dh > SB_MAX_DIM || dw > SB_MAX_DIM)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "kernel/padding/dilation exceed the cap 2^24 (%d)", 0);
  int32_t cin = x->dims[1];
  if (cin % groups != 0 || cout % groups != 0)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "groups=%d does not divide Cin=%d and Cout=%d", groups, cin, cout);
  int64_t oh = conv_out_size(x->dims[2], pt, pb, kh, dh, sh);
  int64_t ow = conv_out_size(x->dims[3], pl, pr, kw, dw, sw);
  if (oh < 1 || ow < 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "kernel %dx%d (dilation %dx%d) does not fit the padded %dx%d input", kh, kw,
                        dh, dw, x->dims[2], x->dims[3]);
  int32_t out_dims[4] = {x->dims[0], cout, (int32_t)oh, (int32_t)ow};
  if (oh > SB_MAX_DIM || ow > SB_MAX_DIM || (st = sb_check_output(m, n, 4, out_dims)) != SB_OK)
    return oh > SB_MAX_DIM || ow > SB_MAX_DIM ? SB_NODE_FAIL(SB_ERR_FORMAT, n, "output %lldx%lld too large",
                                                             (long long)oh, (long long)ow)
                                              : st;
  s->in_c = cin;
  s->in_h = x->dims[2];
  s->in_w = x->dims[3];
  s->out_c = cout;
  s->out_h = (int32_t)oh;
  s->out_w = (int32_t)ow;
  s->kh = kh;
  s->kw = kw;
  s->stride_h = sh;
  s->stride_w = sw;
  s->pad_top = pt;
  s->pad_left = pl;
  s->dil_h = dh;
  s->dil_w = dw;
  s->groups = groups;
  return SB_OK;
}

int32_t sb_conv_kernel_param(const sb_conv_shape* s) {
  return s->kh == s->kw && s->dil_h == 1 && s->dil_w == 1 ? s->kh : -1;
}

int32_t sb_conv_stride_param(const sb_conv_shape* s) {
  return s->stride_h == s->stride_w && s->dil_h == 1 && s->dil_w == 1 ? s->stride_h : -1;
}

typedef struct conv_job {
  const sb_conv_state* state;
  const float* input;
  float* output;
  const sb_activation* act;
} conv_job;

static void run_rows(void* ctx, size_t begin, size_t end) {
  const conv_job* j = ctx;
  const sb_conv_state* s = j->state;
  if (s->mode == SB_CONV_DIRECT)
    ((sb_f32_conv_ukernel*)s->fn)(&s->shape, s->weights, s->bias, j->input, j->output, j->act, begin, end);
  else
    ((sb_f32_spconv_ukernel*)s->fn)(&s->shape, &s->sparse, j->input, j->output, j->act, begin, end);
}

static void run_pixels(void* ctx, size_t begin, size_t end) {
  const conv_job* j = ctx;
  const sb_conv_state* s = j->state;
  size_t plane = (size_t)s->shape.in_h * (size_t)s->shape.in_w;
  if (s->mode == SB_CONV_GEMM)
    ((sb_f32_gemm_ukernel*)s->fn)(end - begin, plane, (size_t)s->shape.out_c, (size_t)s->shape.in_c, s->weights,
                                  s->bias, j->input + begin, j->output + begin, j->act);
  else
    ((sb_f32_spmm_ukernel*)s->fn)(end - begin, plane, &s->sparse, j->input + begin, j->output + begin, j->act);
}

void sb_conv_run(sb_model* m, sb_node* n) {
  const sb_conv_state* s = n->state;
  const sb_tensor* x = sb_input(m, n, 0);
  sb_tensor* y = sb_output(m, n);
  size_t in_image = (size_t)s->shape.in_c * (size_t)s->shape.in_h * (size_t)s->shape.in_w;
  size_t out_image = (size_t)s->shape.out_c * (size_t)s->shape.out_h * (size_t)s->shape.out_w;
  for (int32_t b = 0; b < x->dims[0]; b++) {
    conv_job job = {s, x->data + (size_t)b * in_image, y->data + (size_t)b * out_image, &n->act};
    if (s->mode == SB_CONV_GEMM || s->mode == SB_CONV_SPMM)
      /* Pixel chunks are multiples of 16 so vector tiles fall on the same pixels for any thread count. */
      sb_parallel_for(m->pool, (size_t)s->shape.out_h * (size_t)s->shape.out_w, 16, run_pixels, &job);
    else
      sb_parallel_for(m->pool, (size_t)s->shape.out_h, 1, run_rows, &job);
  }
}
