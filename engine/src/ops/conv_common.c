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
  const int32_t* a = n->attrs;
  if (a[0] < 1 || a[1] < 1 || a[2] < 1 || a[3] < 1 || a[8] < 1 || a[9] < 1 || a[10] < 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "kernel %dx%d, stride %dx%d, dilation %dx%d, groups %d: each must be >= 1",
                        a[0], a[1], a[2], a[3], a[8], a[9], a[10]);
  if (a[4] < 0 || a[5] < 0 || a[6] < 0 || a[7] < 0)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "negative padding (%d,%d,%d,%d)", a[4], a[5], a[6], a[7]);
  if (a[0] > SB_MAX_DIM || a[1] > SB_MAX_DIM || a[4] > SB_MAX_DIM || a[5] > SB_MAX_DIM || a[6] > SB_MAX_DIM ||
      a[7] > SB_MAX_DIM || a[8] > SB_MAX_DIM || a[9] > SB_MAX_DIM)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "kernel/padding/dilation exceed the cap 2^24 (%d)", 0);
  int32_t cin = x->dims[1], groups = a[10];
  if (cin % groups != 0 || cout % groups != 0)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "groups=%d does not divide Cin=%d and Cout=%d", groups, cin, cout);
  int64_t oh = conv_out_size(x->dims[2], a[4], a[6], a[0], a[8], a[2]);
  int64_t ow = conv_out_size(x->dims[3], a[5], a[7], a[1], a[9], a[3]);
  if (oh < 1 || ow < 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "kernel %dx%d (dilation %dx%d) does not fit the padded %dx%d input", a[0], a[1],
                        a[8], a[9], x->dims[2], x->dims[3]);
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
  s->kh = a[0];
  s->kw = a[1];
  s->stride_h = a[2];
  s->stride_w = a[3];
  s->pad_top = a[4];
  s->pad_left = a[5];
  s->dil_h = a[8];
  s->dil_w = a[9];
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
