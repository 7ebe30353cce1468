/* Scalar reference for f32-resize (the oracle of the SIMD kernels): output rows [oy_begin, oy_end) of one plane from
 * the index/weight tables RESIZE's prepare builds. Bilinear sums the four products in onnxruntime's order. See
 * sb_kernels.h. */
#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_resize_nearest_ukernel__scalar(const sb_resize_plan* p, const float* input, float* output,
                                           size_t oy_begin, size_t oy_end) {
  const size_t in_w = (size_t)p->in_w, out_w = (size_t)p->out_w;
  for (size_t oy = oy_begin; oy < oy_end; oy++) {
    const float* row = input + (size_t)p->y_lo[oy] * in_w;
    float* dst = output + oy * out_w;
    for (size_t ox = 0; ox < out_w; ox++) dst[ox] = row[p->x_lo[ox]];
  }
}

void sb_f32_resize_bilinear_ukernel__scalar(const sb_resize_plan* p, const float* input, float* output,
                                            size_t oy_begin, size_t oy_end) {
  const size_t in_w = (size_t)p->in_w, out_w = (size_t)p->out_w;
  for (size_t oy = oy_begin; oy < oy_end; oy++) {
    const float* r0 = input + (size_t)p->y_lo[oy] * in_w;
    const float* r1 = input + (size_t)p->y_hi[oy] * in_w;
    const float wy0 = p->wy_lo[oy], wy1 = p->wy_hi[oy];
    float* dst = output + oy * out_w;
    for (size_t ox = 0; ox < out_w; ox++) {
      const int32_t x0 = p->x_lo[ox], x1 = p->x_hi[ox];
      const float wx0 = p->wx_lo[ox], wx1 = p->wx_hi[ox];
      dst[ox] = wx0 * wy0 * r0[x0] + wx1 * wy0 * r0[x1] + wx0 * wy1 * r1[x0] + wx1 * wy1 * r1[x1];
    }
  }
}
