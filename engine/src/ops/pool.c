/* Windowed pooling. The output shape in the tensor table is authoritative (it encodes ceil_mode); we accept the floor
 * or ceil size and require every window to touch at least one input element. */
#include <stdlib.h>

#include "pool.h"

typedef struct pool_state {
  sb_pool_shape shape;
  sb_f32_pool_ukernel* fn;
} pool_state;

static sb_status check_axis(const sb_node* n, const char* axis, int64_t in, int64_t k, int64_t s, int64_t p0,
                            int64_t p1, int64_t out) {
  int64_t span = in + p0 + p1 - k;
  int64_t floor_out = span < 0 ? 0 : span / s + 1;
  int64_t ceil_out = span < 0 ? 0 : (span + s - 1) / s + 1;
  if (floor_out < 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "window %lld does not fit the padded %s extent %lld", (long long)k, axis,
                        (long long)(in + p0 + p1));
  if (out != floor_out && out != ceil_out)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output %s is %lld, the pooling computes %lld (floor) or %lld (ceil)", axis,
                        (long long)out, (long long)floor_out, (long long)ceil_out);
  if (p0 >= k || (out - 1) * s - p0 >= in)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "a %s window lies entirely in the padding (pad %lld, kernel %lld)", axis,
                        (long long)p0, (long long)k);
  return SB_OK;
}

sb_status sb_pool_prepare(sb_model* m, sb_node* n, sb_kernel_family family) {
  sb_status st = sb_check_activation(m, n, 0, "X", 4);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const sb_tensor* y = sb_output(m, n);
  const int32_t kh = sb_attr_pool_kh(n), kw = sb_attr_pool_kw(n), sh = sb_attr_pool_stride_h(n),
                sw = sb_attr_pool_stride_w(n), pt = sb_attr_pool_pad_top(n), pl = sb_attr_pool_pad_left(n),
                pb = sb_attr_pool_pad_bottom(n), pr = sb_attr_pool_pad_right(n),
                count_pad = sb_attr_pool_count_include_pad(n);
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || kh > SB_MAX_DIM || kw > SB_MAX_DIM)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "kernel %dx%d stride %dx%d out of range", kh, kw, sh, sw);
  if (pt < 0 || pl < 0 || pb < 0 || pr < 0 || pt > SB_MAX_DIM || pl > SB_MAX_DIM || pb > SB_MAX_DIM ||
      pr > SB_MAX_DIM)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "padding (%d,%d,%d,%d) out of range", pt, pl, pb, pr);
  if (count_pad != 0 && count_pad != 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "count_include_pad is %d, must be 0 or 1", count_pad);
  if (y->rank != 4 || y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1]) {
    char shape[96];
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output '%s' has shape %s, expected [%d,%d,OH,OW]", y->name,
                        sb_shape_str(y, shape, sizeof shape), x->dims[0], x->dims[1]);
  }
  if ((st = check_axis(n, "height", x->dims[2], kh, sh, pt, pb, y->dims[2])) != SB_OK) return st;
  if ((st = check_axis(n, "width", x->dims[3], kw, sw, pl, pr, y->dims[3])) != SB_OK) return st;
  pool_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  s->shape = (sb_pool_shape){x->dims[1], x->dims[2], x->dims[3], y->dims[2], y->dims[3], kh, kw, sh, sw,
                             pt, pl, count_pad, pb, pr};
  const sb_kernel_entry* k = sb_pick_kernel(family, sb_kernel_shape_params(kh == kw ? kh : -1, sh == sw ? sh : -1), n);
  if (!k) return SB_ERR_UNSUPPORTED;
  s->fn = (sb_f32_pool_ukernel*)k->fn;
  n->kernel_name = k->name;
  return SB_OK;
}

typedef struct pool_job {
  const pool_state* s;
  const float* x;
  float* y;
} pool_job;

static void run_channels(void* ctx, size_t begin, size_t end) {
  const pool_job* j = ctx;
  j->s->fn(&j->s->shape, j->x, j->y, begin, end);
}

void sb_pool_run(sb_model* m, sb_node* n) {
  const pool_state* s = n->state;
  const sb_tensor* x = sb_input(m, n, 0);
  sb_tensor* y = sb_output(m, n);
  size_t in_image = (size_t)s->shape.channels * (size_t)s->shape.in_h * (size_t)s->shape.in_w;
  size_t out_image = (size_t)s->shape.channels * (size_t)s->shape.out_h * (size_t)s->shape.out_w;
  for (int32_t b = 0; b < x->dims[0]; b++) {
    pool_job job = {s, x->data + (size_t)b * in_image, y->data + (size_t)b * out_image};
    sb_parallel_for_cost(m->pool, (size_t)s->shape.channels, 1, (double)out_image * s->shape.kh * s->shape.kw,
                         run_channels, &job);
  }
  sb_apply_activation(&n->act, y->data, y->count);
}
