/* FC: y[N,Cout] = x[N,Cin] W^T + b, through f32_gemm with one pixel per batch row. */
#include <stdlib.h>

#include "ops.h"

typedef struct fc_state {
  int32_t cin, cout;
  const float* weights;
  const float* bias;
  sb_f32_gemm_ukernel* fn;
} fc_state;

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", 2);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const sb_tensor* w = sb_input(m, n, 1);
  if (!w->is_constant || w->rank != 2)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "weight '%s' must be a rank-2 constant [Cout,Cin]", w->name);
  fc_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  s->cin = x->dims[1];
  s->cout = w->dims[0];
  int32_t wdims[2] = {s->cout, s->cin};
  if ((st = sb_check_constant(m, n, 1, "W", SB_DTYPE_F32, 2, wdims)) != SB_OK) return st;
  int32_t ydims[2] = {x->dims[0], s->cout};
  if ((st = sb_check_output(m, n, 2, ydims)) != SB_OK) return st;
  if ((st = sb_bias_or_zeros(m, n, 2, s->cout, &s->bias, (float**)&n->owned[0])) != SB_OK) return st;
  s->weights = (const float*)w->const_data;
  const sb_kernel_entry* k = sb_pick_kernel(SB_FAMILY_F32_GEMM, sb_kernel_shape_fc(0, s->cin, s->cout, 0), n);
  if (!k) return SB_ERR_UNSUPPORTED;
  s->fn = (sb_f32_gemm_ukernel*)k->fn;
  n->kernel_name = k->name;
  n->macs = n->dense_macs = (int64_t)x->dims[0] * s->cin * s->cout;
  return SB_OK;
}

typedef struct fc_job {
  const fc_state* s;
  const float* x;
  float* y;
  const sb_activation* act;
} fc_job;

/* Splits output channels: each channel's dot product is computed whole by one thread. */
static void run_channels(void* ctx, size_t begin, size_t end) {
  const fc_job* j = ctx;
  const fc_state* s = j->s;
  s->fn(1, 1, end - begin, (size_t)s->cin, s->weights + begin * (size_t)s->cin, s->bias + begin, j->x, j->y + begin,
        j->act);
}

static void run(sb_model* m, sb_node* n) {
  const fc_state* s = n->state;
  const sb_tensor* x = sb_input(m, n, 0);
  float* y = sb_output(m, n)->data;
  for (int32_t b = 0; b < x->dims[0]; b++) {
    fc_job job = {s, x->data + (size_t)b * (size_t)s->cin, y + (size_t)b * (size_t)s->cout, &n->act};
    sb_parallel_for(m->pool, (size_t)s->cout, 16, run_channels, &job);
  }
}

const sb_op_def sb_op_fc = SB_OP_DEF(FC, prepare, run, 1);
