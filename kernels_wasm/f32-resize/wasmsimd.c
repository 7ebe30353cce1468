/* f32-resize on WASM SIMD128, as kernels_arm/f32-resize/neon.c: nearest rows that repeat the previous source row are
 * copies; other rows gather 4 columns per vector, or with x_scale 2 duplicate each input vector by shuffles.
 * Bilinear, separably: the two source rows blended into a padded row buffer, then per 4 outputs four 64-bit pair
 * loads {t[x], t[x + 1]} de-interleaved by two shuffles and weighted by the column weights. Rows wider than the
 * buffer run the scalar kernel. */
#include <string.h>
#include <wasm_simd128.h>

#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#include "f32-resize/list.h"
#undef SB_UKERNEL

enum { ROW_BUFFER = 4096 };

void sb_f32_resize_nearest_ukernel__wasmsimd(const sb_resize_plan* p, const float* input, float* output,
                                             size_t oy_begin, size_t oy_end) {
  const size_t in_w = (size_t)p->in_w, out_w = (size_t)p->out_w;
  for (size_t oy = oy_begin; oy < oy_end; oy++) {
    float* dst = output + oy * out_w;
    if (oy > oy_begin && p->y_lo[oy] == p->y_lo[oy - 1]) {
      memcpy(dst, dst - out_w, out_w * sizeof(float));
      continue;
    }
    const float* row = input + (size_t)p->y_lo[oy] * in_w;
    const int32_t* x = p->x_lo;
    size_t ox = 0;
    for (; ox + 4 <= out_w; ox += 4)
      wasm_v128_store(dst + ox, wasm_f32x4_make(row[x[ox]], row[x[ox + 1]], row[x[ox + 2]], row[x[ox + 3]]));
    for (; ox < out_w; ox++) dst[ox] = row[x[ox]];
  }
}

void sb_f32_resize_nearest_ukernel__wasmsimd_x2(const sb_resize_plan* p, const float* input, float* output,
                                                size_t oy_begin, size_t oy_end) {
  const size_t in_w = (size_t)p->in_w, out_w = (size_t)p->out_w;
  for (size_t oy = oy_begin; oy < oy_end; oy++) {
    float* dst = output + oy * out_w;
    if (oy > oy_begin && p->y_lo[oy] == p->y_lo[oy - 1]) {
      memcpy(dst, dst - out_w, out_w * sizeof(float));
      continue;
    }
    const float* row = input + (size_t)p->y_lo[oy] * in_w;
    size_t i = 0;
    for (; i + 4 <= in_w; i += 4) {
      const v128_t a = wasm_v128_load(row + i);
      wasm_v128_store(dst + 2 * i, wasm_i32x4_shuffle(a, a, 0, 0, 1, 1));
      wasm_v128_store(dst + 2 * i + 4, wasm_i32x4_shuffle(a, a, 2, 2, 3, 3));
    }
    for (; i < in_w; i++) dst[2 * i] = dst[2 * i + 1] = row[i];
  }
}

void sb_f32_resize_bilinear_ukernel__wasmsimd(const sb_resize_plan* p, const float* input, float* output,
                                              size_t oy_begin, size_t oy_end) {
  const size_t in_w = (size_t)p->in_w, out_w = (size_t)p->out_w;
  if (in_w + 1 > ROW_BUFFER) {
    sb_f32_resize_bilinear_ukernel__scalar(p, input, output, oy_begin, oy_end);
    return;
  }
  float t[ROW_BUFFER];
  for (size_t oy = oy_begin; oy < oy_end; oy++) {
    float* dst = output + oy * out_w;
    const float wy0 = p->wy_lo[oy], wy1 = p->wy_hi[oy];
    if (oy > oy_begin && p->y_lo[oy] == p->y_lo[oy - 1] && p->y_hi[oy] == p->y_hi[oy - 1] &&
        wy0 == p->wy_lo[oy - 1] && wy1 == p->wy_hi[oy - 1]) {
      memcpy(dst, dst - out_w, out_w * sizeof(float));
      continue;
    }
    const float* r0 = input + (size_t)p->y_lo[oy] * in_w;
    const float* r1 = input + (size_t)p->y_hi[oy] * in_w;
    const v128_t v0 = wasm_f32x4_splat(wy0), v1 = wasm_f32x4_splat(wy1);
    size_t i = 0;
    for (; i + 4 <= in_w; i += 4)
      wasm_v128_store(t + i, wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(r0 + i), v0),
                                            wasm_f32x4_mul(wasm_v128_load(r1 + i), v1)));
    for (; i < in_w; i++) t[i] = wy0 * r0[i] + wy1 * r1[i];
    t[in_w] = t[in_w - 1];
    const int32_t* x = p->x_lo;
    size_t ox = 0;
    for (; ox + 4 <= out_w; ox += 4) {
      const v128_t ab01 = wasm_v128_load64_lane(t + x[ox + 1], wasm_v128_load64_zero(t + x[ox]), 1);
      const v128_t ab23 = wasm_v128_load64_lane(t + x[ox + 3], wasm_v128_load64_zero(t + x[ox + 2]), 1);
      const v128_t a = wasm_i32x4_shuffle(ab01, ab23, 0, 2, 4, 6), b = wasm_i32x4_shuffle(ab01, ab23, 1, 3, 5, 7);
      wasm_v128_store(dst + ox, wasm_f32x4_add(wasm_f32x4_mul(a, wasm_v128_load(p->wx_lo + ox)),
                                               wasm_f32x4_mul(b, wasm_v128_load(p->wx_hi + ox))));
    }
    for (; ox < out_w; ox++) dst[ox] = p->wx_lo[ox] * t[x[ox]] + p->wx_hi[ox] * t[x[ox] + 1];
  }
}
