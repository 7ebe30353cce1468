/* TRANSPOSE: y = x with its axes permuted (output dim d is input dim perm[d]), rank 1..6. The portable reference:
 * prepare drops size-1 axes and merges output axes that stay adjacent in the input, so NCHW<->NHWC becomes a batch of
 * 2-D transposes and an axis-order-preserving perm a plain copy; run walks the output rows (all axes but the last) in
 * parallel, reading each row with the input stride of the last merged axis. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

typedef struct transpose_state {
  int rank;                     /* merged axes, 0..SB_MAX_RANK; 0 or a unit-stride last axis alone is a copy */
  size_t dims[SB_MAX_RANK];     /* merged output dims */
  size_t strides[SB_MAX_RANK];  /* input element stride of each merged output axis */
  size_t row;                   /* dims[rank-1] */
  sb_f32_transpose_ukernel* kernel; /* the last two merged axes swapped (input stride 1 before the last): f32-transpose
                                     * per index of the outer axes; else NULL and the reference row loop */
} transpose_state;

static const char* perm_str(const sb_node* n, int count, char* buf, size_t size) {
  size_t used = (size_t)snprintf(buf, size, "[");
  for (int d = 0; d < count && used < size; d++)
    used += (size_t)snprintf(buf + used, size - used, d ? ",%d" : "%d", sb_attr_transpose_perm(n, d));
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const int rank = x->rank;
  char perm[96];
  if (rank < 1)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input '%s' has rank 0; TRANSPOSE needs rank 1..%d", x->name, SB_MAX_RANK);
  unsigned seen = 0;
  int32_t out_dims[SB_MAX_RANK];
  for (int d = 0; d < rank; d++) {
    int32_t p = sb_attr_transpose_perm(n, d);
    if (p < 0 || p >= rank)
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "perm %s: perm[%d] = %d is out of range for input '%s' of rank %d",
                          perm_str(n, rank, perm, sizeof perm), d, p, x->name, rank);
    if (seen & (1u << p))
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "perm %s repeats axis %d (input '%s' of rank %d)",
                          perm_str(n, rank, perm, sizeof perm), p, x->name, rank);
    seen |= 1u << p;
    out_dims[d] = x->dims[p];
  }
  for (int d = rank; d < SB_ATTR_TRANSPOSE_PERM_LEN; d++)
    if (sb_attr_transpose_perm(n, d) != 0)
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "perm %s: perm[%d] = %d lies past the rank %d of input '%s' (must be 0)",
                          perm_str(n, SB_ATTR_TRANSPOSE_PERM_LEN, perm, sizeof perm), d,
                          sb_attr_transpose_perm(n, d), rank, x->name);
  if ((st = sb_check_output(m, n, rank, out_dims)) != SB_OK) return st;

  transpose_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  size_t in_strides[SB_MAX_RANK];
  size_t step = 1;
  for (int d = rank - 1; d >= 0; d--) {
    in_strides[d] = step;
    step *= (size_t)x->dims[d];
  }
  for (int d = 0; d < rank; d++) {
    size_t dim = (size_t)out_dims[d], stride = in_strides[sb_attr_transpose_perm(n, d)];
    if (dim == 1) continue;
    if (s->rank > 0 && s->strides[s->rank - 1] == stride * dim) { /* adjacent in the input too: one axis */
      s->dims[s->rank - 1] *= dim;
      s->strides[s->rank - 1] = stride;
    } else {
      s->dims[s->rank] = dim;
      s->strides[s->rank] = stride;
      s->rank++;
    }
  }
  s->row = s->rank ? s->dims[s->rank - 1] : 1;
  n->kernel_name = s->rank == 0 || (s->rank == 1 && s->strides[0] == 1) ? "ref_copy" : "ref_transpose";
  if (s->rank >= 2 && s->strides[s->rank - 2] == 1) {
    const sb_kernel_entry* k = sb_pick_kernel(SB_FAMILY_F32_TRANSPOSE, sb_kernel_shape_params(0, 0), n);
    if (!k) return SB_ERR_UNSUPPORTED;
    s->kernel = (sb_f32_transpose_ukernel*)k->fn;
    n->kernel_name = k->name;
  }
  return SB_OK;
}

/* Output rows [begin, end): the input offset of each row from its index over the outer merged axes. */
static void run_rows(void* ctx, size_t begin, size_t end) {
  const sb_rows_job* j = ctx;
  const transpose_state* s = j->s;
  const size_t inner = s->strides[s->rank - 1];
  for (size_t r = begin; r < end; r++) {
    size_t offset = 0, rest = r;
    for (int d = s->rank - 2; d >= 0; d--) {
      offset += (rest % s->dims[d]) * s->strides[d];
      rest /= s->dims[d];
    }
    const float* src = j->x + offset;
    float* dst = j->y + r * s->row;
    if (inner == 1) {
      memcpy(dst, src, s->row * sizeof(float));
    } else {
      for (size_t k = 0; k < s->row; k++) dst[k] = src[k * inner];
    }
  }
}

/* f32-transpose: work items [begin, end) are (outer index, chunk of TILE output rows) pairs. */
enum { TILE = 64 };
static void run_tiles(void* ctx, size_t begin, size_t end) {
  const sb_rows_job* j = ctx;
  const transpose_state* s = j->s;
  const size_t a_count = s->dims[s->rank - 2], b_count = s->row, chunks = (a_count + TILE - 1) / TILE;
  for (size_t t = begin; t < end; t++) {
    size_t offset = 0, rest = t / chunks;
    const size_t outer = rest, a0 = (t % chunks) * TILE;
    for (int d = s->rank - 3; d >= 0; d--) {
      offset += (rest % s->dims[d]) * s->strides[d];
      rest /= s->dims[d];
    }
    const size_t a = a_count - a0 < TILE ? a_count - a0 : TILE;
    s->kernel(a, b_count, j->x + offset + a0, s->strides[s->rank - 1], j->y + (outer * a_count + a0) * b_count,
              b_count);
  }
}

static void run(sb_model* m, sb_node* n) {
  const transpose_state* s = n->state;
  const sb_tensor* x = sb_input(m, n, 0);
  sb_tensor* y = sb_output(m, n);
  if (s->rank == 0) {
    memcpy(y->data, x->data, y->count * sizeof(float));
    return;
  }
  sb_rows_job job = {s, x->data, y->data};
  if (s->kernel) {
    const size_t a_count = s->dims[s->rank - 2], tile = TILE * s->row; /* elements per work item (at most) */
    const size_t items = y->count / (a_count * s->row) * ((a_count + TILE - 1) / TILE);
    sb_parallel_for(m->pool, items, tile >= 16384 ? 1 : 16384 / tile, run_tiles, &job);
    return;
  }
  /* Chunks of at least ~16K elements: waking a thread costs about as much as copying that many. */
  size_t grain = s->row >= 16384 ? 1 : 16384 / s->row;
  sb_parallel_for(m->pool, y->count / s->row, grain, run_rows, &job);
}

const sb_op_def sb_op_transpose = SB_OP_DEF(TRANSPOSE, prepare, run, 0);
