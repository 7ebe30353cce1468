/* GATHER along the axis attribute with constant i32 indices (any shape): output [X[:axis], indices, X[axis+1:]].
 * The portable reference copies one contiguous X[axis+1:] slab per (outer index, index), in parallel. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

typedef struct gather_state {
  size_t outer, inner, axis_dim, count; /* count: number of indices */
  const int32_t* indices;
} gather_state;

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const sb_tensor* idx = sb_input(m, n, 1);
  const int32_t axis = sb_attr_axis(n);
  if (axis < 0 || axis >= x->rank)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "axis %d out of range for input '%s' of rank %d", axis, x->name, x->rank);
  if (!idx->is_constant || idx->dtype != SB_DTYPE_I32)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "indices '%s' must be an i32 constant", idx->name);
  const int out_rank = x->rank - 1 + idx->rank;
  if (out_rank < 1 || out_rank > SB_MAX_RANK)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output rank %d (input '%s', indices '%s') is outside 1..%d", out_rank,
                        x->name, idx->name, SB_MAX_RANK);
  const int32_t* indices = (const int32_t*)idx->const_data;
  for (size_t k = 0; k < idx->count; k++)
    if (indices[k] < 0 || indices[k] >= x->dims[axis])
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "indices '%s'[%zu] = %d is out of range for axis %d of input '%s' (size %d)",
                          idx->name, k, indices[k], axis, x->name, x->dims[axis]);
  int32_t out_dims[SB_MAX_RANK];
  int r = 0;
  for (int d = 0; d < axis; d++) out_dims[r++] = x->dims[d];
  for (int d = 0; d < idx->rank; d++) out_dims[r++] = idx->dims[d];
  for (int d = axis + 1; d < x->rank; d++) out_dims[r++] = x->dims[d];
  if ((st = sb_check_output(m, n, out_rank, out_dims)) != SB_OK) return st;
  gather_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  s->outer = s->inner = 1;
  for (int d = 0; d < axis; d++) s->outer *= (size_t)x->dims[d];
  for (int d = axis + 1; d < x->rank; d++) s->inner *= (size_t)x->dims[d];
  s->axis_dim = (size_t)x->dims[axis];
  s->count = idx->count;
  s->indices = indices;
  n->kernel_name = "ref_gather";
  return SB_OK;
}

/* Slabs [begin, end) of the outer * count output slabs. */
static void run_slabs(void* ctx, size_t begin, size_t end) {
  const sb_rows_job* j = ctx;
  const gather_state* s = j->s;
  for (size_t r = begin; r < end; r++) {
    const size_t o = r / s->count, k = r % s->count;
    memcpy(j->y + r * s->inner, j->x + (o * s->axis_dim + (size_t)s->indices[k]) * s->inner,
           s->inner * sizeof(float));
  }
}

static void run(sb_model* m, sb_node* n) {
  const gather_state* s = n->state;
  sb_rows_job job = {s, sb_input(m, n, 0)->data, sb_output(m, n)->data};
  sb_parallel_for(m->pool, s->outer * s->count, s->inner >= 4096 ? 1 : 4096 / s->inner, run_slabs, &job);
}

const sb_op_def sb_op_gather = SB_OP_DEF(GATHER, prepare, run, 0);
