/* Elementwise ADD / MUL with numpy broadcasting. Same shape -> f32_vadd/vmul; [N,C,H,W] op [1|N,C,1,1] ->
 * f32_vaddc/vmulc; any other broadcast -> the generic loop below. Both ops are commutative, so the small operand
 * may be either input. */
#include <stdlib.h>

#include "binary.h"

typedef enum { BIN_SAME, BIN_CHANNEL, BIN_GENERIC } binary_mode;

typedef struct binary_state {
  binary_mode mode;
  int is_mul;
  int big, small; /* input positions for BIN_CHANNEL */
  size_t batch, channels, pixels, small_batch_stride;
  void (*fn)(void);
  int rank;
  int32_t out_dims[SB_MAX_RANK];
  size_t a_strides[SB_MAX_RANK], b_strides[SB_MAX_RANK]; /* 0 on broadcast dims */
} binary_state;

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

sb_status sb_binary_prepare(sb_model* m, sb_node* n, int is_mul) {
  sb_status st;
  if ((st = sb_check_f32(m, n, 0, "A")) != SB_OK || (st = sb_check_f32(m, n, 1, "B")) != SB_OK) return st;
  const sb_tensor* a = sb_input(m, n, 0);
  const sb_tensor* b = sb_input(m, n, 1);
  binary_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  s->is_mul = is_mul;
  int rank = a->rank > b->rank ? a->rank : b->rank;
  int32_t ad[SB_MAX_RANK], bd[SB_MAX_RANK], od[SB_MAX_RANK];
  aligned_dims(a, rank, ad);
  aligned_dims(b, rank, bd);
  for (int d = 0; d < rank; d++) {
    if (ad[d] != bd[d] && ad[d] != 1 && bd[d] != 1) {
      char sa[96], sbuf[96];
      return SB_NODE_FAIL(SB_ERR_FORMAT, n, "shapes %s and %s do not broadcast (dim %d)", sb_shape_str(a, sa, sizeof sa),
                          sb_shape_str(b, sbuf, sizeof sbuf), d);
    }
    od[d] = ad[d] == 1 ? bd[d] : ad[d];
  }
  if ((st = sb_check_output(m, n, rank, od)) != SB_OK) return st;
  s->rank = rank;
  for (int d = 0; d < rank; d++) s->out_dims[d] = od[d];
  strides_for(ad, od, rank, s->a_strides);
  strides_for(bd, od, rank, s->b_strides);

  const sb_kernel_entry* k = NULL;
  if (dims_match(ad, od, rank) && dims_match(bd, od, rank)) {
    s->mode = BIN_SAME;
    k = sb_pick_kernel(is_mul ? SB_FAMILY_F32_VMUL : SB_FAMILY_F32_VADD, sb_kernel_shape_params(0, 0), n);
  } else if ((dims_match(ad, od, rank) && is_channel_broadcast(od, bd, rank)) ||
             (dims_match(bd, od, rank) && is_channel_broadcast(od, ad, rank))) {
    s->mode = BIN_CHANNEL;
    s->big = dims_match(ad, od, rank) ? 0 : 1;
    s->small = 1 - s->big;
    const int32_t* small_dims = s->big == 0 ? bd : ad;
    s->batch = (size_t)od[0];
    s->channels = (size_t)od[1];
    s->pixels = (size_t)od[2] * (size_t)od[3];
    s->small_batch_stride = small_dims[0] == 1 ? 0 : s->channels;
    k = sb_pick_kernel(is_mul ? SB_FAMILY_F32_VMULC : SB_FAMILY_F32_VADDC, sb_kernel_shape_params(0, 0), n);
  } else {
    s->mode = BIN_GENERIC;
    n->kernel_name = is_mul ? "ref_broadcast_mul" : "ref_broadcast_add";
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

static void run_channels(void* ctx, size_t begin, size_t end) {
  const binary_job* j = ctx;
  size_t p = j->s->pixels;
  ((sb_f32_vbinaryc_ukernel*)j->s->fn)(end - begin, p, j->a + begin * p, j->b + begin, j->y + begin * p, j->act);
}

static void run_generic(const binary_state* s, const float* a, const float* b, float* y, const sb_activation* act) {
  int32_t idx[SB_MAX_RANK] = {0};
  size_t total = 1, ao = 0, bo = 0;
  for (int d = 0; d < s->rank; d++) total *= (size_t)s->out_dims[d];
  for (size_t i = 0; i < total; i++) {
    float v = s->is_mul ? a[ao] * b[bo] : a[ao] + b[bo];
    y[i] = sb_activate(act, v);
    /* odometer increment of the output index, keeping both input offsets in step */
    for (int d = s->rank - 1; d >= 0; d--) {
      ao += s->a_strides[d];
      bo += s->b_strides[d];
      if (++idx[d] < s->out_dims[d]) break;
      ao -= s->a_strides[d] * (size_t)s->out_dims[d];
      bo -= s->b_strides[d] * (size_t)s->out_dims[d];
      idx[d] = 0;
    }
  }
}

void sb_binary_run(sb_model* m, sb_node* n) {
  const binary_state* s = n->state;
  const float* a = sb_f32(sb_input(m, n, 0));
  const float* b = sb_f32(sb_input(m, n, 1));
  sb_tensor* yt = sb_output(m, n);
  if (s->mode == BIN_SAME) {
    binary_job job = {s, a, b, yt->data, &n->act};
    sb_parallel_for(m->pool, yt->count, 64, run_same, &job);
  } else if (s->mode == BIN_CHANNEL) {
    const float* big = s->big == 0 ? a : b;
    const float* small = s->big == 0 ? b : a;
    size_t image = s->channels * s->pixels;
    for (size_t i = 0; i < s->batch; i++) {
      binary_job job = {s, big + i * image, small + i * s->small_batch_stride, yt->data + i * image, &n->act};
      sb_parallel_for(m->pool, s->channels, 1, run_channels, &job);
    }
  } else {
    run_generic(s, a, b, yt->data, &n->act);
  }
}
