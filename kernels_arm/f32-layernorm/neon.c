/* NEON f32-layernorm: per row, the sum and then the squared deviations from the mean, each in 4 vector accumulators
 * (16 floats per step) in float; then y = (x - mean) * rstd * scale + bias. */
#include "kernels_arm/common/neon.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-layernorm/list.h"
#undef SB_UKERNEL

static inline __attribute__((always_inline)) float row_sum(size_t len, const float* x, const float mean,
                                                           const int squares) {
  const float32x4_t m = vdupq_n_f32(mean);
  float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
  size_t k = 0;
  for (; k + 16 <= len; k += 16) {
    float32x4_t v0 = vld1q_f32(x + k), v1 = vld1q_f32(x + k + 4), v2 = vld1q_f32(x + k + 8), v3 = vld1q_f32(x + k + 12);
    if (squares) {
      v0 = vsubq_f32(v0, m), v1 = vsubq_f32(v1, m), v2 = vsubq_f32(v2, m), v3 = vsubq_f32(v3, m);
      a0 = vfmaq_f32(a0, v0, v0), a1 = vfmaq_f32(a1, v1, v1), a2 = vfmaq_f32(a2, v2, v2), a3 = vfmaq_f32(a3, v3, v3);
    } else {
      a0 = vaddq_f32(a0, v0), a1 = vaddq_f32(a1, v1), a2 = vaddq_f32(a2, v2), a3 = vaddq_f32(a3, v3);
    }
  }
  for (; k + 4 <= len; k += 4) {
    float32x4_t v = vld1q_f32(x + k);
    if (squares) {
      v = vsubq_f32(v, m);
      a0 = vfmaq_f32(a0, v, v);
    } else {
      a0 = vaddq_f32(a0, v);
    }
  }
  float s = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
  for (; k < len; k++) s += squares ? (x[k] - mean) * (x[k] - mean) : x[k];
  return s;
}

/* y = (x - mean) * rstd * scale (+ bias): has_bias a compile-time constant at both call sites */
static inline __attribute__((always_inline)) void normalise(const int has_bias, size_t len, const float* x,
                                                            float mean, float rstd, const float* scale,
                                                            const float* bias, float* y) {
  const float32x4_t m = vdupq_n_f32(mean), rs = vdupq_n_f32(rstd), zero = vdupq_n_f32(0.0f);
  size_t k = 0;
  for (; k + 8 <= len; k += 8) {
    const float32x4_t a0 = vmulq_f32(vsubq_f32(vld1q_f32(x + k), m), rs);
    const float32x4_t a1 = vmulq_f32(vsubq_f32(vld1q_f32(x + k + 4), m), rs);
    const float32x4_t b0 = has_bias ? vld1q_f32(bias + k) : zero, b1 = has_bias ? vld1q_f32(bias + k + 4) : zero;
    vst1q_f32(y + k, vfmaq_f32(b0, a0, vld1q_f32(scale + k)));
    vst1q_f32(y + k + 4, vfmaq_f32(b1, a1, vld1q_f32(scale + k + 4)));
  }
  for (; k + 4 <= len; k += 4) {
    const float32x4_t a0 = vmulq_f32(vsubq_f32(vld1q_f32(x + k), m), rs);
    vst1q_f32(y + k, vfmaq_f32(has_bias ? vld1q_f32(bias + k) : zero, a0, vld1q_f32(scale + k)));
  }
  for (; k < len; k++) y[k] = (x[k] - mean) * rstd * scale[k] + (has_bias ? bias[k] : 0.0f);
}

void sb_f32_layernorm_ukernel__neon(size_t rows, size_t len, const float* x, const float* scale, const float* bias,
                                    float eps, float* y) {
  for (size_t r = 0; r < rows; r++, x += len, y += len) {
    const float mean = row_sum(len, x, 0.0f, 0) / (float)len;
    const float rstd = 1.0f / sqrtf(row_sum(len, x, mean, 1) / (float)len + eps);
    if (bias) normalise(1, len, x, mean, rstd, scale, bias, y);
    else normalise(0, len, x, mean, rstd, scale, NULL, y);
  }
}
