/* One output pixel of f32-maxpool / f32-avgpool with the reference arithmetic: the scalar kernels use it for every
 * pixel, the SIMD kernels (NEON, WASM, x86) for the pixels whose window crosses a border, so edges match the oracle
 * exactly (same compares, same summation order). Windows are clipped to the input; padding never contributes to a
 * max. Average: sum over the clipped window divided by its size, or with count_include_pad by the size of the window
 * clipped to the padded input. A window with no input pixel (only possible with inconsistent shapes) gives 0. */
#ifndef SB_POOL_PIXEL_H
#define SB_POOL_PIXEL_H

#include <math.h>

#include "sb_kernels.h"

/* Clips the window [start, start + size) to [0, limit). */
static inline void sb_pool_clip(int32_t start, int32_t size, int32_t limit, int32_t* begin, int32_t* end) {
  *begin = start < 0 ? 0 : start;
  *end = start + size > limit ? limit : start + size;
}

/* The max over input rows [y0, y1) of output column ox's window. */
static inline float sb_pool_max_pixel(const sb_pool_shape* s, const float* plane, int32_t y0, int32_t y1, int32_t ox) {
  int32_t x0, x1;
  sb_pool_clip(ox * s->stride_w - s->pad_left, s->kw, s->in_w, &x0, &x1);
  float best = -INFINITY;
  for (int32_t y = y0; y < y1; y++)
    for (int32_t x = x0; x < x1; x++) {
      const float v = plane[(size_t)y * s->in_w + x];
      best = v > best ? v : best;
    }
  return (y0 < y1 && x0 < x1) ? best : 0.0f;
}

/* The average over input rows [y0, y1) of output column ox's window; rows_div: the window's rows clipped to the
 * padded input (the count_include_pad divisor's height). */
static inline float sb_pool_avg_pixel(const sb_pool_shape* s, const float* plane, int32_t y0, int32_t y1,
                                      int32_t rows_div, int32_t ox) {
  int32_t x0, x1;
  sb_pool_clip(ox * s->stride_w - s->pad_left, s->kw, s->in_w, &x0, &x1);
  float sum = 0.0f;
  int32_t count = 0;
  for (int32_t y = y0; y < y1; y++)
    for (int32_t x = x0; x < x1; x++) {
      sum += plane[(size_t)y * s->in_w + x];
      count++;
    }
  int32_t divisor = count;
  if (s->count_include_pad) { /* the window clipped to the padded input, in padded coordinates */
    int32_t px0, px1;
    sb_pool_clip(ox * s->stride_w, s->kw, s->in_w + s->pad_left + s->pad_right, &px0, &px1);
    divisor = rows_div * (px1 - px0);
  }
  return count > 0 ? sum / (float)divisor : 0.0f;
}

#endif
