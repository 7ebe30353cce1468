/* LAYER_NORM (over axes axis..rank-1, scale and bias of those dims) and INSTANCE_NORM (over each (n, c) plane, scale
 * and bias per channel): y = (x - mean) / sqrt(var + epsilon) * scale + bias, the biased variance. The portable
 * reference: rows (one normalized group each) run in parallel; mean and variance are two passes in double.
 * LAYER_NORM runs the f32-layernorm kernel the build's choice table picks (its scalar kernel is that reference). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

static float epsilon_of(const sb_node* n) {
  const int32_t bits = sb_attr_norm_epsilon_bits(n);
  float eps;
  memcpy(&eps, &bits, sizeof eps);
  return eps;
}

static sb_status check_epsilon(const sb_node* n) {
  const float eps = epsilon_of(n);
  if (!(eps > 0.0f) || isinf(eps))
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "epsilon %g (bits 0x%08x) must be finite and > 0", (double)eps,
                        (unsigned)sb_attr_norm_epsilon_bits(n));
  return SB_OK;
}

static sb_status prepare_layer(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const int32_t axis = sb_attr_norm_axis(n);
  if (axis < 0 || axis >= x->rank)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "axis %d out of range for input '%s' of rank %d", axis, x->name, x->rank);
  if ((st = check_epsilon(n)) != SB_OK) return st;
  const int rank = x->rank - axis;
  if ((st = sb_check_constant(m, n, 1, "scale", SB_DTYPE_F32, rank, x->dims + axis)) != SB_OK) return st;
  if (n->num_inputs > 2 && (st = sb_check_constant(m, n, 2, "bias", SB_DTYPE_F32, rank, x->dims + axis)) != SB_OK)
    return st;
  if ((st = sb_check_output(m, n, x->rank, x->dims)) != SB_OK) return st;
  const sb_kernel_entry* k = sb_pick_kernel(SB_FAMILY_F32_LAYERNORM, sb_kernel_shape_params(0, 0), n);
  if (!k) return SB_ERR_UNSUPPORTED;
  sb_f32_layernorm_ukernel** fn = malloc(sizeof *fn);
  if (!fn) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  *fn = (sb_f32_layernorm_ukernel*)k->fn;
  n->state = fn;
  n->kernel_name = k->name;
  return SB_OK;
}

static sb_status prepare_instance(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  if (x->rank < 3)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input '%s' has rank %d; INSTANCE_NORM needs [N,C,...] of rank 3..%d",
                        x->name, x->rank, SB_MAX_RANK);
  if (sb_attr_norm_axis(n) != 0)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "axis = %d (must be 0)", sb_attr_norm_axis(n));
  if ((st = check_epsilon(n)) != SB_OK) return st;
  const int32_t c[1] = {x->dims[1]};
  if ((st = sb_check_constant(m, n, 1, "scale", SB_DTYPE_F32, 1, c)) != SB_OK ||
      (st = sb_check_constant(m, n, 2, "bias", SB_DTYPE_F32, 1, c)) != SB_OK ||
      (st = sb_check_output(m, n, x->rank, x->dims)) != SB_OK)
    return st;
  n->kernel_name = "ref_instance_norm";
  return SB_OK;
}

typedef struct norm_job {
  const float* x;
  float* y;
  const float* scale;
  const float* bias; /* NULL: none */
  size_t len;        /* elements per row */
  size_t channels;   /* INSTANCE_NORM: rows per image (scale/bias per row); 0: LAYER_NORM (per element) */
  float eps;
  sb_f32_layernorm_ukernel* layernorm; /* LAYER_NORM */
} norm_job;

static void run_rows(void* ctx, size_t begin, size_t end) {
  const norm_job* j = ctx;
  if (!j->channels) {
    j->layernorm(end - begin, j->len, j->x + begin * j->len, j->scale, j->bias, j->eps, j->y + begin * j->len);
    return;
  }
  for (size_t r = begin; r < end; r++) {
    const float* x = j->x + r * j->len;
    float* y = j->y + r * j->len;
    double sum = 0.0, sq = 0.0;
    for (size_t k = 0; k < j->len; k++) sum += x[k];
    const double mean = sum / (double)j->len;
    for (size_t k = 0; k < j->len; k++) sq += (x[k] - mean) * (x[k] - mean);
    const float mu = (float)mean, inv = (float)(1.0 / sqrt(sq / (double)j->len + (double)j->eps));
    const size_t c = r % j->channels;
    const float a = inv * j->scale[c], b = j->bias[c];
    for (size_t k = 0; k < j->len; k++) y[k] = (x[k] - mu) * a + b;
  }
}

static void run_norm(sb_model* m, sb_node* n, size_t len, size_t channels) {
  const sb_tensor* x = sb_input(m, n, 0);
  sb_tensor* y = sb_output(m, n);
  norm_job job = {x->data, y->data, sb_f32(sb_input(m, n, 1)),
                  n->num_inputs > 2 ? sb_f32(sb_input(m, n, 2)) : NULL, len, channels, epsilon_of(n),
                  channels ? NULL : *(sb_f32_layernorm_ukernel* const*)n->state};
  size_t rows = y->count / len;
  sb_parallel_for_cost(m->pool, rows, len >= 4096 ? 1 : 4096 / len, 4.0 * (double)y->count, run_rows, &job);
}

static void run_layer(sb_model* m, sb_node* n) {
  const sb_tensor* x = sb_input(m, n, 0);
  size_t len = 1;
  for (int d = sb_attr_norm_axis(n); d < x->rank; d++) len *= (size_t)x->dims[d];
  run_norm(m, n, len, 0);
}

static void run_instance(sb_model* m, sb_node* n) {
  const sb_tensor* x = sb_input(m, n, 0);
  size_t len = 1;
  for (int d = 2; d < x->rank; d++) len *= (size_t)x->dims[d];
  run_norm(m, n, len, (size_t)x->dims[1]);
}

const sb_op_def sb_op_layer_norm = SB_OP_DEF(LAYER_NORM, prepare_layer, run_layer, 0);
const sb_op_def sb_op_instance_norm = SB_OP_DEF(INSTANCE_NORM, prepare_instance, run_instance, 0);
