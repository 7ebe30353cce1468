/* CONCAT along the axis attribute: plain copies of each input's slab per outer index. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

typedef struct concat_state {
  size_t outer;
  size_t inner; /* elements after the axis */
} concat_state;

static sb_status prepare(sb_model* m, sb_node* n) {
  const sb_tensor* first = sb_input(m, n, 0);
  int32_t axis = sb_attr_axis(n);
  if (axis < 0 || axis >= first->rank)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "axis %d out of range for rank %d", axis, first->rank);
  int32_t out_dims[SB_MAX_RANK];
  for (int d = 0; d < first->rank; d++) out_dims[d] = first->dims[d];
  int64_t axis_total = 0;
  for (int k = 0; k < n->num_inputs; k++) {
    const sb_tensor* t = sb_input(m, n, k);
    sb_status st = sb_check_f32(m, n, k, "X");
    if (st != SB_OK) return st;
    char a[96], b[96];
    int compatible = t->rank == first->rank;
    for (int d = 0; compatible && d < t->rank; d++) compatible = d == axis || t->dims[d] == first->dims[d];
    if (!compatible)
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input %d '%s' %s does not match input 0 %s except on axis %d", k, t->name,
                          sb_shape_str(t, a, sizeof a), sb_shape_str(first, b, sizeof b), axis);
    axis_total += t->dims[axis];
  }
  if (axis_total > SB_MAX_DIM) return SB_NODE_FAIL(SB_ERR_FORMAT, n, "concatenated axis is %lld long", (long long)axis_total);
  out_dims[axis] = (int32_t)axis_total;
  sb_status st = sb_check_output(m, n, first->rank, out_dims);
  if (st != SB_OK) return st;
  concat_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  s->outer = 1;
  s->inner = 1;
  for (int d = 0; d < axis; d++) s->outer *= (size_t)out_dims[d];
  for (int d = axis + 1; d < first->rank; d++) s->inner *= (size_t)out_dims[d];
  n->kernel_name = "ref_concat";
  return SB_OK;
}

static void run(sb_model* m, sb_node* n) {
  const concat_state* s = n->state;
  int32_t axis = sb_attr_axis(n);
  float* y = sb_output(m, n)->data;
  for (size_t o = 0; o < s->outer; o++) {
    for (int k = 0; k < n->num_inputs; k++) {
      const sb_tensor* t = sb_input(m, n, k);
      size_t slab = (size_t)t->dims[axis] * s->inner;
      memcpy(y, sb_f32(t) + o * slab, slab * sizeof(float));
      y += slab;
    }
  }
}

const sb_op_def sb_op_concat = SB_OP_DEF(CONCAT, prepare, run, 0);
