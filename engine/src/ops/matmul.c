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
  sb_f32_gemm_ukernel* gemm; /* SIMD builds: f32-gemm (weights = A [M][K], input = B [K][N]); NULL: the reference */
  const float* zeros;        /* [M] bias of the GEMM */
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
  /* A [M][K] @ B [K][N] is f32-gemm's weights [out][in] times input [in][plane] with plane = N: no packing. Scalar
   * builds keep the row axpy below (the scalar GEMM's strided dot is slower; kernels_arm/README.md). */
  const sb_kernel_shape ks = {0, 0, (int64_t)s->n, (int32_t)s->k, (int32_t)s->m, (int32_t)s->n, 0};
  const sb_kernel_entry* k = sb_pick_kernel(SB_FAMILY_F32_GEMM, ks, n);
  if (!k) return SB_ERR_UNSUPPORTED;
  if (strcmp(k->arch, "scalar") != 0) {
    if (!(s->zeros = n->owned[0] = calloc(s->m, sizeof(float))))
      return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
    s->gemm = (sb_f32_gemm_ukernel*)k->fn;
    n->kernel_name = k->name;
  }
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

/* f32-gemm: blocks [begin, end) of GEMM_ROWS output rows (block b: rows of batch b / blocks_per_batch), so the
 * kernel's 4-row tiles fall on the same rows for any thread count. */
#define GEMM_ROWS 4
static void run_gemm_blocks(void* ctx, size_t begin, size_t end) {
  const matmul_job* j = ctx;
  const matmul_state* s = j->s;
  const size_t per_batch = (s->m + GEMM_ROWS - 1) / GEMM_ROWS;
  for (size_t blk = begin; blk < end;) {
    size_t batch = blk / per_batch, ao = 0, bo = 0;
    const size_t first = blk % per_batch, last = end - blk < per_batch - first ? first + (end - blk) : per_batch;
    const size_t y_off = batch * s->m * s->n;
    for (int d = s->batch_rank - 1; d >= 0; d--) {
      const size_t idx = batch % s->batch_dims[d];
      batch /= s->batch_dims[d];
      ao += idx * s->a_strides[d];
      bo += idx * s->b_strides[d];
    }
    const size_t r0 = first * GEMM_ROWS, r1 = last * GEMM_ROWS < s->m ? last * GEMM_ROWS : s->m;
    s->gemm(s->n, s->n, r1 - r0, s->k, j->a + ao + r0 * s->k, s->zeros + r0, j->b + bo, j->y + y_off + r0 * s->n,
            j->act);
    blk += last - first;
  }
}

static void run(sb_model* m, sb_node* n) {
  const matmul_state* s = n->state;
  matmul_job job = {s, sb_f32(sb_input(m, n, 0)), sb_f32(sb_input(m, n, 1)), sb_output(m, n)->data, &n->act};
  if (s->gemm) {
    const size_t blocks = s->batches * ((s->m + GEMM_ROWS - 1) / GEMM_ROWS), cost = GEMM_ROWS * s->k * s->n + 1;
    sb_parallel_for(m->pool, blocks, cost >= 16384 ? 1 : 16384 / cost, run_gemm_blocks, &job);
    return;
  }
  const size_t row_cost = s->k * s->n + 1;
  sb_parallel_for(m->pool, s->batches * s->m, row_cost >= 16384 ? 1 : 16384 / row_cost, run_rows, &job);
}

const sb_op_def sb_op_matmul = SB_OP_DEF(MATMUL, prepare, run, 1);
