/* RESIZE (ONNX Resize / Upsample) of two adjacent axes (the last two, or H, W of NHWC with inner_axes = 1): nearest
 * with every nearest_mode, or bilinear; the five coordinate transforms. The portable reference: prepare turns each
 * output row and column into source indices and weights with ONNX's (and onnxruntime's) f32 formulas; run walks the
 * output rows of every plane in parallel. With inner axes each (row, column) position is a vector of `inner`
 * contiguous values (the channels of NHWC). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

enum { RESIZE_NEAREST = 0, RESIZE_LINEAR = 1 };
enum { COORD_HALF_PIXEL, COORD_PYTORCH_HALF_PIXEL, COORD_ALIGN_CORNERS, COORD_ASYMMETRIC, COORD_TF_HALF_PIXEL_FOR_NN };
enum { NEAREST_ROUND_PREFER_FLOOR, NEAREST_ROUND_PREFER_CEIL, NEAREST_FLOOR, NEAREST_CEIL };

typedef struct axis_map {
  int32_t* lo; /* source index (nearest: the only one) */
  int32_t* hi; /* linear: the second source index */
  float* w_lo; /* linear: weight of lo; hi gets 1 - ... (onnxruntime's dx2/dx1 pair) */
  float* w_hi;
} axis_map;

typedef struct resize_state {
  int32_t mode;
  size_t planes, in_h, in_w, out_h, out_w;
  size_t inner; /* product of the dims after the two resized axes (1: they are the last two) */
  axis_map y, x; /* both in one allocation, n->owned[0] */
  sb_resize_plan plan;            /* inner == 1: the tables as the f32-resize kernels read them */
  sb_f32_resize_ukernel* kernel;  /* inner == 1: the chosen f32-resize kernel */
} resize_state;

static float f32_of(int32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static float original(int32_t coord, float out_i, float scale, float out_len, float in_len) {
  switch (coord) {
    case COORD_HALF_PIXEL: return (out_i + 0.5f) / scale - 0.5f;
    case COORD_PYTORCH_HALF_PIXEL: return out_len > 1 ? (out_i + 0.5f) / scale - 0.5f : 0.0f;
    case COORD_ALIGN_CORNERS: return out_len == 1 ? 0.0f : out_i * (in_len - 1) / (out_len - 1);
    case COORD_ASYMMETRIC: return out_i / scale;
    default: return (out_i + 0.5f) / scale; /* tf_half_pixel_for_nn */
  }
}

static int32_t nearest_index(int32_t mode, float x) {
  int64_t i;
  switch (mode) {
    case NEAREST_ROUND_PREFER_FLOOR: i = x == (float)(int64_t)x + 0.5f ? (int64_t)floorf(x) : (int64_t)roundf(x); break;
    case NEAREST_ROUND_PREFER_CEIL: i = x == (float)(int64_t)x + 0.5f ? (int64_t)ceilf(x) : (int64_t)roundf(x); break;
    case NEAREST_FLOOR: i = (int64_t)floorf(x); break;
    default: i = (int64_t)ceilf(x); break;
  }
  return (int32_t)(i < 0 ? 0 : i > INT32_MAX ? INT32_MAX : i);
}

static void build_map(const sb_node* n, axis_map* m, size_t out_len, size_t in_len, float scale) {
  const int32_t mode = sb_attr_resize_mode(n), coord = sb_attr_resize_coord(n);
  for (size_t i = 0; i < out_len; i++) {
    float x = original(coord, (float)i, scale, (float)out_len, (float)in_len);
    if (mode == RESIZE_NEAREST) {
      int32_t k = nearest_index(sb_attr_resize_nearest_mode(n), x);
      m->lo[i] = k > (int32_t)in_len - 1 ? (int32_t)in_len - 1 : k;
      continue;
    }
    x = fmaxf(0.0f, fminf(x, (float)(in_len - 1)));
    int32_t lo = (int32_t)x, hi = lo + 1 > (int32_t)in_len - 1 ? (int32_t)in_len - 1 : lo + 1;
    float d_lo = fabsf(x - (float)lo), d_hi = fabsf(x - (float)hi);
    if (lo == hi) d_lo = d_hi = 0.5f;
    m->lo[i] = lo;
    m->hi[i] = hi;
    m->w_lo[i] = d_hi;
    m->w_hi[i] = d_lo;
  }
}

static sb_status prepare(sb_model* m, sb_node* n) {
  sb_status st = sb_check_activation(m, n, 0, "X", -1);
  if (st != SB_OK) return st;
  const sb_tensor* x = sb_input(m, n, 0);
  const sb_tensor* y = sb_output(m, n);
  const int rank = x->rank;
  if (rank < 2)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "input '%s' has rank %d; RESIZE needs rank 2..%d", x->name, rank,
                        SB_MAX_RANK);
  const int32_t mode = sb_attr_resize_mode(n), coord = sb_attr_resize_coord(n);
  const int32_t nearest = sb_attr_resize_nearest_mode(n);
  if (mode != RESIZE_NEAREST && mode != RESIZE_LINEAR)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "mode %d is not 0 (nearest) or 1 (linear)", mode);
  if (coord < COORD_HALF_PIXEL || coord > COORD_TF_HALF_PIXEL_FOR_NN ||
      (coord == COORD_TF_HALF_PIXEL_FOR_NN && mode != RESIZE_NEAREST))
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "coord %d is not a coordinate transform of mode %d", coord, mode);
  if (nearest < NEAREST_ROUND_PREFER_FLOOR || nearest > NEAREST_CEIL || (mode != RESIZE_NEAREST && nearest != 0))
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "nearest_mode %d is not valid for mode %d", nearest, mode);
  const float sh = f32_of(sb_attr_resize_scale_h_bits(n)), sw = f32_of(sb_attr_resize_scale_w_bits(n));
  if (!(sh > 0 && sh < INFINITY) || !(sw > 0 && sw < INFINITY))
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "scales %g x %g must be finite and > 0", (double)sh, (double)sw);
  if (y->rank != rank)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "output '%s' has rank %d, input '%s' rank %d", y->name, y->rank, x->name,
                        rank);
  const int32_t inner_axes = sb_attr_resize_inner_axes(n);
  if (inner_axes < 0 || inner_axes > rank - 2)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "inner_axes %d is outside 0..%d for input '%s' of rank %d", inner_axes,
                        rank - 2, x->name, rank);
  const int ah = rank - 2 - inner_axes, aw = ah + 1; /* the resized axes */
  int32_t out_dims[SB_MAX_RANK];
  for (int d = 0; d < rank; d++) out_dims[d] = d == ah || d == aw ? y->dims[d] : x->dims[d];
  if ((st = sb_check_output(m, n, rank, out_dims)) != SB_OK) return st;

  resize_state* s = calloc(1, sizeof *s);
  if (!s) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = s;
  s->mode = mode;
  s->inner = 1;
  for (int d = aw + 1; d < rank; d++) s->inner *= (size_t)x->dims[d];
  s->in_h = (size_t)x->dims[ah];
  s->in_w = (size_t)x->dims[aw];
  s->planes = x->count / (s->in_h * s->in_w * s->inner);
  s->out_h = (size_t)y->dims[ah];
  s->out_w = (size_t)y->dims[aw];
  const size_t total = s->out_h + s->out_w;
  n->owned[0] = malloc(total * (2 * sizeof(int32_t) + 2 * sizeof(float)));
  if (!n->owned[0]) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  int32_t* ints = n->owned[0];
  float* floats = (float*)(ints + 2 * total);
  s->y = (axis_map){ints, ints + s->out_h, floats, floats + s->out_h};
  s->x = (axis_map){ints + 2 * s->out_h, ints + 2 * s->out_h + s->out_w, floats + 2 * s->out_h,
                    floats + 2 * s->out_h + s->out_w};
  build_map(n, &s->y, s->out_h, s->in_h, sh);
  build_map(n, &s->x, s->out_w, s->in_w, sw);
  n->kernel_name = mode == RESIZE_NEAREST ? "ref_resize_nearest" : "ref_resize_bilinear";
  if (s->inner == 1) { /* the last two axes: a registry kernel runs the rows of each plane */
    s->plan = (sb_resize_plan){(int32_t)s->in_h, (int32_t)s->in_w, (int32_t)s->out_h, (int32_t)s->out_w, s->y.lo,
                               s->y.hi, s->x.lo, s->x.hi, s->y.w_lo, s->y.w_hi, s->x.w_lo, s->x.w_hi};
    int32_t x_scale = 0; /* 2 when every output column ox reads input column ox / 2 (a 2x nearest upsample) */
    if (mode == RESIZE_NEAREST && s->out_w == 2 * s->in_w) {
      x_scale = 2;
      for (size_t ox = 0; ox < s->out_w; ox++) x_scale = s->x.lo[ox] == (int32_t)(ox / 2) ? x_scale : 0;
    }
    const sb_kernel_entry* k = sb_pick_kernel(mode == RESIZE_NEAREST ? SB_FAMILY_F32_RESIZE_NEAREST
                                                                     : SB_FAMILY_F32_RESIZE_BILINEAR,
                                              sb_kernel_shape_params(x_scale, 0), n);
    if (!k) return SB_ERR_UNSUPPORTED;
    s->kernel = (sb_f32_resize_ukernel*)k->fn;
    n->kernel_name = k->name;
  }
  return SB_OK;
}

/* Output rows [begin, end) over all planes: row r is plane r / out_h, output row r % out_h. */
static void run_rows(void* ctx, size_t begin, size_t end) {
  const sb_rows_job* j = ctx;
  const resize_state* s = j->s;
  while (begin < end) { /* one kernel call per plane the range touches */
    const size_t plane = begin / s->out_h, oy = begin % s->out_h;
    const size_t oy_end = oy + (end - begin) < s->out_h ? oy + (end - begin) : s->out_h;
    s->kernel(&s->plan, j->x + plane * s->in_h * s->in_w, j->y + plane * s->out_h * s->out_w, oy, oy_end);
    begin += oy_end - oy;
  }
}

/* The same with inner axes: each source/output position is `inner` contiguous values. */
static void run_rows_inner(void* ctx, size_t begin, size_t end) {
  const sb_rows_job* j = ctx;
  const resize_state* s = j->s;
  const size_t c = s->inner;
  for (size_t r = begin; r < end; r++) {
    const size_t plane = r / s->out_h, oy = r % s->out_h;
    const float* in = j->x + plane * s->in_h * s->in_w * c;
    float* dst = j->y + r * s->out_w * c;
    if (s->mode == RESIZE_NEAREST) {
      const float* row = in + (size_t)s->y.lo[oy] * s->in_w * c;
      for (size_t ox = 0; ox < s->out_w; ox++) memcpy(dst + ox * c, row + (size_t)s->x.lo[ox] * c, c * sizeof *dst);
      continue;
    }
    const float* r0 = in + (size_t)s->y.lo[oy] * s->in_w * c;
    const float* r1 = in + (size_t)s->y.hi[oy] * s->in_w * c;
    const float wy0 = s->y.w_lo[oy], wy1 = s->y.w_hi[oy];
    for (size_t ox = 0; ox < s->out_w; ox++) {
      const float* a0 = r0 + (size_t)s->x.lo[ox] * c;
      const float* a1 = r0 + (size_t)s->x.hi[ox] * c;
      const float* b0 = r1 + (size_t)s->x.lo[ox] * c;
      const float* b1 = r1 + (size_t)s->x.hi[ox] * c;
      const float wx0 = s->x.w_lo[ox], wx1 = s->x.w_hi[ox];
      float* o = dst + ox * c;
      for (size_t k = 0; k < c; k++) o[k] = wx0 * wy0 * a0[k] + wx1 * wy0 * a1[k] + wx0 * wy1 * b0[k] + wx1 * wy1 * b1[k];
    }
  }
}

static void run(sb_model* m, sb_node* n) {
  const resize_state* s = n->state;
  sb_rows_job job = {s, sb_input(m, n, 0)->data, sb_output(m, n)->data};
  const size_t row = s->out_w * s->inner;
  size_t grain = row >= 2048 ? 1 : 2048 / row;
  sb_parallel_for(m->pool, s->planes * s->out_h, grain, s->inner == 1 ? run_rows : run_rows_inner, &job);
}

const sb_op_def sb_op_resize = SB_OP_DEF(RESIZE, prepare, run, 0);
