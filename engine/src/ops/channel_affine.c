/* CHANNEL_AFFINE (standalone BatchNormalization): y[n][c][p] = x[n][c][p] * scale[c] + shift[c], via f32_affine. */
#include "ops.h"

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  if (x->rank < 2) return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input '%s' has rank %d, needs [N,C,...]", x->name, x->rank);
  if ((st = sb_check_constant(m, n, 1, "scale", SB_DTYPE_F32, 1, &x->dims[1])) != SB_OK) return st;
  if ((st = sb_check_constant(m, n, 2, "shift", SB_DTYPE_F32, 1, &x->dims[1])) != SB_OK) return st;
  if ((st = sb_check_output(m, n, x->rank, x->dims)) != SB_OK) return st;
  const sb_kernel_entry* k = sb_pick_kernel(SB_FAMILY_F32_AFFINE, sb_kernel_shape_params(0, 0), n);
  if (!k) return SB_ERR_UNSUPPORTED;
  n->kernel_fn = k->fn;
  n->kernel_name = k->name;
  return SB_OK;
}

typedef struct affine_job {
  sb_f32_affine_ukernel* fn;
  size_t pixels;
  const float *x, *scale, *shift;
  float* y;
  const sb_activation* act;
} affine_job;

static void run_channels(void* ctx, size_t begin, size_t end) {
  const affine_job* j = ctx;
  j->fn(end - begin, j->pixels, j->x + begin * j->pixels, j->scale + begin, j->shift + begin, j->y + begin * j->pixels,
        j->act);
}

static void run(sb_model* m, sb_node* n) {
  const sb_tensor* x = sb_input(m, n, 0);
  size_t channels = (size_t)x->dims[1], pixels = x->count / ((size_t)x->dims[0] * channels);
  for (int32_t b = 0; b < x->dims[0]; b++) {
    size_t offset = (size_t)b * channels * pixels;
    affine_job job = {(sb_f32_affine_ukernel*)n->kernel_fn, pixels, x->data + offset, sb_f32(sb_input(m, n, 1)),
                      sb_f32(sb_input(m, n, 2)), sb_output(m, n)->data + offset, &n->act};
    sb_parallel_for_cost(m->pool, channels, 1, (double)(channels * pixels), run_channels, &job);
  }
}

const sb_op_def sb_op_channel_affine = SB_OP_DEF(CHANNEL_AFFINE, prepare, run, 1);
