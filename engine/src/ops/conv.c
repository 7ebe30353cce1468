/* CONV: dense convolution. Depthwise -> f32_dwconv, 1x1/stride 1/unpadded -> f32_gemm, anything else -> f32_conv. */
#include <stdlib.h>

#include "ops.h"

static sb_status prepare(sb_model* m, sb_node* n) {
  const sb_tensor* w = sb_input(m, n, 1);
  if (!w->is_constant || w->rank != 4) {
    char shape[96];
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "weight '%s' must be a rank-4 constant, has shape %s", w->name,
                        sb_shape_str(w, shape, sizeof shape));
  }
  if (sb_attr_conv_G(n) != 0)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "attribute G is %d, must be 0 for dense CONV", sb_attr_conv_G(n));
  sb_conv_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  sb_status st = sb_conv_geometry(m, n, w->dims[0], &s->shape);
  if (st != SB_OK) return st;
  const sb_conv_shape* c = &s->shape;
  int32_t wdims[4] = {c->out_c, c->in_c / c->groups, c->kh, c->kw};
  if ((st = sb_check_constant(m, n, 1, "W", SB_DTYPE_F32, 4, wdims)) != SB_OK) return st;
  if ((st = sb_bias_or_zeros(m, n, 2, c->out_c, &s->bias, (float**)&n->owned[0])) != SB_OK) return st;
  s->weights = (const float*)w->const_data;

  const sb_kernel_entry* k;
  int pointwise = c->kh == 1 && c->kw == 1 && c->stride_h == 1 && c->stride_w == 1 && c->groups == 1 &&
                  c->pad_top == 0 && c->pad_left == 0 && sb_attr_conv_pad_bottom(n) == 0 &&
                  sb_attr_conv_pad_right(n) == 0;
  if (c->groups == c->in_c && c->groups == c->out_c && c->groups > 1) {
    s->mode = SB_CONV_DIRECT;
    k = sb_pick_kernel(SB_FAMILY_F32_DWCONV, sb_kernel_shape_conv(sb_conv_kernel_param(c), sb_conv_stride_param(c), c, 0), n);
  } else if (pointwise) {
    s->mode = SB_CONV_GEMM;
    k = sb_pick_kernel(SB_FAMILY_F32_GEMM, sb_kernel_shape_conv(0, 0, c, 0), n);
  } else {
    s->mode = SB_CONV_DIRECT;
    k = sb_pick_kernel(SB_FAMILY_F32_CONV, sb_kernel_shape_conv(sb_conv_kernel_param(c), sb_conv_stride_param(c), c, 0), n);
  }
  if (!k) return SB_ERR_UNSUPPORTED;
  s->fn = k->fn;
  n->kernel_name = k->name;
  int64_t per_image = (int64_t)c->out_c * c->out_h * c->out_w * (c->in_c / c->groups) * c->kh * c->kw;
  n->macs = n->dense_macs = per_image * sb_input(m, n, 0)->dims[0];
  return SB_OK;
}

const sb_op_def sb_op_conv = SB_OP_DEF(CONV, prepare, sb_conv_run, 1);
