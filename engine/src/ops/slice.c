/* SLICE: output index i of axis d reads input index start[d] + i * step[d] (any nonzero steps, rank 1..6; the
 * output shape in the tensor table gives the counts). ONNX Slice and each output of Split. The portable reference
 * walks output rows (the last axis) in parallel: a unit step copies the row, any other strides through it. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

typedef struct slice_state {
  int rank;
  int32_t out_dims[SB_MAX_RANK];
  ptrdiff_t steps[SB_MAX_RANK]; /* input element step of each output axis */
  ptrdiff_t base;               /* input offset of output element 0 */
} slice_state;

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const sb_tensor* y = sb_output(m, n);
  const int rank = x->rank;
  if (rank < 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input '%s' has rank 0; SLICE needs rank 1..%d", x->name, SB_MAX_RANK);
  if (y->rank != rank)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output '%s' has rank %d, input '%s' rank %d", y->name, y->rank, x->name,
                        rank);
  for (int d = rank; d < SB_MAX_RANK; d++)
    if (sb_attr_slice_start(n, d) != 0 || sb_attr_slice_step(n, d) != 0)
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "start/step of axis %d (%d, %d) lie past the rank %d of input '%s' "
                          "(must be 0)", d, sb_attr_slice_start(n, d), sb_attr_slice_step(n, d), rank, x->name);
  slice_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  s->rank = rank;
  ptrdiff_t stride = 1;
  for (int d = rank - 1; d >= 0; d--) {
    const int32_t start = sb_attr_slice_start(n, d), step = sb_attr_slice_step(n, d), count = y->dims[d];
    const int64_t last = (int64_t)start + (int64_t)(count - 1) * step;
    if (step == 0 || start < 0 || start >= x->dims[d] || last < 0 || last >= x->dims[d])
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "axis %d: start %d, step %d and output size %d (output '%s') leave input "
                          "'%s' of size %d", d, start, step, count, y->name, x->name, x->dims[d]);
    s->out_dims[d] = count;
    s->steps[d] = stride * step;
    s->base += stride * start;
    stride *= x->dims[d];
  }
  n->kernel_name = "ref_slice";
  return SB_OK;
}

static void run_rows(void* ctx, size_t begin, size_t end) {
  const sb_rows_job* j = ctx;
  const slice_state* s = j->s;
  const int last = s->rank - 1;
  const size_t width = (size_t)s->out_dims[last];
  const ptrdiff_t inner = s->steps[last];
  for (size_t r = begin; r < end; r++) {
    ptrdiff_t offset = s->base;
    size_t rest = r;
    for (int d = last - 1; d >= 0; d--) {
      offset += (ptrdiff_t)(rest % (size_t)s->out_dims[d]) * s->steps[d];
      rest /= (size_t)s->out_dims[d];
    }
    const float* src = j->x + offset;
    float* dst = j->y + r * width;
    if (inner == 1) {
      memcpy(dst, src, width * sizeof(float));
    } else {
      for (size_t k = 0; k < width; k++) dst[k] = src[(ptrdiff_t)k * inner];
    }
  }
}

static void run(sb_model* m, sb_node* n) {
  const slice_state* s = n->state;
  sb_tensor* y = sb_output(m, n);
  sb_rows_job job = {s, sb_input(m, n, 0)->data, y->data};
  size_t width = (size_t)s->out_dims[s->rank - 1];
  sb_parallel_for(m->pool, y->count / width, width >= 4096 ? 1 : 4096 / width, run_rows, &job);
}

const sb_op_def sb_op_slice = SB_OP_DEF(SLICE, prepare, run, 0);
