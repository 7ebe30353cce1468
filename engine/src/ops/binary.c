/* Elementwise binary ops with numpy broadcasting. ADD / MUL: same shape -> f32_vadd/vmul; [N,C,H,W] op [1|N,C,1,1]
 * -> f32_vaddc/vmulc (both commutative, so the small operand may be either input). MAX / MIN / PRELU with an operand
 * constant along the last merged axis (a scalar, a per-channel slope) -> f32_vmaxc/vminc/vpreluc row by row. Every
 * other case, and every other op (SUB, DIV, POW, ...: the portable reference), runs the generic loop: output axes whose
 * broadcast pattern agrees are merged (same shapes become one row), then rows of the last merged axis run in
 * parallel. SUB..PRELU are defined here too: they are this operator with another function. */
#include <math.h>
#include <stdlib.h>

#include "binary.h"

typedef enum { BIN_SAME, BIN_CHANNEL, BIN_ROWC, BIN_GENERIC } binary_mode;

typedef struct binary_state {
  binary_mode mode;
  sb_binary_kind kind;
  int big, small; /* input positions for BIN_CHANNEL and BIN_ROWC */
  size_t batch, channels, pixels, small_batch_stride;
  void (*fn)(void);
  /* BIN_GENERIC: merged output axes (rank 0: one element) with each input's element stride (0 on broadcast) */
  int rank;
  size_t dims[SB_MAX_RANK];
  size_t a_strides[SB_MAX_RANK], b_strides[SB_MAX_RANK];
} binary_state;

static const char* const same_names[] = {"ref_add", "ref_mul", "ref_sub", "ref_div", "ref_max", "ref_min", "ref_pow",
                                         "ref_prelu"};
static const char* const broadcast_names[] = {"ref_broadcast_add", "ref_broadcast_mul", "ref_broadcast_sub",
                                              "ref_broadcast_div", "ref_broadcast_max", "ref_broadcast_min",
                                              "ref_broadcast_pow", "ref_broadcast_prelu"};

/* dims of t right-aligned to rank (leading 1s) */
static void aligned_dims(const sb_tensor* t, int rank, int32_t* out) {
  for (int d = 0; d < rank; d++) out[d] = 1;
  for (int d = 0; d < t->rank; d++) out[rank - t->rank + d] = t->dims[d];
}

static int dims_match(const int32_t* a, const int32_t* b, int rank) {
  for (int d = 0; d < rank; d++)
    if (a[d] != b[d]) return 0;
  return 1;
}

static void strides_for(const int32_t* dims, const int32_t* out_dims, int rank, size_t* strides) {
  size_t step = 1;
  for (int d = rank - 1; d >= 0; d--) {
    strides[d] = dims[d] == out_dims[d] ? step : 0;
    step *= (size_t)dims[d];
  }
}

/* small (aligned to rank 4) is [1|N, C, 1, 1] against big [N, C, H, W] */
static int is_channel_broadcast(const int32_t* big, const int32_t* small, int rank) {
  return rank == 4 && small[1] == big[1] && small[2] == 1 && small[3] == 1 && (small[0] == 1 || small[0] == big[0]);
}

/* Merges output axes (size-1 ones dropped) whose input strides stay contiguous in both inputs. */
static void merge_axes(binary_state* s, int rank, const int32_t* od, const size_t* as, const size_t* bs) {
  s->rank = 0;
  for (int d = 0; d < rank; d++) {
    const size_t dim = (size_t)od[d];
    if (dim == 1) continue;
    const int r = s->rank;
    if (r > 0 && s->a_strides[r - 1] == as[d] * dim && s->b_strides[r - 1] == bs[d] * dim) {
      s->dims[r - 1] *= dim;
      s->a_strides[r - 1] = as[d];
      s->b_strides[r - 1] = bs[d];
    } else {
      s->dims[r] = dim;
      s->a_strides[r] = as[d];
      s->b_strides[r] = bs[d];
      s->rank++;
    }
  }
}

/* MAX / MIN / PRELU where one input is constant along the last merged axis and the other contiguous there (a scalar
 * operand: one merged axis; per-channel PReLU on NCHW: rows of H*W sharing a slope): each row runs the family's
 * vbinaryc kernel with one channel. PRELU's slope is input 1; MAX and MIN commute. NULL: the generic loop. */
static const sb_kernel_entry* pick_rowc(binary_state* s, sb_binary_kind kind, const sb_node* n) {
  if ((kind != SB_BIN_MAX && kind != SB_BIN_MIN && kind != SB_BIN_PRELU) || s->rank == 0) return NULL;
  const size_t sa = s->a_strides[s->rank - 1], sb = s->b_strides[s->rank - 1];
  if (sa == 1 && sb == 0) {
    s->big = 0;
  } else if (kind != SB_BIN_PRELU && sa == 0 && sb == 1) {
    s->big = 1;
  } else {
    return NULL;
  }
  s->small = 1 - s->big;
  const sb_kernel_family f = kind == SB_BIN_MAX   ? SB_FAMILY_F32_VMAXC
                             : kind == SB_BIN_MIN ? SB_FAMILY_F32_VMINC
                                                  : SB_FAMILY_F32_VPRELUC;
  return sb_pick_kernel(f, sb_kernel_shape_params(0, 0), n);
}

sb_status sb_binary_prepare(sb_model* m, sb_node* n, sb_binary_kind kind) {
  sb_status st;
  const int prelu = kind == SB_BIN_PRELU;
  if ((st = sb_check_f32(m, n, 0, prelu ? "X" : "A")) != SB_OK ||
      (st = sb_check_f32(m, n, 1, prelu ? "slope" : "B")) != SB_OK)
    return st;
  const sb_tensor* a = sb_input(m, n, 0);
  const sb_tensor* b = sb_input(m, n, 1);
  binary_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  s->kind = kind;
  int rank = a->rank > b->rank ? a->rank : b->rank;
  int32_t ad[SB_MAX_RANK], bd[SB_MAX_RANK], od[SB_MAX_RANK];
  aligned_dims(a, rank, ad);
  aligned_dims(b, rank, bd);
  for (int d = 0; d < rank; d++) {
    if (ad[d] != bd[d] && ad[d] != 1 && bd[d] != 1) {
      char sa[96], sbuf[96];
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "inputs '%s' %s and '%s' %s do not broadcast (dim %d)", a->name,
                          sb_shape_str(a, sa, sizeof sa), b->name, sb_shape_str(b, sbuf, sizeof sbuf), d);
    }
    od[d] = ad[d] == 1 ? bd[d] : ad[d];
  }
  if (prelu && (a->rank != rank || !dims_match(ad, od, rank))) {
    char sa[96], sbuf[96];
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "slope '%s' %s does not broadcast to input X '%s' %s", b->name,
                        sb_shape_str(b, sbuf, sizeof sbuf), a->name, sb_shape_str(a, sa, sizeof sa));
  }
  if ((st = sb_check_output(m, n, rank, od)) != SB_OK) return st;
  size_t as[SB_MAX_RANK], bs[SB_MAX_RANK];
  strides_for(ad, od, rank, as);
  strides_for(bd, od, rank, bs);
  merge_axes(s, rank, od, as, bs);

  const int fast = kind == SB_BIN_ADD || kind == SB_BIN_MUL;
  const int is_mul = kind == SB_BIN_MUL;
  const sb_kernel_entry* k = NULL;
  if (fast && dims_match(ad, od, rank) && dims_match(bd, od, rank)) {
    s->mode = BIN_SAME;
    k = sb_pick_kernel(is_mul ? SB_FAMILY_F32_VMUL : SB_FAMILY_F32_VADD, sb_kernel_shape_params(0, 0), n);
  } else if (fast && ((dims_match(ad, od, rank) && is_channel_broadcast(od, bd, rank)) ||
                      (dims_match(bd, od, rank) && is_channel_broadcast(od, ad, rank)))) {
    s->mode = BIN_CHANNEL;
    s->big = dims_match(ad, od, rank) ? 0 : 1;
    s->small = 1 - s->big;
    const int32_t* small_dims = s->big == 0 ? bd : ad;
    s->batch = (size_t)od[0];
    s->channels = (size_t)od[1];
    s->pixels = (size_t)od[2] * (size_t)od[3];
    s->small_batch_stride = small_dims[0] == 1 ? 0 : s->channels;
    k = sb_pick_kernel(is_mul ? SB_FAMILY_F32_VMULC : SB_FAMILY_F32_VADDC, sb_kernel_shape_params(0, 0), n);
  } else if ((k = pick_rowc(s, kind, n)) != NULL) {
    s->mode = BIN_ROWC;
  } else {
    s->mode = BIN_GENERIC;
    const int same = dims_match(ad, od, rank) && dims_match(bd, od, rank);
    n->kernel_name = same ? same_names[kind] : broadcast_names[kind];
    return SB_OK;
  }
  if (!k) return SB_ERR_UNSUPPORTED;
  s->fn = k->fn;
  n->kernel_name = k->name;
  return SB_OK;
}

typedef struct binary_job {
  const binary_state* s;
  const float* a;
  const float* b;
  float* y;
  const sb_activation* act;
} binary_job;

static void run_same(void* ctx, size_t begin, size_t end) {
  const binary_job* j = ctx;
  ((sb_f32_vbinary_ukernel*)j->s->fn)(end - begin, j->a + begin, j->b + begin, j->y + begin, j->act);
}

/* BIN_SAME on [planes][plane] split by pixels: pixels [begin, end) of every plane. */
typedef struct binary_pixels_job {
  const binary_job* j;
  size_t planes, plane;
} binary_pixels_job;

static void run_same_pixels(void* ctx, size_t begin, size_t end) {
  const binary_pixels_job* pj = ctx;
  const binary_job* j = pj->j;
  for (size_t q = 0; q < pj->planes; q++) {
    const size_t o = q * pj->plane + begin;
    ((sb_f32_vbinary_ukernel*)j->s->fn)(end - begin, j->a + o, j->b + o, j->y + o, j->act);
  }
}

static void run_channels(void* ctx, size_t begin, size_t end) {
  const binary_job* j = ctx;
  size_t p = j->s->pixels;
  ((sb_f32_vbinaryc_ukernel*)j->s->fn)(end - begin, p, j->a + begin * p, j->b + begin, j->y + begin * p, j->act);
}

/* One row of the last merged axis: y[k] = act(f(a[k * sa], b[k * sb])). */
#define BIN_ROW(EXPR)                                          \
  for (size_t k = 0; k < len; k++) {                           \
    const float x = a[k * sa], z = b[k * sb];                  \
    y[k] = sb_activate(act, (EXPR));                           \
  }

static void generic_row(sb_binary_kind kind, size_t len, const float* a, size_t sa, const float* b, size_t sb,
                        float* y, const sb_activation* act) {
  if (kind == SB_BIN_PRELU && sa == 1 && sb == 0 && act->kind == SB_ACT_NONE) {
    /* one slope over a contiguous row (per-channel PReLU on NCHW: TFLite's BlazeBlocks): a plain loop the compiler
     * unrolls, no activation switch per element */
    const float z = b[0];
    for (size_t k = 0; k < len; k++) y[k] = a[k] < 0.0f ? z * a[k] : a[k];
    return;
  }
  switch (kind) {
    case SB_BIN_ADD: BIN_ROW(x + z) break;
    case SB_BIN_MUL: BIN_ROW(x * z) break;
    case SB_BIN_SUB: BIN_ROW(x - z) break;
    case SB_BIN_DIV: BIN_ROW(x / z) break;
    case SB_BIN_MAX: BIN_ROW(x < z ? z : x) break;
    case SB_BIN_MIN: BIN_ROW(z < x ? z : x) break;
    case SB_BIN_POW: BIN_ROW(powf(x, z)) break;
    case SB_BIN_PRELU: BIN_ROW(x < 0.0f ? z * x : x) break;
  }
}
#undef BIN_ROW

/* Rows [begin, end) of the merged output: each row's input offsets from its index over the outer merged axes. */
static void run_generic_rows(void* ctx, size_t begin, size_t end) {
  const binary_job* j = ctx;
  const binary_state* s = j->s;
  const int r = s->rank;
  const size_t len = r ? s->dims[r - 1] : 1, sa = r ? s->a_strides[r - 1] : 0, sb = r ? s->b_strides[r - 1] : 0;
  for (size_t row = begin; row < end; row++) {
    size_t ao = 0, bo = 0, rest = row;
    for (int d = r - 2; d >= 0; d--) {
      const size_t i = rest % s->dims[d];
      rest /= s->dims[d];
      ao += i * s->a_strides[d];
      bo += i * s->b_strides[d];
    }
    if (s->mode == BIN_ROWC) {
      const float* big = s->big == 0 ? j->a + ao : j->b + bo;
      const float* small = s->big == 0 ? j->b + bo : j->a + ao;
      ((sb_f32_vbinaryc_ukernel*)s->fn)(1, len, big, small, j->y + row * len, j->act);
    } else {
      generic_row(s->kind, len, j->a + ao, sa, j->b + bo, sb, j->y + row * len, j->act);
    }
  }
}

/* BIN_ROWC with one merged axis (a scalar operand): chunks of the one row in parallel. */
static void run_rowc_flat(void* ctx, size_t begin, size_t end) {
  const binary_job* j = ctx;
  const float* big = j->s->big == 0 ? j->a : j->b;
  const float* small = j->s->big == 0 ? j->b : j->a;
  ((sb_f32_vbinaryc_ukernel*)j->s->fn)(1, end - begin, big + begin, small, j->y + begin, j->act);
}

void sb_binary_run(sb_model* m, sb_node* n) {
  const binary_state* s = n->state;
  const float* a = sb_f32(sb_input(m, n, 0));
  const float* b = sb_f32(sb_input(m, n, 1));
  sb_tensor* yt = sb_output(m, n);
  if (s->mode == BIN_SAME) {
    binary_job job = {s, a, b, yt->data, &n->act};
    /* NCHW whose plane has at least as many pixels as channels: the convs around it split pixels (conv_common.c),
     * so split pixels too (the same pixels of every channel per chunk), and each thread reads what its own chunks
     * of the conv before wrote. Chunks start at multiples of 16 pixels of a plane, so every pixel takes the same
     * vector lane or tail code at any thread count. */
    const size_t plane = yt->rank == 4 ? (size_t)yt->dims[2] * (size_t)yt->dims[3] : 0;
    if (plane && plane >= (size_t)yt->dims[1]) {
      binary_pixels_job pj = {&job, yt->count / plane, plane};
      sb_parallel_for_cost(m->pool, plane, 16, (double)yt->count, run_same_pixels, &pj);
    } else {
      sb_parallel_for_cost(m->pool, yt->count, 64, (double)yt->count, run_same, &job);
    }
  } else if (s->mode == BIN_CHANNEL) {
    const float* big = s->big == 0 ? a : b;
    const float* small = s->big == 0 ? b : a;
    size_t image = s->channels * s->pixels;
    for (size_t i = 0; i < s->batch; i++) {
      binary_job job = {s, big + i * image, small + i * s->small_batch_stride, yt->data + i * image, &n->act};
      sb_parallel_for_cost(m->pool, s->channels, 1, (double)image, run_channels, &job);
    }
  } else if (s->mode == BIN_ROWC && s->rank == 1) {
    binary_job job = {s, a, b, yt->data, &n->act};
    sb_parallel_for_cost(m->pool, yt->count, 1024, (double)yt->count, run_rowc_flat, &job);
  } else {
    binary_job job = {s, a, b, yt->data, &n->act};
    const size_t len = s->rank ? s->dims[s->rank - 1] : 1;
    /* chunks of >= ~4K elements: short rows (broadcast over the last axis) would otherwise cost a wake-up each */
    sb_parallel_for_cost(m->pool, yt->count / len, len >= 4096 ? 1 : 4096 / len, (double)yt->count,
                         run_generic_rows, &job);
  }
}

/* The ops beyond ADD and MUL (add.c, mul.c): the same operator with another function. */
static sb_status prepare_sub(sb_model* m, sb_node* n) { return sb_binary_prepare(m, n, SB_BIN_SUB); }
static sb_status prepare_div(sb_model* m, sb_node* n) { return sb_binary_prepare(m, n, SB_BIN_DIV); }
static sb_status prepare_maximum(sb_model* m, sb_node* n) { return sb_binary_prepare(m, n, SB_BIN_MAX); }
static sb_status prepare_minimum(sb_model* m, sb_node* n) { return sb_binary_prepare(m, n, SB_BIN_MIN); }
static sb_status prepare_pow(sb_model* m, sb_node* n) { return sb_binary_prepare(m, n, SB_BIN_POW); }
static sb_status prepare_prelu(sb_model* m, sb_node* n) { return sb_binary_prepare(m, n, SB_BIN_PRELU); }

const sb_op_def sb_op_sub = SB_OP_DEF(SUB, prepare_sub, sb_binary_run, 1);
const sb_op_def sb_op_div = SB_OP_DEF(DIV, prepare_div, sb_binary_run, 1);
const sb_op_def sb_op_maximum = SB_OP_DEF(MAXIMUM, prepare_maximum, sb_binary_run, 1);
const sb_op_def sb_op_minimum = SB_OP_DEF(MINIMUM, prepare_minimum, sb_binary_run, 1);
const sb_op_def sb_op_pow = SB_OP_DEF(POW, prepare_pow, sb_binary_run, 1);
const sb_op_def sb_op_prelu = SB_OP_DEF(PRELU, prepare_prelu, sb_binary_run, 1);
