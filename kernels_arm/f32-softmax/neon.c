/* NEON f32-softmax: per row the max (4 vector accumulators), y = x - max, the vector exp over the row in place
 * (common/neon_act.c, sb_vmath.h's exp), the sum of blocks of 256 in float lanes added up in double (a wide axis
 * such as a CTC head's 18710 classes stays within ~1e-6 of a double sum), then y *= 1 / sum. */
#include "kernels_arm/common/neon.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-softmax/list.h"
#undef SB_UKERNEL

enum { SUM_BLOCK = 256 };

static float row_max(size_t len, const float* x) {
  float32x4_t m0 = vdupq_n_f32(x[0]), m1 = m0, m2 = m0, m3 = m0;
  size_t k = 0;
  for (; k + 16 <= len; k += 16) {
    m0 = vmaxq_f32(m0, vld1q_f32(x + k)), m1 = vmaxq_f32(m1, vld1q_f32(x + k + 4));
    m2 = vmaxq_f32(m2, vld1q_f32(x + k + 8)), m3 = vmaxq_f32(m3, vld1q_f32(x + k + 12));
  }
  for (; k + 4 <= len; k += 4) m0 = vmaxq_f32(m0, vld1q_f32(x + k));
  float m = vmaxvq_f32(vmaxq_f32(vmaxq_f32(m0, m1), vmaxq_f32(m2, m3)));
  for (; k < len; k++) m = x[k] > m ? x[k] : m;
  return m;
}

/* y = x - max and its sum of exponentials (y then holds them) */
static double exp_sum(size_t len, const float* x, float max, float* y) {
  const float32x4_t m = vdupq_n_f32(max);
  size_t k = 0;
  for (; k + 4 <= len; k += 4) vst1q_f32(y + k, vsubq_f32(vld1q_f32(x + k), m));
  for (; k < len; k++) y[k] = x[k] - max;
  const sb_activation exp_act = {SB_ACT_EXP, 0.0f, 0.0f};
  sb_neon_act_array(&exp_act, y, y, len);
  double sum = 0.0;
  for (size_t b = 0; b < len; b += SUM_BLOCK) {
    const size_t end = len - b < SUM_BLOCK ? len : b + SUM_BLOCK;
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0;
    for (k = b; k + 8 <= end; k += 8) s0 = vaddq_f32(s0, vld1q_f32(y + k)), s1 = vaddq_f32(s1, vld1q_f32(y + k + 4));
    for (; k + 4 <= end; k += 4) s0 = vaddq_f32(s0, vld1q_f32(y + k));
    float s = vaddvq_f32(vaddq_f32(s0, s1));
    for (; k < end; k++) s += y[k];
    sum += s;
  }
  return sum;
}

void sb_f32_softmax_ukernel__neon(size_t rows, size_t len, const float* x, float* y) {
  for (size_t r = 0; r < rows; r++, x += len, y += len) {
    const float scale = (float)(1.0 / exp_sum(len, x, row_max(len, x), y));
    const float32x4_t s = vdupq_n_f32(scale);
    size_t k = 0;
    for (; k + 4 <= len; k += 4) vst1q_f32(y + k, vmulq_f32(vld1q_f32(y + k), s));
    for (; k < len; k++) y[k] *= scale;
  }
}
