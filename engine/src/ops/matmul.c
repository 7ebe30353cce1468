/* MATMUL: y[b] = act(A[b] @ B[b]) for A [..., M, K], B [..., K, N], the batch dims broadcast numpy-style (rank 2..6
 * after right-aligning; 1-D operands are reshaped to 2-D by the converter). Either operand may be a constant. The
 * portable reference: (batch, output row) pairs run in parallel; each row accumulates a[i][k] * B[k][:] over k. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

typedef struct matmul_state {
  size_t m, k, n;
  int batch_rank;
  size_t batch_dims[SB_MAX_RANK - 2];
  size_t a_strides[SB_MAX_RANK - 2], b_strides[SB_MAX_RANK - 2]; /* matrix strides per batch dim, 0: broadcast */
  size_t batches;
} matmul_state;

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st;
  if ((st = sb_check_f32(m, n, 0, "A")) != SB_OK || (st = sb_check_f32(m, n, 1, "B")) != SB_OK) return st;
  const sb_tensor* a = sb_input(m, n, 0);
  const sb_tensor* b = sb_input(m, n, 1);
  char sa[96], sbuf[96];
  if (a->rank < 2 || b->rank < 2)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "inputs '%s' %s and '%s' %s: MATMUL needs rank 2..%d", a->name,
                        sb_shape_str(a, sa, sizeof sa), b->name, sb_shape_str(b, sbuf, sizeof sbuf), SB_MAX_RANK);
  if (a->dims[a->rank - 1] != b->dims[b->rank - 2])
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "inputs '%s' %s and '%s' %s: inner dims %d and %d differ", a->name,
                        sb_shape_str(a, sa, sizeof sa), b->name, sb_shape_str(b, sbuf, sizeof sbuf),
                        a->dims[a->rank - 1], b->dims[b->rank - 2]);
  matmul_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  s->m = (size_t)a->dims[a->rank - 2];
  s->k = (size_t)a->dims[a->rank - 1];
  s->n = (size_t)b->dims[b->rank - 1];
  const int rank = a->rank > b->rank ? a->rank : b->rank;
  s->batch_rank = rank - 2;
  int32_t out_dims[SB_MAX_RANK];
  size_t a_step = s->m * s->k, b_step = s->k * s->n;
  s->batches = 1;
  for (int d = s->batch_rank - 1; d >= 0; d--) { /* batch dim d of the output, right-aligned in each input */
    const int ai = d - (rank - a->rank), bi = d - (rank - b->rank);
    const int32_t ad = ai >= 0 ? a->dims[ai] : 1, bd = bi >= 0 ? b->dims[bi] : 1;
    if (ad != bd && ad != 1 && bd != 1)
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "batch dims of '%s' %s and '%s' %s do not broadcast", a->name,
                          sb_shape_str(a, sa, sizeof sa), b->name, sb_shape_str(b, sbuf, sizeof sbuf));
    out_dims[d] = ad == 1 ? bd : ad;
    s->batch_dims[d] = (size_t)out_dims[d];
    s->a_strides[d] = ad == 1 ? 0 : a_step;
    s->b_strides[d] = bd == 1 ? 0 : b_step;
    a_step *= (size_t)ad;
    b_step *= (size_t)bd;
    s->batches *= (size_t)out_dims[d];
  }
  out_dims[rank - 2] = (int32_t)s->m;
  out_dims[rank - 1] = (int32_t)s->n;
  if ((st = sb_check_output(m, n, rank, out_dims)) != SB_OK) return st;
  n->macs = n->dense_macs = sb_mul_sat(sb_mul_sat((int64_t)s->batches, (int64_t)(s->m * s->n)), (int64_t)s->k);
  n->kernel_name = "ref_matmul";
  return SB_OK;
}

typedef struct matmul_job {
  const matmul_state* s;
  const float* a;
  const float* b;
  float* y;
  const sb_activation* act;
} matmul_job;

/* Output rows [begin, end) over all batches (row r is row r % M of batch r / M). */
static void run_rows(void* ctx, size_t begin, size_t end) {
  const matmul_job* j = ctx;
  const matmul_state* s = j->s;
  for (size_t r = begin; r < end; r++) {
    size_t batch = r / s->m, i = r % s->m, ao = 0, bo = 0;
    for (int d = s->batch_rank - 1; d >= 0; d--) {
      const size_t idx = batch % s->batch_dims[d];
      batch /= s->batch_dims[d];
      ao += idx * s->a_strides[d];
      bo += idx * s->b_strides[d];
    }
    const float* arow = j->a + ao + i * s->k;
    const float* bm = j->b + bo;
    float* y = j->y + r * s->n;
    memset(y, 0, s->n * sizeof *y);
    for (size_t k = 0; k < s->k; k++) {
      const float v = arow[k];
      const float* brow = bm + k * s->n;
      for (size_t c = 0; c < s->n; c++) y[c] += v * brow[c];
    }
    if (j->act->kind != SB_ACT_NONE)
      for (size_t c = 0; c < s->n; c++) y[c] = sb_activate(j->act, y[c]);
  }
}

static void run(sb_model* m, sb_node* n) {
  const matmul_state* s = n->state;
  matmul_job job = {s, sb_f32(sb_input(m, n, 0)), sb_f32(sb_input(m, n, 1)), sb_output(m, n)->data, &n->act};
  const size_t row_cost = s->k * s->n + 1;
  sb_parallel_for(m->pool, s->batches * s->m, row_cost >= 16384 ? 1 : 16384 / row_cost, run_rows, &job);
}

const sb_op_def sb_op_matmul = SB_OP_DEF(MATMUL, prepare, run, 1);
