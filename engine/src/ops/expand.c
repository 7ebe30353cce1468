/* EXPAND: X broadcast to the output's shape (numpy rules: X's dims aligned to the right, each 1 or equal), rank
 * <= 6; ONNX Expand and Tile (converter: RESHAPE + EXPAND + RESHAPE). The portable reference walks output rows:
 * a row whose last axis is not broadcast is one copy, a broadcast one repeats its single value. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

typedef struct expand_state {
  int rank;
  int32_t out_dims[SB_MAX_RANK];
  size_t in_strides[SB_MAX_RANK]; /* 0 on broadcast axes */
} expand_state;

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const sb_tensor* y = sb_output(m, n);
  char a[96], b[96];
  const int lead = y->rank - x->rank;
  int ok = y->rank >= 1 && lead >= 0;
  for (int d = 0; ok && d < x->rank; d++) ok = x->dims[d] == 1 || x->dims[d] == y->dims[lead + d];
  if (!ok)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input '%s' %s does not broadcast to output '%s' %s", x->name,
                        sb_shape_str(x, a, sizeof a), y->name, sb_shape_str(y, b, sizeof b));
  expand_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  s->rank = y->rank;
  size_t step = 1;
  for (int d = y->rank - 1; d >= 0; d--) {
    s->out_dims[d] = y->dims[d];
    int32_t in_dim = d >= lead ? x->dims[d - lead] : 1;
    s->in_strides[d] = in_dim == 1 ? 0 : step;
    step *= (size_t)in_dim;
  }
  n->kernel_name = "ref_expand";
  return SB_OK;
}

static void run_rows(void* ctx, size_t begin, size_t end) {
  const sb_rows_job* j = ctx;
  const expand_state* s = j->s;
  const int last = s->rank - 1;
  const size_t width = (size_t)s->out_dims[last];
  for (size_t r = begin; r < end; r++) {
    size_t offset = 0, rest = r;
    for (int d = last - 1; d >= 0; d--) {
      offset += (rest % (size_t)s->out_dims[d]) * s->in_strides[d];
      rest /= (size_t)s->out_dims[d];
    }
    float* dst = j->y + r * width;
    if (s->in_strides[last]) {
      memcpy(dst, j->x + offset, width * sizeof(float));
    } else {
      const float v = j->x[offset];
      for (size_t k = 0; k < width; k++) dst[k] = v;
    }
  }
}

static void run(sb_model* m, sb_node* n) {
  const expand_state* s = n->state;
  sb_tensor* y = sb_output(m, n);
  sb_rows_job job = {s, sb_input(m, n, 0)->data, y->data};
  size_t width = (size_t)s->out_dims[s->rank - 1];
  sb_parallel_for(m->pool, y->count / width, width >= 4096 ? 1 : 4096 / width, run_rows, &job);
}

const sb_op_def sb_op_expand = SB_OP_DEF(EXPAND, prepare, run, 0);
