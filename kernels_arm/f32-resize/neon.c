/* NEON f32-resize. Nearest: an output row whose source row is the previous output row's is a copy of it (the
 * vertical half of an upsample costs a memcpy); other rows gather 4 columns per vector by lane loads, or with
 * x_scale 2 (x_lo[ox] = ox / 2) duplicate each input vector with zip1/zip2. Bilinear, separably: the two source rows
 * blended once per output row into a row buffer (vector FMAs over in_w), then per 4 outputs four pair loads
 * {t[x], t[x + 1]} de-interleaved with uzp1/uzp2 and one mul + FMA by the column weights (the buffer's padding
 * column t[in_w] = t[in_w - 1] serves x_hi == x_lo at the last column). Rows wider than the buffer run the scalar
 * kernel. */
#include <string.h>

#include "kernels_arm/common/neon.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-resize/list.h"
#include "f32-resize/list.h"
#undef SB_UKERNEL

enum { ROW_BUFFER = 4096 }; /* floats: 16 KiB of stack */

void sb_f32_resize_nearest_ukernel__neon(const sb_resize_plan* p, const float* input, float* output, size_t oy_begin,
                                         size_t oy_end) {
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
    for (; ox + 4 <= out_w; ox += 4) {
      float32x4_t v = vld1q_dup_f32(row + x[ox]);
      v = vld1q_lane_f32(row + x[ox + 1], v, 1);
      v = vld1q_lane_f32(row + x[ox + 2], v, 2);
      v = vld1q_lane_f32(row + x[ox + 3], v, 3);
      vst1q_f32(dst + ox, v);
    }
    for (; ox < out_w; ox++) dst[ox] = row[x[ox]];
  }
}

void sb_f32_resize_nearest_ukernel__neon_x2(const sb_resize_plan* p, const float* input, float* output,
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
    for (; i + 8 <= in_w; i += 8) {
      const float32x4_t a = vld1q_f32(row + i), b = vld1q_f32(row + i + 4);
      vst1q_f32(dst + 2 * i, vzip1q_f32(a, a));
      vst1q_f32(dst + 2 * i + 4, vzip2q_f32(a, a));
      vst1q_f32(dst + 2 * i + 8, vzip1q_f32(b, b));
      vst1q_f32(dst + 2 * i + 12, vzip2q_f32(b, b));
    }
    for (; i + 4 <= in_w; i += 4) {
      const float32x4_t a = vld1q_f32(row + i);
      vst1q_f32(dst + 2 * i, vzip1q_f32(a, a));
      vst1q_f32(dst + 2 * i + 4, vzip2q_f32(a, a));
    }
    for (; i < in_w; i++) dst[2 * i] = dst[2 * i + 1] = row[i];
  }
}

void sb_f32_resize_bilinear_ukernel__neon(const sb_resize_plan* p, const float* input, float* output,
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
    const float32x4_t v0 = vdupq_n_f32(wy0), v1 = vdupq_n_f32(wy1);
    size_t i = 0;
    for (; i + 8 <= in_w; i += 8) {
      vst1q_f32(t + i, vfmaq_f32(vmulq_f32(vld1q_f32(r0 + i), v0), vld1q_f32(r1 + i), v1));
      vst1q_f32(t + i + 4, vfmaq_f32(vmulq_f32(vld1q_f32(r0 + i + 4), v0), vld1q_f32(r1 + i + 4), v1));
    }
    for (; i + 4 <= in_w; i += 4) vst1q_f32(t + i, vfmaq_f32(vmulq_f32(vld1q_f32(r0 + i), v0), vld1q_f32(r1 + i), v1));
    for (; i < in_w; i++) t[i] = wy0 * r0[i] + wy1 * r1[i];
    t[in_w] = t[in_w - 1];
    const int32_t* x = p->x_lo;
    size_t ox = 0;
    for (; ox + 4 <= out_w; ox += 4) {
      const float32x4_t ab01 = vcombine_f32(vld1_f32(t + x[ox]), vld1_f32(t + x[ox + 1]));
      const float32x4_t ab23 = vcombine_f32(vld1_f32(t + x[ox + 2]), vld1_f32(t + x[ox + 3]));
      const float32x4_t a = vuzp1q_f32(ab01, ab23), b = vuzp2q_f32(ab01, ab23);
      vst1q_f32(dst + ox, vfmaq_f32(vmulq_f32(a, vld1q_f32(p->wx_lo + ox)), b, vld1q_f32(p->wx_hi + ox)));
    }
    for (; ox < out_w; ox++) dst[ox] = p->wx_lo[ox] * t[x[ox]] + p->wx_hi[ox] * t[x[ox] + 1];
  }
}
