/* NEON f32-gavgpool: per-channel mean over a plane, four partial sums per vector lane then one reduction. */
#include "kernels_arm/common/neon.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-gavgpool/list.h"
#undef SB_UKERNEL

void sb_f32_gavgpool_ukernel__neon(size_t channels, size_t pixels, const float* input, float* output) {
  for (size_t c = 0; c < channels; c++) {
    const float* x = input + c * pixels;
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
    size_t p = 0;
    for (; p + 8 <= pixels; p += 8) {
      s0 = vaddq_f32(s0, vld1q_f32(x + p));
      s1 = vaddq_f32(s1, vld1q_f32(x + p + 4));
    }
    for (; p + 4 <= pixels; p += 4) s0 = vaddq_f32(s0, vld1q_f32(x + p));
    float sum = vaddvq_f32(vaddq_f32(s0, s1));
    for (; p < pixels; p++) sum += x[p];
    output[c] = pixels ? sum / (float)pixels : 0.0f;
  }
}
