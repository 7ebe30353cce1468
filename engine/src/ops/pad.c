/* PAD: y = x with begin[d] / end[d] elements added on each axis (rank 1..6): mode 0 fills them with a constant,
 * 1 reflects (numpy 'reflect': the edge is not repeated; pads < dim), 2 repeats the edge. The portable reference:
 * each output row (the last axis) maps its outer coordinates to an input row (or, constant mode, to the fill), then
 * copies the middle and fills both ends. Rows run in parallel. One padded axis in constant mode is blocks of
 * fill + memcpy + fill instead. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

enum { PAD_CONSTANT = 0, PAD_REFLECT = 1, PAD_EDGE = 2 };

typedef struct pad_state {
  int rank;
  int32_t in_dims[SB_MAX_RANK];
  int32_t out_dims[SB_MAX_RANK];
  size_t in_strides[SB_MAX_RANK];
  float value;
  /* Constant mode with one padded axis (the channel PAD that BlazeFace-style blocks put before a residual ADD): the
   * output is `outer` blocks of [pre fill][mid copied][post fill] floats, contiguous: memcpy + fill, no per-row
   * index arithmetic. outer 0: the row-by-row path. */
  size_t outer, pre, mid, post;
} pad_state;

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const int rank = x->rank;
  const int32_t mode = sb_attr_pad_mode(n);
  if (rank < 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input '%s' has rank 0; PAD needs rank 1..%d", x->name, SB_MAX_RANK);
  if (mode < PAD_CONSTANT || mode > PAD_EDGE)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "mode %d is not 0 (constant), 1 (reflect) or 2 (edge)", mode);
  if (mode != PAD_CONSTANT && sb_attr_pad_value_bits(n) != 0)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "value_bits is %d; only constant mode (0) has a value",
                        sb_attr_pad_value_bits(n));
  int32_t out_dims[SB_MAX_RANK];
  for (int d = 0; d < SB_MAX_RANK; d++) {
    int32_t b = sb_attr_pad_begin(n, d), e = sb_attr_pad_end(n, d);
    if (d >= rank) {
      if (b != 0 || e != 0)
        return SB_NODE_FAIL(SB_ERR_FORMAT, n, "pads on axis %d (%d, %d) lie past the rank %d of input '%s' (must be 0)",
                            d, b, e, rank, x->name);
      continue;
    }
    if (b < 0 || e < 0)
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "pads on axis %d of input '%s' are (%d, %d); they must be >= 0", d,
                          x->name, b, e);
    if (mode == PAD_REFLECT && (b >= x->dims[d] || e >= x->dims[d]))
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "reflect pads (%d, %d) on axis %d of input '%s' must be smaller than its "
                          "dim %d", b, e, d, x->name, x->dims[d]);
    int64_t size = (int64_t)x->dims[d] + b + e;
    if (size > SB_MAX_DIM)
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "padded axis %d of input '%s' is %lld long", d, x->name, (long long)size);
    out_dims[d] = (int32_t)size;
  }
  if ((st = sb_check_output(m, n, rank, out_dims)) != SB_OK) return st;

  pad_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  s->rank = rank;
  size_t step = 1;
  for (int d = rank - 1; d >= 0; d--) {
    s->in_dims[d] = x->dims[d];
    s->out_dims[d] = out_dims[d];
    s->in_strides[d] = step;
    step *= (size_t)x->dims[d];
  }
  int32_t bits = sb_attr_pad_value_bits(n);
  memcpy(&s->value, &bits, sizeof s->value);
  n->kernel_name = mode == PAD_CONSTANT ? "ref_pad_constant" : mode == PAD_REFLECT ? "ref_pad_reflect" : "ref_pad_edge";
  int padded = -1, count = 0;
  for (int d = 0; d < rank; d++)
    if (sb_attr_pad_begin(n, d) != 0 || sb_attr_pad_end(n, d) != 0) padded = d, count++;
  if (mode == PAD_CONSTANT && count == 1 && padded < rank - 1) { /* a padded last axis is the row path's case */
    size_t outer = 1, inner = 1;
    for (int d = 0; d < padded; d++) outer *= (size_t)x->dims[d];
    for (int d = padded + 1; d < rank; d++) inner *= (size_t)x->dims[d];
    s->outer = outer;
    s->pre = (size_t)sb_attr_pad_begin(n, padded) * inner;
    s->mid = (size_t)x->dims[padded] * inner;
    s->post = (size_t)sb_attr_pad_end(n, padded) * inner;
    n->kernel_name = "ref_pad_constant_blocks";
  }
  return SB_OK;
}

/* Input coordinate of output coordinate i on an axis of input size dim padded by begin; -1: the constant fill. */
static int32_t source(int32_t i, int32_t dim, int32_t begin, int32_t mode) {
  int32_t j = i - begin;
  if (j >= 0 && j < dim) return j;
  if (mode == PAD_CONSTANT) return -1;
  if (mode == PAD_EDGE) return j < 0 ? 0 : dim - 1;
  return j < 0 ? -j : 2 * (dim - 1) - j; /* reflect: pads < dim keep this in range */
}

typedef struct pad_job {
  const sb_node* n;
  const pad_state* s;
  const float* x;
  float* y;
} pad_job;

static void run_rows(void* ctx, size_t begin_row, size_t end_row) {
  const pad_job* j = ctx;
  const pad_state* s = j->s;
  const int last = s->rank - 1;
  const int32_t mode = sb_attr_pad_mode(j->n);
  const int32_t width = s->out_dims[last], dim = s->in_dims[last];
  const int32_t lead = sb_attr_pad_begin(j->n, last);
  for (size_t r = begin_row; r < end_row; r++) {
    float* dst = j->y + r * (size_t)width;
    size_t offset = 0, rest = r;
    int fill = 0;
    for (int d = last - 1; d >= 0; d--) {
      int32_t src = source((int32_t)(rest % (size_t)s->out_dims[d]), s->in_dims[d], sb_attr_pad_begin(j->n, d), mode);
      rest /= (size_t)s->out_dims[d];
      if (src < 0) fill = 1;
      else offset += (size_t)src * s->in_strides[d];
    }
    if (fill) {
      for (int32_t k = 0; k < width; k++) dst[k] = s->value;
      continue;
    }
    const float* row = j->x + offset;
    memcpy(dst + lead, row, (size_t)dim * sizeof(float));
    for (int32_t k = 0; k < lead; k++) {
      int32_t src = source(k, dim, lead, mode);
      dst[k] = src < 0 ? s->value : row[src];
    }
    for (int32_t k = lead + dim; k < width; k++) {
      int32_t src = source(k, dim, lead, mode);
      dst[k] = src < 0 ? s->value : row[src];
    }
  }
}

static void fill(float* dst, size_t count, float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  if (bits == 0) {
    memset(dst, 0, count * sizeof(float));
    return;
  }
  for (size_t k = 0; k < count; k++) dst[k] = value;
}

static void run_blocks(void* ctx, size_t begin, size_t end) {
  const pad_job* j = ctx;
  const pad_state* s = j->s;
  const size_t width = s->pre + s->mid + s->post;
  for (size_t o = begin; o < end; o++) {
    float* dst = j->y + o * width;
    fill(dst, s->pre, s->value);
    memcpy(dst + s->pre, j->x + o * s->mid, s->mid * sizeof(float));
    fill(dst + s->pre + s->mid, s->post, s->value);
  }
}

static void run(sb_model* m, sb_node* n) {
  const pad_state* s = n->state;
  sb_tensor* y = sb_output(m, n);
  pad_job job = {n, s, sb_input(m, n, 0)->data, y->data};
  if (s->outer > 0) {
    const size_t width = s->pre + s->mid + s->post;
    sb_parallel_for(m->pool, s->outer, width >= 4096 ? 1 : 4096 / (width ? width : 1), run_blocks, &job);
    return;
  }
  size_t width = (size_t)s->out_dims[s->rank - 1];
  sb_parallel_for(m->pool, y->count / width, width >= 4096 ? 1 : 4096 / width, run_rows, &job);
}

const sb_op_def sb_op_pad = SB_OP_DEF(PAD, prepare, run, 0);
