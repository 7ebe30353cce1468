/* ARGMAX along one axis, keepdims either way: the index of the maximum (the first of equal maxima, or the last with
 * select_last_index), written as f32 (activations are f32; exact for indices below 2^24). NaN is never a maximum. */
#include "ops.h"

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const int32_t axis = sb_attr_argmax_axis(n), keep = sb_attr_argmax_keepdims(n);
  const int32_t last = sb_attr_argmax_select_last_index(n);
  if (x->rank < 1 || axis < 0 || axis >= x->rank)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "axis %d out of range for input '%s' of rank %d", axis, x->name, x->rank);
  if ((keep != 0 && keep != 1) || (last != 0 && last != 1))
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "keepdims = %d, select_last_index = %d (each must be 0 or 1)", keep, last);
  int32_t dims[SB_MAX_RANK];
  int rank = 0;
  for (int d = 0; d < x->rank; d++)
    if (d != axis) dims[rank++] = x->dims[d];
    else if (keep) dims[rank++] = 1;
  if ((st = sb_check_output(m, n, rank, dims)) != SB_OK) return st;
  n->kernel_name = "ref_argmax";
  return SB_OK;
}

typedef struct argmax_job {
  const float* x;
  float* y;
  size_t len, inner;
  int last;
} argmax_job;

static void run_outer(void* ctx, size_t begin, size_t end) {
  const argmax_job* j = ctx;
  for (size_t o = begin; o < end; o++) {
    for (size_t i = 0; i < j->inner; i++) {
      const float* x = j->x + o * j->len * j->inner + i;
      size_t best = 0;
      for (size_t k = 1; k < j->len; k++) {
        const float v = x[k * j->inner], b = x[best * j->inner];
        if (v > b || (j->last && v == b) || (b != b && v == v)) best = k; /* b != b: a NaN so far loses */
      }
      j->y[o * j->inner + i] = (float)best;
    }
  }
}

static void run(sb_model* m, sb_node* n) {
  const sb_tensor* x = sb_input(m, n, 0);
  const int32_t axis = sb_attr_argmax_axis(n);
  size_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= (size_t)x->dims[d];
  for (int d = axis + 1; d < x->rank; d++) inner *= (size_t)x->dims[d];
  argmax_job job = {x->data, sb_output(m, n)->data, (size_t)x->dims[axis], inner,
                    sb_attr_argmax_select_last_index(n)};
  sb_parallel_for(m->pool, outer, 1, run_outer, &job);
}

const sb_op_def sb_op_argmax = SB_OP_DEF(ARGMAX, prepare, run, 0);
