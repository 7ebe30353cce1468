/* FC_SPARSE: group-sparse fully connected layer through f32_spmm, one pixel per batch row. */
#include <stdlib.h>

#include "ops.h"

typedef struct fc_sparse_state {
  sb_sparse_weights w;
  sb_f32_spmm_ukernel* fn;
} fc_sparse_state;

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", 2);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const sb_tensor* y = sb_output(m, n);
  if (y->rank != 2 || y->dims[0] != x->dims[0]) {
    char shape[96];
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output '%s' has shape %s, expected [%d,Cout]", y->name,
                        sb_shape_str(y, shape, sizeof shape), x->dims[0]);
  }
  fc_sparse_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  st = sb_prepare_sparse(m, n, 1, y->dims[1], x->dims[1], 1, sb_attr_fc_sparse_G(n), &s->w, (int32_t**)&n->owned[1]);
  if (st != SB_OK) return st;
  if ((st = sb_bias_or_zeros(m, n, 4, y->dims[1], &s->w.bias, (float**)&n->owned[0])) != SB_OK) return st;
  const sb_kernel_entry* k = sb_pick_kernel(
      SB_FAMILY_F32_SPMM, sb_kernel_shape_fc(s->w.group, s->w.in_channels, s->w.out_channels, s->w.group_start[s->w.num_groups]), n);
  if (!k) return SB_ERR_UNSUPPORTED;
  s->fn = (sb_f32_spmm_ukernel*)k->fn;
  n->kernel_name = k->name;
  n->macs = sb_sparse_kept_macs(&s->w) * x->dims[0];
  n->dense_macs = (int64_t)x->dims[0] * x->dims[1] * y->dims[1];
  return SB_OK;
}

typedef struct fc_sparse_job {
  const fc_sparse_state* s;
  const float* x;
  float* y;
  const sb_activation* act;
} fc_sparse_job;

/* Splits batch rows; each row is one whole spmm call. */
static void run_rows(void* ctx, size_t begin, size_t end) {
  const fc_sparse_job* j = ctx;
  const sb_sparse_weights* w = &j->s->w;
  for (size_t b = begin; b < end; b++)
    j->s->fn(1, 1, w, j->x + b * (size_t)w->in_channels, j->y + b * (size_t)w->out_channels, j->act);
}

static void run(sb_model* m, sb_node* n) {
  const sb_tensor* x = sb_input(m, n, 0);
  fc_sparse_job job = {n->state, x->data, sb_output(m, n)->data, &n->act};
  sb_parallel_for(m->pool, (size_t)x->dims[0], 1, run_rows, &job);
}

const sb_op_def sb_op_fc_sparse = SB_OP_DEF(FC_SPARSE, prepare, run, 1);
