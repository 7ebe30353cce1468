/* CONV_SPARSE: group-sparse convolution (groups = 1). 1x1/stride 1/unpadded -> f32_spmm, else -> f32_spconv. */
#include <stdlib.h>

#include "ops.h"

static sb_status prepare(sb_model* m, sb_node* n) {
  const sb_tensor* y = sb_output(m, n);
  if (y->rank != 4) return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output '%s' must be rank 4", y->name);
  if (sb_attr_conv_groups(n) != 1)
    return SB_NODE_FAIL(SB_ERR_UNSUPPORTED, n, "groups=%d (sparse convs need groups=1)", sb_attr_conv_groups(n));
  sb_conv_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  sb_status st = sb_conv_geometry(m, n, y->dims[1], &s->shape);
  if (st != SB_OK) return st;
  const sb_conv_shape* c = &s->shape;
  /* values is [T, kh*kw, G]: the kernel area is a dim, so it obeys the dim cap (and kh*kw cannot overflow). */
  if ((int64_t)c->kh * c->kw > SB_MAX_DIM)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "kernel %dx%d: area exceeds the cap 2^24", c->kh, c->kw);
  st = sb_prepare_sparse(m, n, 1, c->out_c, c->in_c, c->kh * c->kw, sb_attr_conv_G(n), &s->sparse,
                         (int32_t**)&n->owned[1]);
  if (st != SB_OK) return st;
  if ((st = sb_bias_or_zeros(m, n, 4, c->out_c, &s->sparse.bias, (float**)&n->owned[0])) != SB_OK) return st;

  int pointwise = c->kh == 1 && c->kw == 1 && c->stride_h == 1 && c->stride_w == 1 && c->pad_top == 0 &&
                  c->pad_left == 0 && sb_attr_conv_pad_bottom(n) == 0 && sb_attr_conv_pad_right(n) == 0;
  const sb_kernel_entry* k;
  if (pointwise) {
    s->mode = SB_CONV_SPMM;
    k = sb_pick_kernel(SB_FAMILY_F32_SPMM, sb_kernel_shape_conv(s->sparse.group, 0, c, s->sparse.group_start[s->sparse.num_groups]), n);
  } else {
    s->mode = SB_CONV_DIRECT_SPARSE;
    k = sb_pick_kernel(SB_FAMILY_F32_SPCONV,
                       sb_kernel_shape_conv(s->sparse.group, sb_conv_kernel_param(c), c, s->sparse.group_start[s->sparse.num_groups]), n);
  }
  if (!k) return SB_ERR_UNSUPPORTED;
  s->fn = k->fn;
  n->kernel_name = k->name;
  int64_t pixels = (int64_t)c->out_h * c->out_w * sb_input(m, n, 0)->dims[0];
  n->macs = sb_sparse_kept_macs(&s->sparse) * pixels;
  n->dense_macs = sb_mul_sat(sb_mul_sat((int64_t)c->out_c * c->in_c, (int64_t)c->kh * c->kw), pixels);
  return SB_OK;
}

const sb_op_def sb_op_conv_sparse = SB_OP_DEF(CONV_SPARSE, prepare, sb_conv_run, 1);
