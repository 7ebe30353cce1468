/* ACTIVATION: y = act(x) with the node's act_kind, through f32_vact. */
#include "ops.h"

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  if ((st = sb_check_output(m, n, x->rank, x->dims)) != SB_OK) return st;
  const sb_kernel_entry* k = sb_pick_kernel(SB_FAMILY_F32_VACT, sb_kernel_shape_params(0, 0), n);
  if (!k) return SB_ERR_UNSUPPORTED;
  n->kernel_fn = k->fn;
  n->kernel_name = k->name;
  return SB_OK;
}

typedef struct act_job {
  sb_f32_vunary_ukernel* fn;
  const float* x;
  float* y;
  const sb_activation* act;
} act_job;

static void run_range(void* ctx, size_t begin, size_t end) {
  const act_job* j = ctx;
  j->fn(end - begin, j->x + begin, j->y + begin, j->act);
}

static void run(sb_model* m, sb_node* n) {
  sb_tensor* y = sb_output(m, n);
  act_job job = {(sb_f32_vunary_ukernel*)n->kernel_fn, sb_input(m, n, 0)->data, y->data, &n->act};
  sb_parallel_for_cost(m->pool, y->count, 64, (double)y->count, run_range, &job);
}

const sb_op_def sb_op_activation = SB_OP_DEF(ACTIVATION, prepare, run, 1);
