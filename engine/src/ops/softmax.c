/* SOFTMAX and LOG_SOFTMAX over the axis attribute (any axis): max-subtracted exponentials, so large logits do not
 * overflow; LOG_SOFTMAX is x - max - log(sum). SOFTMAX over the last axis runs the f32-softmax kernel the build's
 * choice table picks (its scalar kernel is the loop below); other axes and LOG_SOFTMAX run the loop below. */
#include <math.h>
#include <stdlib.h>

#include "ops.h"

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  int32_t axis = sb_attr_axis(n);
  if (axis < 0 || axis >= x->rank)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "axis %d out of range for rank %d", axis, x->rank);
  if ((st = sb_check_output(m, n, x->rank, x->dims)) != SB_OK) return st;
  n->kernel_name = n->def == &sb_op_log_softmax ? "ref_log_softmax" : "ref_softmax";
  if (n->def == &sb_op_softmax && axis == x->rank - 1) {
    const sb_kernel_entry* k = sb_pick_kernel(SB_FAMILY_F32_SOFTMAX, sb_kernel_shape_params(0, 0), n);
    if (!k) return SB_ERR_UNSUPPORTED;
    sb_f32_softmax_ukernel** fn = malloc(sizeof *fn);
    if (!fn) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
    *fn = (sb_f32_softmax_ukernel*)k->fn;
    n->state = fn;
    n->kernel_name = k->name;
  }
  return SB_OK;
}

typedef struct softmax_job {
  const float* x;
  float* y;
  size_t len, inner;
  int log;
  sb_f32_softmax_ukernel* kernel; /* the last axis (inner 1) */
} softmax_job;

/* Rows [begin, end) of the outer dimension; each (outer, inner) line is reduced by one thread. */
static void run_outer(void* ctx, size_t begin, size_t end) {
  const softmax_job* j = ctx;
  if (j->kernel) {
    j->kernel(end - begin, j->len, j->x + begin * j->len, j->y + begin * j->len);
    return;
  }
  for (size_t o = begin; o < end; o++) {
    for (size_t i = 0; i < j->inner; i++) {
      const float* x = j->x + o * j->len * j->inner + i;
      float* y = j->y + o * j->len * j->inner + i;
      float max = x[0];
      for (size_t k = 1; k < j->len; k++) max = x[k * j->inner] > max ? x[k * j->inner] : max;
      /* double: a float sum over a wide axis (a CTC head's 18710 classes) drifts by ~1e-4 of the largest term */
      double sum = 0.0;
      if (j->log) {
        for (size_t k = 0; k < j->len; k++) sum += expf(x[k * j->inner] - max);
        const float shift = max + (float)log(sum);
        for (size_t k = 0; k < j->len; k++) y[k * j->inner] = x[k * j->inner] - shift;
        continue;
      }
      for (size_t k = 0; k < j->len; k++) {
        y[k * j->inner] = expf(x[k * j->inner] - max);
        sum += y[k * j->inner];
      }
      float scale = (float)(1.0 / sum);
      for (size_t k = 0; k < j->len; k++) y[k * j->inner] *= scale;
    }
  }
}

static void run(sb_model* m, sb_node* n) {
  const sb_tensor* x = sb_input(m, n, 0);
  size_t outer = 1, inner = 1;
  int32_t axis = sb_attr_axis(n);
  for (int d = 0; d < axis; d++) outer *= (size_t)x->dims[d];
  for (int d = axis + 1; d < x->rank; d++) inner *= (size_t)x->dims[d];
  softmax_job job = {x->data, sb_output(m, n)->data, (size_t)x->dims[axis], inner, n->def == &sb_op_log_softmax,
                     n->state ? *(sb_f32_softmax_ukernel* const*)n->state : NULL};
  const size_t len = (size_t)x->dims[axis] * inner;
  /* cost: an exp and a divide per element, ~8 element-ops */
  sb_parallel_for_cost(m->pool, outer, len >= 4096 ? 1 : 4096 / len, 8.0 * (double)x->count, run_outer, &job);
}

const sb_op_def sb_op_softmax = SB_OP_DEF(SOFTMAX, prepare, run, 0);
const sb_op_def sb_op_log_softmax = SB_OP_DEF(LOG_SOFTMAX, prepare, run, 0);
