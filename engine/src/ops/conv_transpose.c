/* CONV_TRANSPOSE: the gradient of a 2-D convolution, y[n,co,oy,ox] = b[co] + sum over ci of co's group, ky, kx of
 * x[n,ci,iy,ix] * w[ci,co',ky,kx] where oy + pad_top = iy * stride_h + ky * dilation_h (ox alike). The portable
 * reference gathers per output pixel (no scatter, so (n, co) planes run in parallel without races); for each
 * output row it lists the (ky, iy) pairs that reach it once. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

typedef struct conv_transpose_state {
  int32_t n, cin, h, w, cout, oh, ow, kh, kw, groups;
  const float* weights;
  const float* bias;
} conv_transpose_state;

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
                              sb_f32(w), s->bias};
  n->macs = (int64_t)x->dims[0] * cin * x->dims[2] * x->dims[3] * (cout / groups) * kh * kw;
  n->dense_macs = n->macs;
  n->kernel_name = "ref_conv_transpose";
  return SB_OK;
}

typedef struct conv_transpose_job {
  const sb_node* n;
  const conv_transpose_state* s;
  const float* x;
  float* y;
} conv_transpose_job;

/* Output planes [begin, end) of the n*cout (image, output channel) planes. */
static void run_planes(void* ctx, size_t begin, size_t end) {
  const conv_transpose_job* j = ctx;
  const conv_transpose_state* s = j->s;
  const sb_node* n = j->n;
  const int32_t sh = sb_attr_conv_transpose_stride_h(n), sw = sb_attr_conv_transpose_stride_w(n);
  const int32_t dh = sb_attr_conv_transpose_dilation_h(n), dw = sb_attr_conv_transpose_dilation_w(n);
  const int32_t pt = sb_attr_conv_transpose_pad_top(n), pl = sb_attr_conv_transpose_pad_left(n);
  const int32_t cin_g = s->cin / s->groups, cout_g = s->cout / s->groups;
  const size_t in_plane = (size_t)s->h * (size_t)s->w, k_size = (size_t)s->kh * (size_t)s->kw;
  for (size_t p = begin; p < end; p++) {
    const int32_t img = (int32_t)(p / (size_t)s->cout), co = (int32_t)(p % (size_t)s->cout);
    const int32_t g = co / cout_g, co_g = co % cout_g;
    float* y = j->y + p * (size_t)s->oh * (size_t)s->ow;
    for (int32_t oy = 0; oy < s->oh; oy++) {
      for (int32_t ox = 0; ox < s->ow; ox++) {
        float acc = s->bias[co];
        for (int32_t ky = 0; ky < s->kh; ky++) {
          int32_t ty = oy + pt - ky * dh;
          if (ty < 0 || ty % sh) continue;
          int32_t iy = ty / sh;
          if (iy >= s->h) continue;
          for (int32_t kx = 0; kx < s->kw; kx++) {
            int32_t tx = ox + pl - kx * dw;
            if (tx < 0 || tx % sw) continue;
            int32_t ix = tx / sw;
            if (ix >= s->w) continue;
            const float* xp = j->x + ((size_t)img * s->cin + (size_t)g * cin_g) * in_plane + (size_t)iy * s->w + ix;
            const float* wp = s->weights + (((size_t)g * cin_g) * cout_g + co_g) * k_size + (size_t)ky * s->kw + kx;
            for (int32_t ci = 0; ci < cin_g; ci++) acc += xp[ci * in_plane] * wp[(size_t)ci * cout_g * k_size];
          }
        }
        y[(size_t)oy * s->ow + ox] = acc;
      }
    }
  }
}

static void run(sb_model* m, sb_node* n) {
  const conv_transpose_state* s = n->state;
  conv_transpose_job job = {n, s, sb_input(m, n, 0)->data, sb_output(m, n)->data};
  sb_parallel_for(m->pool, (size_t)s->n * (size_t)s->cout, 1, run_planes, &job);
}

const sb_op_def sb_op_conv_transpose = SB_OP_DEF(CONV_TRANSPOSE, prepare, run, 0);
