/* FC: y[N,Cout] = x[N,Cin] W^T + b, through f32_gemm with one pixel per batch row. SIMD builds with N > 1 (a
 * transformer's Linear over tokens) run one GEMM over the rows instead: weights x [N][Cin], input W^T [Cin][Cout]
 * (packed at load), a plane of Cout pixels, then f32-vadd adds the bias row and applies the activation. */
#include <stdlib.h>
#include <string.h>

#include "ops.h"

typedef struct fc_state {
  int32_t cin, cout;
  const float* weights;
  const float* bias;
  sb_f32_gemm_ukernel* fn;
  sb_f32_gemm_ukernel* rows_gemm; /* N > 1 in SIMD builds, else NULL */
  sb_f32_vbinary_ukernel* vadd;
  float* wt;          /* [Cin][Cout], then [N] zeros: n->owned[1] */
  int32_t n;
} fc_state;

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", 2);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const sb_tensor* w = sb_input(m, n, 1);
  if (!w->is_constant || w->rank != 2)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "weight '%s' must be a rank-2 constant [Cout,Cin]", w->name);
  fc_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  s->cin = x->dims[1];
  s->cout = w->dims[0];
  int32_t wdims[2] = {s->cout, s->cin};
  if ((st = sb_check_constant(m, n, 1, "W", SB_DTYPE_F32, 2, wdims)) != SB_OK) return st;
  int32_t ydims[2] = {x->dims[0], s->cout};
  if ((st = sb_check_output(m, n, 2, ydims)) != SB_OK) return st;
  if ((st = sb_bias_or_zeros(m, n, 2, s->cout, &s->bias, (float**)&n->owned[0])) != SB_OK) return st;
  s->weights = (const float*)w->const_data;
  const sb_kernel_entry* k = sb_pick_kernel(SB_FAMILY_F32_GEMM, sb_kernel_shape_fc(0, s->cin, s->cout, 0), n);
  if (!k) return SB_ERR_UNSUPPORTED;
  s->fn = (sb_f32_gemm_ukernel*)k->fn;
  n->kernel_name = k->name;
  n->macs = n->dense_macs = (int64_t)x->dims[0] * s->cin * s->cout;
  s->n = x->dims[0];
  if (s->n > 1 && strcmp(k->arch, "scalar") != 0) {
    const sb_kernel_shape rs = {0, 0, s->cout, s->cin, s->n, s->cout, 0};
    const sb_kernel_entry* g = sb_pick_kernel(SB_FAMILY_F32_GEMM, rs, n);
    const sb_kernel_entry* v = sb_pick_kernel(SB_FAMILY_F32_VADD, sb_kernel_shape_params(0, 0), n);
    if (!g || !v) return SB_ERR_UNSUPPORTED;
    const size_t cin = (size_t)s->cin, cout = (size_t)s->cout;
    if (!(s->wt = n->owned[1] = calloc(cin * cout + (size_t)s->n, sizeof(float))))
      return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
    for (size_t o = 0; o < cout; o++)
      for (size_t i = 0; i < cin; i++) s->wt[i * cout + o] = s->weights[o * cin + i];
    s->rows_gemm = (sb_f32_gemm_ukernel*)g->fn;
    s->vadd = (sb_f32_vbinary_ukernel*)v->fn;
    n->kernel_name = g->name;
  }
  return SB_OK;
}

typedef struct fc_job {
  const fc_state* s;
  const float* x;
  float* y;
  const sb_activation* act;
} fc_job;

/* Splits output channels: each channel's dot product is computed whole by one thread. */
static void run_channels(void* ctx, size_t begin, size_t end) {
  const fc_job* j = ctx;
  const fc_state* s = j->s;
  s->fn(1, 1, end - begin, (size_t)s->cin, s->weights + begin * (size_t)s->cin, s->bias + begin, j->x, j->y + begin,
        j->act);
}

/* Row blocks [begin, end) of 4 batch rows (aligned, so the GEMM's 4-row tiles do not depend on the thread count). */
static void run_row_blocks(void* ctx, size_t begin, size_t end) {
  const fc_job* j = ctx;
  const fc_state* s = j->s;
  const size_t cin = (size_t)s->cin, cout = (size_t)s->cout, r0 = 4 * begin;
  const size_t r1 = 4 * end < (size_t)s->n ? 4 * end : (size_t)s->n;
  const sb_activation none = {SB_ACT_NONE, 0.0f, 0.0f};
  s->rows_gemm(cout, cout, r1 - r0, cin, j->x + r0 * cin, s->wt + cin * cout, s->wt, j->y + r0 * cout, &none);
  for (size_t r = r0; r < r1; r++) s->vadd(cout, j->y + r * cout, s->bias, j->y + r * cout, j->act);
}

static void run(sb_model* m, sb_node* n) {
  const fc_state* s = n->state;
  const sb_tensor* x = sb_input(m, n, 0);
  float* y = sb_output(m, n)->data;
  if (s->rows_gemm) {
    fc_job job = {s, x->data, y, &n->act};
    const size_t cost = 4 * (size_t)s->cin * (size_t)s->cout;
    sb_parallel_for(m->pool, ((size_t)s->n + 3) / 4, cost >= 16384 ? 1 : 16384 / cost, run_row_blocks, &job);
    return;
  }
  for (int32_t b = 0; b < x->dims[0]; b++) {
    fc_job job = {s, x->data + (size_t)b * (size_t)s->cin, y + (size_t)b * (size_t)s->cout, &n->act};
    /* at most 2 chunks per thread: each chunk sets up its weight rows (32 chunks at 8 threads did 1.18x the work) */
    const size_t threads = (size_t)sb_threadpool_threads(m->pool);
    const size_t chunks = sb_target_chunks(m->pool, (double)s->cout * (double)s->cin, 2 * threads);
    if (chunks < 2)
      run_channels(&job, 0, (size_t)s->cout);
    else
      sb_parallel_for(m->pool, (size_t)s->cout, ((size_t)s->cout + 16 * chunks - 1) / (16 * chunks) * 16,
                      run_channels, &job);
  }
}

const sb_op_def sb_op_fc = SB_OP_DEF(FC, prepare, run, 1);
