/* Inverted residuals on a channel split (docs/threads.md, "Fused inverted residuals"). With a pool of P = 2..4
 * threads, a chain expand 1x1 -> depthwise kxk -> project 1x1 (act none) [-> ADD of the block input] runs as one
 * unit: part k of P takes hidden channels [h0, h1), runs the expand's output channels, the depthwise conv and the
 * projection over its own input channels into a partial sum, all in a scratch region only part k touches; then the
 * partial sums are added (and the residual) per block of output channels. Data a core wrote and the other reads
 * costs ~3x a local pass on the 2-core KVM guest (docs/threads.md): split node by node, the projection read every
 * hidden channel, half of them written by the other core, and the arena's reused blocks made half of all writes land
 * on lines the other core held. Fused, only the block input and the partial sums cross.
 * The projection's sum is taken in P parts, so results differ from 1 thread's by rounding (and are the same bits
 * on every run with P threads, split or inline); SPARSEBYTE_FUSE=0 turns it off. */
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

/* Fused with 2-4 threads only: under qemu (benchmarks/arm/threads.py, MobileNetV2 dense) the critical path of 2 / 4
 * threads is 0.504 / 0.261 of 1 thread's fused against 0.506 / 0.258 unfused, but 0.146 against 0.135 at 8, where
 * eight partial sums of every output cost more than the cache they save */
#define SB_FUSE_MAX_PARTS 4
/* expand + depthwise outputs of one part at most (floats): they stay in the core's L2 (2 MiB here; 1 MiB on the
 * Cortex-A76 big cores) */
#define SB_FUSE_PART_FLOATS (256u * 1024u)

typedef struct fused_part {
  size_t h0, h1;        /* hidden channels */
  const float* project; /* dense: the projection's columns [h0, h1), [cout][h1 - h0] */
  sb_sparse_weights sparse; /* sparse: its kept weights with inputs in [h0, h1), indices relative to h0 */
  void* owned;
} fused_part;

struct sb_fused {
  int32_t first, count; /* nodes [first, first + count): expand, depthwise, project[, add] */
  int32_t residual;     /* the ADD's other input tensor, -1 without the ADD */
  int32_t output;       /* the tensor the chain writes */
  size_t parts;
  /* a part's scratch region: the expand's output, the depthwise output at `depthwise`, the partial sum at `partial`
   * (floats; sized for the largest part) */
  size_t depthwise, partial;
  fused_part part[SB_FUSE_MAX_PARTS];
  float* zeros; /* bias of the parts past the first (the first takes the projection's) */
  sb_f32_vbinary_ukernel* add; /* f32-vadd: the sums */
};

static const sb_conv_state* conv_state(const sb_node* n) {
  return n->op == SB_OP_CONV || n->op == SB_OP_CONV_SPARSE ? n->state : NULL;
}

static int pointwise(const sb_conv_state* s) { return s && (s->mode == SB_CONV_GEMM || s->mode == SB_CONV_SPMM); }

/* Node i's output is read by node i + 1 alone and is no graph output. */
static int feeds_only_next(const sb_model* m, const int32_t* uses, int32_t i) {
  const sb_tensor* t = &m->tensors[m->nodes[i].output];
  if (t->is_graph_output || uses[m->nodes[i].output] != 1 || i + 1 >= m->num_nodes) return 0;
  const sb_node* next = &m->nodes[i + 1];
  for (int32_t k = 0; k < next->num_inputs; k++)
    if (next->inputs[k] == m->nodes[i].output) return 1;
  return 0;
}

static int batch_one(const sb_model* m, const sb_node* n) { return m->tensors[n->output].dims[0] == 1; }

/* Columns [h0, h1) of the projection, as dense weights or as sparse weights of their own. */
static int build_part(fused_part* p, const sb_conv_state* c, size_t h0, size_t h1) {
  p->h0 = h0;
  p->h1 = h1;
  const size_t cout = (size_t)c->shape.out_c, k = h1 - h0;
  if (c->mode == SB_CONV_GEMM) {
    float* w = malloc(cout * k * sizeof(float) + 1);
    if (!w) return 0;
    for (size_t o = 0; o < cout; o++) memcpy(w + o * k, c->weights + o * (size_t)c->shape.in_c + h0, k * sizeof(float));
    p->project = w;
    p->owned = w;
    return 1;
  }
  const sb_sparse_weights* s = &c->sparse;
  const size_t groups = (size_t)s->num_groups, g = (size_t)s->group;
  size_t kept = 0;
  for (size_t j = 0; j < (size_t)s->group_start[groups]; j++)
    kept += (size_t)s->index[j] >= h0 && (size_t)s->index[j] < h1;
  const size_t ints = 2 * groups + 1 + kept;
  int32_t* mem = malloc(ints * sizeof(int32_t) + kept * g * sizeof(float) + 16);
  if (!mem) return 0;
  int32_t *nnz = mem, *start = nnz + groups, *index = start + groups + 1;
  float* values = (float*)(index + kept);
  start[0] = 0;
  for (size_t gi = 0; gi < groups; gi++) {
    int32_t n = 0;
    for (int32_t j = s->group_start[gi]; j < s->group_start[gi + 1]; j++) {
      const size_t ci = (size_t)s->index[j];
      if (ci < h0 || ci >= h1) continue;
      const size_t at = (size_t)start[gi] + (size_t)n++;
      index[at] = (int32_t)(ci - h0);
      memcpy(values + at * g, s->values + (size_t)j * g, g * sizeof(float));
    }
    nnz[gi] = n;
    start[gi + 1] = start[gi] + n;
  }
  p->sparse = *s;
  p->sparse.in_channels = (int32_t)k;
  p->sparse.nnz = nnz;
  p->sparse.group_start = start;
  p->sparse.index = index;
  p->sparse.values = values;
  p->owned = mem;
  return 1;
}

/* The chain starting at node i, or 0 (nothing allocated). */
static int match(sb_model* m, const int32_t* uses, int32_t i, size_t parts, struct sb_fused* f, size_t* part_floats) {
  if (i + 2 >= m->num_nodes) return 0;
  const sb_node *na = &m->nodes[i], *nb = &m->nodes[i + 1], *nc = &m->nodes[i + 2];
  const sb_conv_state *a = conv_state(na), *b = conv_state(nb), *c = conv_state(nc);
  if (!pointwise(a) || !pointwise(c) || !b || b->mode != SB_CONV_DIRECT || nb->op != SB_OP_CONV ||
      nc->act.kind != SB_ACT_NONE)
    return 0;
  const size_t hidden = (size_t)a->shape.out_c;
  if (b->shape.groups != (int32_t)hidden || b->shape.in_c != (int32_t)hidden || b->shape.out_c != (int32_t)hidden ||
      c->shape.in_c != (int32_t)hidden || hidden < 8 * parts)
    return 0;
  if (!batch_one(m, na) || !batch_one(m, nb) || !batch_one(m, nc) || nb->inputs[0] != na->output ||
      nc->inputs[0] != nb->output || !feeds_only_next(m, uses, i) || !feeds_only_next(m, uses, i + 1))
    return 0;
  const size_t plane_a = (size_t)a->shape.out_h * a->shape.out_w, plane_b = (size_t)b->shape.out_h * b->shape.out_w;
  /* equal parts, cut at multiples of 8 channels (whole groups of any G, whole GEMM channel tiles; distinct, since
   * hidden >= 8 * parts) */
  size_t cut[SB_FUSE_MAX_PARTS + 1], step = 0;
  for (size_t k = 0; k <= parts; k++) cut[k] = k == parts ? hidden : hidden * k / parts / 8 * 8;
  for (size_t k = 0; k < parts; k++)
    if (cut[k + 1] - cut[k] > step) step = cut[k + 1] - cut[k];
  if (step * (plane_a + plane_b) > SB_FUSE_PART_FLOATS) return 0;
  memset(f, 0, sizeof *f);
  f->first = i;
  f->count = 3;
  f->residual = -1;
  f->output = nc->output;
  if (i + 3 < m->num_nodes && feeds_only_next(m, uses, i + 2)) { /* the block's residual ADD */
    const sb_node* nd = &m->nodes[i + 3];
    const int32_t other = nd->inputs[0] == nc->output ? nd->inputs[1] : nd->inputs[0];
    if (nd->op == SB_OP_ADD && nd->act.kind == SB_ACT_NONE && other != nc->output &&
        !m->tensors[other].is_constant && sb_same_shape(&m->tensors[other], &m->tensors[nc->output]) &&
        sb_same_shape(&m->tensors[nd->output], &m->tensors[nc->output])) {
      f->count = 4;
      f->residual = other;
      f->output = nd->output;
    }
  }
  f->parts = parts;
  f->depthwise = step * plane_a;
  f->partial = f->depthwise + step * plane_b;
  const sb_kernel_entry* add = sb_pick_kernel(SB_FAMILY_F32_VADD, sb_kernel_shape_params(0, 0), nc);
  const size_t cout = (size_t)c->shape.out_c;
  float* zeros = add ? calloc(cout ? cout : 1, sizeof(float)) : NULL;
  size_t built = 0;
  while (zeros && built < parts && build_part(&f->part[built], c, cut[built], cut[built + 1])) built++;
  if (built < parts) { /* out of memory (or no f32-vadd, which every build has): run unfused */
    sb_clear_error();
    while (built) free(f->part[--built].owned);
    free(zeros);
    return 0;
  }
  f->add = (sb_f32_vbinary_ukernel*)add->fn;
  f->zeros = zeros;
  const size_t need = (f->partial + cout * plane_b + 15) / 16 * 16;
  if (need > *part_floats) *part_floats = need;
  return 1;
}

void sb_fuse_clear(sb_model* m) {
  for (int32_t i = 0; i < m->num_fused; i++) {
    for (size_t k = 0; k < m->fused[i].parts; k++) free(m->fused[i].part[k].owned);
    free(m->fused[i].zeros);
  }
  free(m->fused);
  free(m->fused_at);
  free(m->fuse_scratch);
  m->fused = NULL;
  m->fused_at = NULL;
  m->fuse_scratch = NULL;
  m->num_fused = 0;
  m->fuse_part_floats = 0;
}

void sb_fuse_plan(sb_model* m) {
  sb_fuse_clear(m);
  m->fuse_key = m->threads * 2 + m->keep_intermediates;
  const char* env = getenv("SPARSEBYTE_FUSE");
  const size_t parts = (size_t)m->threads;
  if (parts < 2 || parts > SB_FUSE_MAX_PARTS || m->keep_intermediates || (env && !strcmp(env, "0")) ||
      m->num_nodes < 3)
    return;
  int32_t* uses = calloc((size_t)m->num_tensors, sizeof *uses);
  m->fused_at = malloc((size_t)m->num_nodes * sizeof *m->fused_at);
  m->fused = calloc((size_t)m->num_nodes / 3 + 1, sizeof *m->fused);
  if (!uses || !m->fused_at || !m->fused) {
    free(uses);
    sb_fuse_clear(m);
    return; /* out of memory: run unfused */
  }
  for (int32_t i = 0; i < m->num_nodes; i++) {
    m->fused_at[i] = -1;
    for (int32_t k = 0; k < m->nodes[i].num_inputs; k++) uses[m->nodes[i].inputs[k]]++;
  }
  size_t part_floats = 0;
  for (int32_t i = 0; i + 2 < m->num_nodes; i++)
    if (match(m, uses, i, parts, &m->fused[m->num_fused], &part_floats)) {
      m->fused_at[i] = m->num_fused++;
      i += m->fused[m->fused_at[i]].count - 1;
    }
  free(uses);
  if (m->num_fused == 0 || !(m->fuse_scratch = sb_aligned_alloc(parts * part_floats * sizeof(float)))) {
    sb_fuse_clear(m);
    return;
  }
  m->fuse_part_floats = part_floats;
}

static const sb_activation none = {SB_ACT_NONE, 0.0f, 0.0f}; /* projections and sums: no activation */

typedef struct fuse_job {
  const sb_model* m;
  const struct sb_fused* f;
} fuse_job;

static void run_parts(void* ctx, size_t begin, size_t end) {
  const fuse_job* j = ctx;
  const sb_model* m = j->m;
  const struct sb_fused* f = j->f;
  const sb_node *na = &m->nodes[f->first], *nb = na + 1, *nc = na + 2;
  const sb_conv_state *a = na->state, *b = nb->state, *c = nc->state;
  const size_t plane_a = (size_t)a->shape.out_h * a->shape.out_w, plane_b = (size_t)b->shape.out_h * b->shape.out_w;
  const float* x = m->tensors[na->inputs[0]].data;
  for (size_t k = begin; k < end; k++) {
    const fused_part* p = &f->part[k];
    const size_t h0 = p->h0, h1 = p->h1;
    float* expanded = m->fuse_scratch + k * m->fuse_part_floats;
    float *depthwise = expanded + f->depthwise, *partial = expanded + f->partial;
    if (a->mode == SB_CONV_GEMM) {
      const size_t cin = (size_t)a->shape.in_c;
      ((sb_f32_gemm_ukernel*)a->fn)(plane_a, plane_a, h1 - h0, cin, a->weights + h0 * cin, a->bias + h0, x, expanded,
                                    &na->act);
    } else {
      size_t first = 0;
      const size_t g = (size_t)a->sparse.group;
      const sb_sparse_weights w = sb_sparse_group_block(&a->sparse, h0 / g, (h1 + g - 1) / g, &first);
      ((sb_f32_spmm_ukernel*)a->fn)(plane_a, plane_a, &w, x, expanded, &na->act);
    }
    sb_conv_shape sub = b->shape;
    sub.in_c = sub.out_c = sub.groups = (int32_t)(h1 - h0);
    const size_t taps = (size_t)b->shape.kh * b->shape.kw;
    ((sb_f32_conv_ukernel*)b->fn)(&sub, b->weights + h0 * taps, b->bias + h0, expanded, depthwise, &nb->act, 0,
                                  (size_t)sub.out_h);
    if (c->mode == SB_CONV_GEMM) {
      ((sb_f32_gemm_ukernel*)c->fn)(plane_b, plane_b, (size_t)c->shape.out_c, h1 - h0, p->project,
                                    k == 0 ? c->bias : f->zeros, depthwise, partial, &none);
    } else {
      sb_sparse_weights w = p->sparse;
      w.bias = k == 0 ? c->sparse.bias : f->zeros;
      ((sb_f32_spmm_ukernel*)c->fn)(plane_b, plane_b, &w, depthwise, partial, &none);
    }
  }
}

/* Output channels of blocks [begin, end) of `parts` equal blocks: the partial sums in part order, then the
 * residual. */
static void run_sums(void* ctx, size_t begin, size_t end) {
  const fuse_job* j = ctx;
  const sb_model* m = j->m;
  const struct sb_fused* f = j->f;
  const sb_conv_state* c = m->nodes[f->first + 2].state;
  const size_t cout = (size_t)c->shape.out_c, plane = (size_t)c->shape.out_h * c->shape.out_w;
  const size_t lo = cout * begin / f->parts * plane, hi = cout * end / f->parts * plane;
  float* y = m->tensors[f->output].data;
  const float* r = f->residual >= 0 ? m->tensors[f->residual].data : NULL;
  const float* p0 = m->fuse_scratch + f->partial;
  const size_t n = hi - lo;
  for (size_t k = 1; k < f->parts; k++)
    f->add(n, k == 1 ? p0 + lo : y + lo, p0 + k * m->fuse_part_floats + lo, y + lo, &none);
  if (r) f->add(n, y + lo, r + lo, y + lo, &none);
}

int32_t sb_fuse_run(sb_model* m, int32_t chain) {
  const struct sb_fused* f = &m->fused[chain];
  fuse_job job = {m, f};
  sb_parallel_for(m->pool, f->parts, 1, run_parts, &job);
  sb_parallel_for(m->pool, f->parts, 1, run_sums, &job);
  return f->count;
}
