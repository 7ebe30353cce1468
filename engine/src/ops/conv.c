/* CONV: dense convolution. Depthwise -> f32_dwconv, 1x1/stride 1/unpadded -> f32_gemm, anything else -> f32_conv.
 * SIMD builds run dense kxk convs with many inputs per output (groups 1, Cin*kh*kw >= the choice table's
 * sb_conv_im2col_min_inputs) as im2col + f32-gemm instead: per tile of output pixels, col[ci][ky][kx][tile] gathered
 * from the input (zeros for padding), the GEMM of the weights as they are ([Cout][Cin*kh*kw]) with it into a
 * [Cout][tile] buffer, copied into the output planes. Tiles are fixed by the shape, so results do not depend on the
 * thread count; the scalar build keeps the direct reference (the oracle). */
#include <stdlib.h>
#include <string.h>

#include "choice.h"
#include "ops.h"

typedef struct conv_state {
  sb_conv_state base;       /* first: sb_conv_run reads it in the other modes */
  sb_f32_gemm_ukernel* gemm; /* NULL: base's mode */
  size_t k, tile, tiles;    /* K = Cin*kh*kw col rows; output pixels per tile; tiles per image */
  size_t scratch_floats;    /* per worker: col [K][tile] + GEMM output [Cout][tile] */
  size_t workers;           /* workers the scratch in n->owned[1] holds */
} conv_state;

/* Pixels per tile: a multiple of 16 (the GEMM kernels' pixel tiles) with the col buffer near 256 KiB, so it is still
 * in cache when the GEMM reads it. */
static size_t im2col_tile(size_t k, size_t pixels) {
  size_t t = (65536 / k) / 16 * 16;
  if (t < 16) t = 16;
  if (t > 512) t = 512;
  const size_t whole = (pixels + 15) / 16 * 16;
  return t < whole ? t : whole;
}

static sb_status prepare(sb_model* m, sb_node* n) {
  const sb_tensor* w = sb_input(m, n, 1);
  if (!w->is_constant || w->rank != 4) {
    char shape[96];
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "weight '%s' must be a rank-4 constant, has shape %s", w->name,
                        sb_shape_str(w, shape, sizeof shape));
  }
  if (sb_attr_conv_G(n) != 0)
    return SB_NODE_FAIL(SB_ERR_FORMAT, n, "attribute G is %d, must be 0 for dense CONV", sb_attr_conv_G(n));
  conv_state* cs = calloc(1, sizeof *cs);
  if (!cs) return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
  n->state = cs;
  sb_conv_state* s = &cs->base;
  sb_status st = sb_conv_geometry(m, n, w->dims[0], &s->shape);
  if (st != SB_OK) return st;
  const sb_conv_shape* c = &s->shape;
  int32_t wdims[4] = {c->out_c, c->in_c / c->groups, c->kh, c->kw};
  if ((st = sb_check_constant(m, n, 1, "W", SB_DTYPE_F32, 4, wdims)) != SB_OK) return st;
  if ((st = sb_bias_or_zeros(m, n, 2, c->out_c, &s->bias, (float**)&n->owned[0])) != SB_OK) return st;
  s->weights = (const float*)w->const_data;

  const sb_kernel_entry* k;
  int pointwise = c->kh == 1 && c->kw == 1 && c->stride_h == 1 && c->stride_w == 1 && c->groups == 1 &&
                  c->pad_top == 0 && c->pad_left == 0 && sb_attr_conv_pad_bottom(n) == 0 &&
                  sb_attr_conv_pad_right(n) == 0;
  const int64_t k_size = (int64_t)c->in_c * c->kh * c->kw, plane = (int64_t)c->out_h * c->out_w;
  if (c->groups == c->in_c && c->groups == c->out_c && c->groups > 1) {
    s->mode = SB_CONV_DIRECT;
    k = sb_pick_kernel(SB_FAMILY_F32_DWCONV, sb_kernel_shape_conv(sb_conv_kernel_param(c), sb_conv_stride_param(c), c, 0), n);
  } else if (pointwise) {
    s->mode = SB_CONV_GEMM;
    k = sb_pick_kernel(SB_FAMILY_F32_GEMM, sb_kernel_shape_conv(0, 0, c, 0), n);
  } else {
    s->mode = SB_CONV_DIRECT;
    k = sb_pick_kernel(SB_FAMILY_F32_CONV, sb_kernel_shape_conv(sb_conv_kernel_param(c), sb_conv_stride_param(c), c, 0), n);
    if (k && c->groups == 1 && sb_conv_im2col_min_inputs > 0 && k_size >= sb_conv_im2col_min_inputs &&
        k_size <= SB_MAX_DIM && c->in_c > sb_conv_im2col_max_direct_in_c) {
      const sb_kernel_shape gs = {0, 0, plane, (int32_t)k_size, c->out_c, c->out_w, 0};
      const sb_kernel_entry* g = sb_pick_kernel(SB_FAMILY_F32_GEMM, gs, n);
      if (g && strcmp(g->arch, "scalar") != 0) {
        cs->k = (size_t)k_size;
        cs->tile = im2col_tile(cs->k, (size_t)plane);
        cs->tiles = ((size_t)plane + cs->tile - 1) / cs->tile;
        cs->scratch_floats = (cs->k + (size_t)c->out_c) * cs->tile;
        if (!(n->owned[1] = malloc(cs->scratch_floats * sizeof(float))))
          return sb_fail(SB_ERR_NOMEM, "out of memory for node '%s'", n->name);
        cs->workers = 1;
        cs->gemm = (sb_f32_gemm_ukernel*)g->fn;
        k = g;
      }
    }
  }
  if (!k) return SB_ERR_UNSUPPORTED;
  s->fn = k->fn;
  n->kernel_name = k->name;
  int64_t per_image = (int64_t)c->out_c * c->out_h * c->out_w * (c->in_c / c->groups) * c->kh * c->kw;
  n->macs = n->dense_macs = per_image * sb_input(m, n, 0)->dims[0];
  return SB_OK;
}

/* col[(ci * kh + ky) * kw + kx][j] = input[ci][iy][ix] of output pixel p0 + j (0 outside the input). */
static void fill_col(const sb_conv_shape* c, const float* x, size_t p0, size_t p1, float* col, size_t tile) {
  const size_t ow = (size_t)c->out_w, in_plane = (size_t)c->in_h * c->in_w;
  float* row = col;
  for (int32_t ci = 0; ci < c->in_c; ci++) {
    const float* xc = x + (size_t)ci * in_plane;
    for (int32_t ky = 0; ky < c->kh; ky++) {
      for (int32_t kx = 0; kx < c->kw; kx++, row += tile) {
        float* dst = row;
        for (size_t p = p0; p < p1;) {
          const size_t oy = p / ow, ox = p % ow, cnt = ow - ox < p1 - p ? ow - ox : p1 - p;
          const int64_t iy = (int64_t)oy * c->stride_h - c->pad_top + (int64_t)ky * c->dil_h;
          if (iy < 0 || iy >= c->in_h) {
            memset(dst, 0, cnt * sizeof(float));
          } else {
            /* ix = ix0 + i * stride_w lies in the input for i in [lo, hi) */
            const int64_t sw = c->stride_w, ix0 = (int64_t)ox * sw - c->pad_left + (int64_t)kx * c->dil_w;
            int64_t lo = ix0 < 0 ? (-ix0 + sw - 1) / sw : 0, hi = ix0 >= c->in_w ? 0 : (c->in_w - 1 - ix0) / sw + 1;
            if (lo > (int64_t)cnt) lo = (int64_t)cnt;
            if (hi > (int64_t)cnt) hi = (int64_t)cnt;
            if (hi < lo) hi = lo;
            const float* xr = xc + (size_t)iy * c->in_w;
            for (int64_t i = 0; i < lo; i++) dst[i] = 0.0f;
            if (sw == 1)
              memcpy(dst + lo, xr + ix0 + lo, (size_t)(hi - lo) * sizeof(float));
            else
              for (int64_t i = lo; i < hi; i++) dst[i] = xr[ix0 + i * sw];
            for (int64_t i = hi; i < (int64_t)cnt; i++) dst[i] = 0.0f;
          }
          dst += cnt;
          p += cnt;
        }
      }
    }
  }
}

typedef struct im2col_job {
  const conv_state* s;
  const float* x; /* one image */
  float* y;
  float* scratch;
  size_t workers;
  const sb_activation* act;
} im2col_job;

/* Workers [begin, end): worker w runs tiles [tiles * w / workers, tiles * (w + 1) / workers) in its scratch. */
static void run_workers(void* ctx, size_t begin, size_t end) {
  const im2col_job* j = ctx;
  const conv_state* s = j->s;
  const sb_conv_shape* c = &s->base.shape;
  const size_t plane = (size_t)c->out_h * c->out_w, cout = (size_t)c->out_c;
  for (size_t w = begin; w < end; w++) {
    float* col = j->scratch + w * s->scratch_floats;
    float* out = col + s->k * s->tile;
    for (size_t t = s->tiles * w / j->workers; t < s->tiles * (w + 1) / j->workers; t++) {
      const size_t p0 = t * s->tile, p1 = p0 + s->tile < plane ? p0 + s->tile : plane;
      fill_col(c, j->x, p0, p1, col, s->tile);
      s->gemm(p1 - p0, s->tile, cout, s->k, s->base.weights, s->base.bias, col, out, j->act);
      for (size_t co = 0; co < cout; co++)
        memcpy(j->y + co * plane + p0, out + co * s->tile, (p1 - p0) * sizeof(float));
    }
  }
}

static void run(sb_model* m, sb_node* n) {
  conv_state* s = n->state;
  if (!s->gemm) {
    sb_conv_run(m, n);
    return;
  }
  size_t workers = m->pool && m->threads > 1 ? (size_t)m->threads : 1;
  if (workers > s->tiles) workers = s->tiles;
  if (workers > s->workers) { /* more threads since the last run: grow the scratch, or keep fewer workers */
    float* p = realloc(n->owned[1], workers * s->scratch_floats * sizeof(float));
    if (p) {
      n->owned[1] = p;
      s->workers = workers;
    } else {
      workers = s->workers;
    }
  }
  const sb_conv_shape* c = &s->base.shape;
  const size_t in_image = (size_t)c->in_c * c->in_h * c->in_w, out_image = (size_t)c->out_c * c->out_h * c->out_w;
  const sb_tensor* x = sb_input(m, n, 0);
  sb_tensor* y = sb_output(m, n);
  for (int32_t b = 0; b < x->dims[0]; b++) {
    im2col_job job = {s, x->data + (size_t)b * in_image, y->data + (size_t)b * out_image, n->owned[1], workers,
                      &n->act};
    sb_parallel_for(m->pool, workers, 1, run_workers, &job);
  }
}

const sb_op_def sb_op_conv = SB_OP_DEF(CONV, prepare, run, 1);
