/* REDUCE_MEAN / SUM / MAX / MIN over any set of axes (axes_mask), keepdims either way. The portable reference:
 * prepare merges reduced axes that are adjacent in memory (the last axis, or H and W, become one strided row) and
 * keeps the input stride of each kept axis; run computes output elements in parallel, each over its window (an
 * odometer over the outer reduced axes, a strided row inside), summing in double. No per-window tables, so a huge
 * hostile tensor costs no extra memory at load. */
#include <stdlib.h>

#include "ops.h"

typedef enum { REDUCE_MEAN, REDUCE_SUM, REDUCE_MAX, REDUCE_MIN } reduce_kind;

typedef struct reduce_state {
  reduce_kind kind;
  int kept;                         /* kept axes (size > 1 only) */
  size_t kept_dims[SB_MAX_RANK];    /* their sizes, outer to inner */
  size_t kept_strides[SB_MAX_RANK]; /* their input element strides */
  size_t window;                    /* elements reduced into each output */
  int reduced;                      /* merged reduced axes (>= 1) */
  size_t red_dims[SB_MAX_RANK];     /* their sizes, outer to inner */
  size_t red_strides[SB_MAX_RANK];  /* their input element strides */
} reduce_state;

static sb_status prepare_kind(sb_model* m, sb_node* n, reduce_kind kind) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const int rank = x->rank;
  const int32_t mask = sb_attr_reduce_axes_mask(n), keepdims = sb_attr_reduce_keepdims(n);
  if (rank < 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input '%s' has rank 0; reductions need rank 1..%d", x->name, SB_MAX_RANK);
  if (mask <= 0 || mask >= (1 << rank))
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "axes_mask 0x%x names no axis or an axis past the rank %d of input '%s'",
                        (unsigned)mask, rank, x->name);
  if (keepdims != 0 && keepdims != 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "keepdims = %d (must be 0 or 1)", keepdims);
  int32_t out_dims[SB_MAX_RANK];
  int out_rank = 0;
  for (int d = 0; d < rank; d++) {
    if (mask & (1 << d)) {
      if (keepdims) out_dims[out_rank++] = 1;
    } else {
      out_dims[out_rank++] = x->dims[d];
    }
  }
  if ((st = sb_check_output(m, n, out_rank, out_dims)) != SB_OK) return st;

  reduce_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  s->kind = kind;
  size_t strides[SB_MAX_RANK], step = 1;
  for (int d = rank - 1; d >= 0; d--) {
    strides[d] = step;
    step *= (size_t)x->dims[d];
  }
  s->window = 1;
  for (int d = 0; d < rank; d++) {
    const size_t dim = (size_t)x->dims[d];
    if (!(mask & (1 << d))) {
      if (dim > 1) {
        s->kept_dims[s->kept] = dim;
        s->kept_strides[s->kept++] = strides[d];
      }
      continue;
    }
    s->window *= dim;
    const int r = s->reduced;
    if (r > 0 && s->red_strides[r - 1] == strides[d] * dim) { /* contiguous with the previous reduced axis */
      s->red_dims[r - 1] *= dim;
      s->red_strides[r - 1] = strides[d];
    } else {
      s->red_dims[r] = dim;
      s->red_strides[r] = strides[d];
      s->reduced++;
    }
  }
  n->state = s;
  static const char* const names[] = {"ref_reduce_mean", "ref_reduce_sum", "ref_reduce_max", "ref_reduce_min"};
  n->kernel_name = names[kind];
  return SB_OK;
}

static void run_range(void* ctx, size_t begin, size_t end) {
  const sb_rows_job* j = ctx;
  const reduce_state* s = j->s;
  for (size_t o = begin; o < end; o++) {
    size_t base = 0, rest = o;
    for (int d = s->kept - 1; d >= 0; d--) {
      base += (rest % s->kept_dims[d]) * s->kept_strides[d];
      rest /= s->kept_dims[d];
    }
    const float* x = j->x + base;
    const int outer_axes = s->reduced - 1;
    const size_t row = s->red_dims[outer_axes], step = s->red_strides[outer_axes];
    size_t idx[SB_MAX_RANK] = {0}, offset = 0;
    double acc = 0.0;
    float r = x[0];
    for (size_t done = 0; done < s->window; done += row) {
      const float* px = x + offset;
      if (s->kind == REDUCE_MEAN || s->kind == REDUCE_SUM) {
        for (size_t k = 0; k < row; k++) acc += px[k * step];
      } else if (s->kind == REDUCE_MAX) {
        for (size_t k = 0; k < row; k++) r = px[k * step] > r ? px[k * step] : r;
      } else {
        for (size_t k = 0; k < row; k++) r = px[k * step] < r ? px[k * step] : r;
      }
      for (int d = outer_axes - 1; d >= 0; d--) { /* next row: odometer over the outer reduced axes */
        offset += s->red_strides[d];
        if (++idx[d] < s->red_dims[d]) break;
        offset -= s->red_strides[d] * s->red_dims[d];
        idx[d] = 0;
      }
    }
    if (s->kind == REDUCE_MEAN || s->kind == REDUCE_SUM)
      r = (float)(s->kind == REDUCE_MEAN ? acc / (double)s->window : acc);
    j->y[o] = r;
  }
}

static void run(sb_model* m, sb_node* n) {
  const reduce_state* s = n->state;
  sb_tensor* y = sb_output(m, n);
  sb_rows_job job = {s, sb_input(m, n, 0)->data, y->data};
  /* an output costs `window` reads: chunks of >= ~16K reads */
  size_t grain = s->window >= 16384 ? 1 : 16384 / s->window;
  sb_parallel_for(m->pool, y->count, grain, run_range, &job);
}

static sb_status prepare_mean(sb_model* m, sb_node* n) { return prepare_kind(m, n, REDUCE_MEAN); }
static sb_status prepare_sum(sb_model* m, sb_node* n) { return prepare_kind(m, n, REDUCE_SUM); }
static sb_status prepare_max(sb_model* m, sb_node* n) { return prepare_kind(m, n, REDUCE_MAX); }
static sb_status prepare_min(sb_model* m, sb_node* n) { return prepare_kind(m, n, REDUCE_MIN); }

const sb_op_def sb_op_reduce_mean = SB_OP_DEF(REDUCE_MEAN, prepare_mean, run, 0);
const sb_op_def sb_op_reduce_sum = SB_OP_DEF(REDUCE_SUM, prepare_sum, run, 0);
const sb_op_def sb_op_reduce_max = SB_OP_DEF(REDUCE_MAX, prepare_max, run, 0);
const sb_op_def sb_op_reduce_min = SB_OP_DEF(REDUCE_MIN, prepare_min, run, 0);
