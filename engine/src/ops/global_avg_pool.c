/* GLOBAL_AVG_POOL: [N,C,H,W] -> [N,C,1,1] through f32_gavgpool. */
#include "ops.h"

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", 4);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  int32_t out_dims[4] = {x->dims[0], x->dims[1], 1, 1};
  if ((st = sb_check_output(m, n, 4, out_dims)) != SB_OK) return st;
  const sb_kernel_entry* k = sb_pick_kernel(SB_FAMILY_F32_GAVGPOOL, sb_kernel_shape_params(0, 0), n);
  if (!k) return SB_ERR_UNSUPPORTED;
  n->kernel_fn = k->fn;
  n->kernel_name = k->name;
  return SB_OK;
}

typedef struct gavg_job {
  sb_f32_gavgpool_ukernel* fn;
  size_t pixels;
  const float* x;
  float* y;
} gavg_job;

static void run_channels(void* ctx, size_t begin, size_t end) {
  const gavg_job* j = ctx;
  j->fn(end - begin, j->pixels, j->x + begin * j->pixels, j->y + begin);
}

static void run(sb_model* m, sb_node* n) {
  const sb_tensor* x = sb_input(m, n, 0);
  sb_tensor* y = sb_output(m, n);
  size_t channels = (size_t)x->dims[1], pixels = (size_t)x->dims[2] * (size_t)x->dims[3];
  for (int32_t b = 0; b < x->dims[0]; b++) {
    gavg_job job = {(sb_f32_gavgpool_ukernel*)n->kernel_fn, pixels, x->data + (size_t)b * channels * pixels,
                    y->data + (size_t)b * channels};
    sb_parallel_for_cost(m->pool, channels, 1, (double)(channels * pixels), run_channels, &job);
  }
}

const sb_op_def sb_op_global_avg_pool = SB_OP_DEF(GLOBAL_AVG_POOL, prepare, run, 0);
