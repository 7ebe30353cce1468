/* FC_SPARSE: group-sparse fully connected layer through f32_spmm, one pixel per batch row. */
#include <stdlib.h>

#include "ops.h"

typedef struct fc_sparse_state {
  sb_sparse_weights w;
  sb_f32_spmm_ukernel* fn;
} fc_sparse_state;

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", 2);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const sb_tensor* y = sb_output(m, n);
  if (y->rank != 2 || y->dims[0] != x->dims[0]) {
    char shape[96];
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output '%s' has shape %s, expected [%d,Cout]", y->name,
                        sb_shape_str(y, shape, sizeof shape), x->dims[0]);
  }
  fc_sparse_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  st = sb_prepare_sparse(m, n, 1, y->dims[1], x->dims[1], 1, sb_attr_fc_sparse_G(n), &s->w, (int32_t**)&n->owned[1]);
  if (st != SB_OK) return st;
  if ((st = sb_bias_or_zeros(m, n, 4, y->dims[1], &s->w.bias, (float**)&n->owned[0])) != SB_OK) return st;
  const sb_kernel_entry* k = sb_pick_kernel(
      SB_FAMILY_F32_SPMM, sb_kernel_shape_fc(s->w.group, s->w.in_channels, s->w.out_channels, s->w.group_start[s->w.num_groups]), n);
  if (!k) return SB_ERR_UNSUPPORTED;
  s->fn = (sb_f32_spmm_ukernel*)k->fn;
  n->kernel_name = k->name;
  n->macs = sb_sparse_kept_macs(&s->w) * x->dims[0];
  n->dense_macs = (int64_t)x->dims[0] * x->dims[1] * y->dims[1];
  return SB_OK;
}

#define FC_SPARSE_MAX_BLOCKS 64

typedef struct fc_sparse_job {
  const fc_sparse_state* s;
  const float* x;
  float* y;
  const sb_activation* act;
  size_t blocks;                               /* item t: batch row t / blocks, group block t % blocks */
  size_t cuts[FC_SPARSE_MAX_BLOCKS + 1];       /* group boundaries at equal shares of the kept weights */
} fc_sparse_job;

/* Items [begin, end): one spmm call per (batch row, block of output groups). The kernels read group_start[g] as
 * absolute offsets into index/values, so a block is the same weights with group_start, nnz and bias advanced. */
static void run_items(void* ctx, size_t begin, size_t end) {
  const fc_sparse_job* j = ctx;
  const sb_sparse_weights* all = &j->s->w;
  const size_t cin = (size_t)all->in_channels, cout = (size_t)all->out_channels, g = (size_t)all->group;
  for (size_t t = begin; t < end; t++) {
    const size_t b = t / j->blocks, g0 = j->cuts[t % j->blocks], g1 = j->cuts[t % j->blocks + 1];
    if (g0 >= g1) continue;
    sb_sparse_weights w = *all;
    w.num_groups = (int32_t)(g1 - g0);
    w.out_channels = (int32_t)((g1 * g < cout ? g1 * g : cout) - g0 * g);
    w.nnz += g0;
    w.group_start += g0;
    w.bias += g0 * g;
    j->s->fn(1, 1, &w, j->x + b * cin, j->y + b * cout + g0 * g, j->act);
  }
}

static void run(sb_model* m, sb_node* n) {
  const fc_sparse_state* s = n->state;
  const sb_tensor* x = sb_input(m, n, 0);
  const size_t rows = (size_t)x->dims[0], groups = (size_t)s->w.num_groups;
  fc_sparse_job job = {s, x->data, sb_output(m, n)->data, &n->act, 1, {0}};
  /* batch rows first; the output groups of a row split too when there are fewer rows than chunks (batch 1) */
  const double cost = (double)n->macs + (double)(rows * (size_t)s->w.out_channels);
  const size_t target = sb_target_chunks(m->pool, cost, FC_SPARSE_MAX_BLOCKS);
  if (rows < target && groups > 1) {
    job.blocks = (target + rows - 1) / rows;
    if (job.blocks > groups) job.blocks = groups;
    if (job.blocks > FC_SPARSE_MAX_BLOCKS) job.blocks = FC_SPARSE_MAX_BLOCKS;
  }
  sb_split_groups(s->w.group_start, groups, job.blocks, job.cuts);
  sb_parallel_for_cost(m->pool, rows * job.blocks, 1, cost, run_items, &job);
}

const sb_op_def sb_op_fc_sparse = SB_OP_DEF(FC_SPARSE, prepare, run, 1);
