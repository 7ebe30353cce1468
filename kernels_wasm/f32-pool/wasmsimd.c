/* WASM SIMD128 f32-maxpool and f32-avgpool (any window, padding, ceil mode). Per output row, the pixels whose window lies
 * inside the row go 4 at a time (stride 1: plain loads; stride 2: two loads shuffled into even/odd columns, and a 2-wide
 * window, BlazeFace's 2x2/2 pools, takes both halves of one such pair); the rest, and strides > 2, one by one with the
 * scalar reference's arithmetic (same summation order, so averages match it exactly; pmax is the reference's
 * `v > best ? v : best`). */
#include <math.h>
#include <wasm_simd128.h>

#include "f32-pool/pool_pixel.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

/* The interior pixel range [lo, hi) of a row: every 4-pixel block starting in it reads inside [0, in_w). */
static void interior(const sb_pool_shape* s, int32_t* lo, int32_t* hi) {
  const int32_t sw = s->stride_w, span = s->kw - 1;
  *lo = *hi = 0;
  if (sw != 1 && sw != 2) return;
  const int32_t reach = sw == 1 ? 3 + span : 7 + span - span % 2; /* two loads from an even tap read 8 floats */
  int32_t ox = (s->pad_left + sw - 1) / sw;
  if (ox > s->out_w) ox = s->out_w;
  *lo = ox;
  int32_t h = ox;
  while (h + 4 <= s->out_w && (h + 3) * sw - s->pad_left + span <= s->in_w - 1 &&
         h * sw - s->pad_left + reach <= s->in_w - 1)
    h += 4;
  *hi = h;
}

static inline __attribute__((always_inline)) v128_t pool_load(const float* p, int sw, int kx) {
  if (sw == 1) return wasm_v128_load(p + kx);
  const v128_t a = wasm_v128_load(p + kx - (kx & 1)), b = wasm_v128_load(p + kx - (kx & 1) + 4);
  return (kx & 1) ? wasm_i32x4_shuffle(a, b, 1, 3, 5, 7) : wasm_i32x4_shuffle(a, b, 0, 2, 4, 6);
}

static inline __attribute__((always_inline)) v128_t max_block(const sb_pool_shape* s, const float* plane,
                                                                   int32_t y0, int32_t y1, int32_t ix0, const int sw) {
  v128_t best = wasm_f32x4_splat(-INFINITY);
  for (int32_t y = y0; y < y1; y++) {
    const float* row = plane + (size_t)y * s->in_w + ix0;
    if (sw == 2 && s->kw == 2) {
      const v128_t a = wasm_v128_load(row), b = wasm_v128_load(row + 4);
      const v128_t pair = wasm_f32x4_pmax(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7));
      best = wasm_f32x4_pmax(best, pair);
    } else {
      for (int32_t kx = 0; kx < s->kw; kx++) best = wasm_f32x4_pmax(best, pool_load(row, sw, kx));
    }
  }
  return best;
}

static inline __attribute__((always_inline)) v128_t sum_block(const sb_pool_shape* s, const float* plane,
                                                                   int32_t y0, int32_t y1, int32_t ix0, const int sw) {
  v128_t sum = wasm_f32x4_splat(0.0f);
  for (int32_t y = y0; y < y1; y++) {
    const float* row = plane + (size_t)y * s->in_w + ix0;
    for (int32_t kx = 0; kx < s->kw; kx++) sum = wasm_f32x4_add(sum, pool_load(row, sw, kx));
  }
  return sum;
}

static inline __attribute__((always_inline)) void pool_planes(const sb_pool_shape* s, const float* input,
                                                              float* output, size_t c_begin, size_t c_end,
                                                              const int is_max, const int sw) {
  int32_t lo, hi;
  interior(s, &lo, &hi);
  for (size_t c = c_begin; c < c_end; c++) {
    const float* plane = input + c * s->in_h * s->in_w;
    float* out_plane = output + c * s->out_h * s->out_w;
    for (int32_t oy = 0; oy < s->out_h; oy++) {
      int32_t y0, y1, py0, py1;
      sb_pool_clip(oy * s->stride_h - s->pad_top, s->kh, s->in_h, &y0, &y1);
      sb_pool_clip(oy * s->stride_h, s->kh, s->in_h + s->pad_top + s->pad_bottom, &py0, &py1);
      const int32_t rows_div = py1 - py0;
      float* out = out_plane + (size_t)oy * s->out_w;
      const int vec = y0 < y1;
      const v128_t div = wasm_f32x4_splat((float)((s->count_include_pad ? rows_div : y1 - y0) * s->kw));
      int32_t ox = 0;
      for (; ox < (vec ? lo : s->out_w); ox++)
        out[ox] = is_max ? sb_pool_max_pixel(s, plane, y0, y1, ox) : sb_pool_avg_pixel(s, plane, y0, y1, rows_div, ox);
      for (; vec && ox < hi; ox += 4) {
        const int32_t ix0 = ox * sw - s->pad_left;
        wasm_v128_store(out + ox, is_max ? max_block(s, plane, y0, y1, ix0, sw)
                                         : wasm_f32x4_div(sum_block(s, plane, y0, y1, ix0, sw), div));
      }
      for (; ox < s->out_w; ox++)
        out[ox] = is_max ? sb_pool_max_pixel(s, plane, y0, y1, ox) : sb_pool_avg_pixel(s, plane, y0, y1, rows_div, ox);
    }
  }
}

void sb_f32_maxpool_ukernel__wasmsimd(const sb_pool_shape* s, const float* input, float* output, size_t c_begin,
                                      size_t c_end) {
  if (s->stride_w == 2) pool_planes(s, input, output, c_begin, c_end, 1, 2);
  else pool_planes(s, input, output, c_begin, c_end, 1, 1); /* strides > 2: interior() leaves no vector range */
}

void sb_f32_avgpool_ukernel__wasmsimd(const sb_pool_shape* s, const float* input, float* output, size_t c_begin,
                                      size_t c_end) {
  if (s->stride_w == 2) pool_planes(s, input, output, c_begin, c_end, 0, 2);
  else pool_planes(s, input, output, c_begin, c_end, 0, 1);
}
