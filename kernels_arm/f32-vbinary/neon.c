/* NEON f32-vbinary: elementwise add/mul of equal shapes and per-channel broadcasts, with the fused activation. The
 * activation kind is dispatched once per call, outside the loops: none, a clamp (ReLU/ReLU6, 8 floats per step), or
 * any other kind over blocks of the result in place (common/neon_act.c). */
#include "kernels_arm/common/neon.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-vbinary/list.h"
#undef SB_UKERNEL

#define SB_VB_INLINE static inline __attribute__((always_inline))
enum { MODE_NONE, MODE_CLAMP, MODE_OTHER };
enum { BLOCK = 512 }; /* floats per in-place activation pass: stays in L1 */

SB_VB_INLINE float32x4_t vb_op(const int mul, float32x4_t a, float32x4_t b) {
  return mul ? vmulq_f32(a, b) : vaddq_f32(a, b);
}

/* y[i] = act(a[i] op b[i]), or op b[0] for every i when bcast; n <= BLOCK in MODE_OTHER */
SB_VB_INLINE void vb_row(const int mul, const int bcast, const int mode, size_t n, const float* a, const float* b,
                         float* y, const sb_activation* act) {
  const float32x4_t lo = vdupq_n_f32(act->p0), hi = vdupq_n_f32(act->p1), bc = vld1q_dup_f32(b);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    float32x4_t v0 = vb_op(mul, vld1q_f32(a + i), bcast ? bc : vld1q_f32(b + i));
    float32x4_t v1 = vb_op(mul, vld1q_f32(a + i + 4), bcast ? bc : vld1q_f32(b + i + 4));
    if (mode == MODE_CLAMP) {
      v0 = vminq_f32(vmaxq_f32(v0, lo), hi);
      v1 = vminq_f32(vmaxq_f32(v1, lo), hi);
    }
    vst1q_f32(y + i, v0);
    vst1q_f32(y + i + 4, v1);
  }
  if (i + 4 <= n) {
    float32x4_t v0 = vb_op(mul, vld1q_f32(a + i), bcast ? bc : vld1q_f32(b + i));
    if (mode == MODE_CLAMP) v0 = vminq_f32(vmaxq_f32(v0, lo), hi);
    vst1q_f32(y + i, v0);
    i += 4;
  }
  for (; i < n; i++) {
    const float bv = bcast ? b[0] : b[i];
    float v = mul ? a[i] * bv : a[i] + bv;
    if (mode == MODE_CLAMP) v = v < act->p0 ? act->p0 : (v > act->p1 ? act->p1 : v);
    y[i] = v;
  }
  if (mode == MODE_OTHER) sb_neon_act_array(act, y, y, n);
}

SB_VB_INLINE void vb_any(const int mul, const int bcast, size_t n, const float* a, const float* b, float* y,
                         const sb_activation* act) {
  if (act->kind == SB_ACT_NONE) {
    vb_row(mul, bcast, MODE_NONE, n, a, b, y, act);
  } else if (act->kind == SB_ACT_CLIP) {
    vb_row(mul, bcast, MODE_CLAMP, n, a, b, y, act);
  } else {
    for (size_t i = 0; i < n; i += BLOCK)
      vb_row(mul, bcast, MODE_OTHER, n - i < BLOCK ? n - i : BLOCK, a + i, bcast ? b : b + i, y + i, act);
  }
}

SB_VB_INLINE void vb_channels(const int mul, size_t channels, size_t pixels, const float* a, const float* b, float* y,
                              const sb_activation* act) {
  if (act->kind == SB_ACT_NONE) {
    for (size_t c = 0; c < channels; c++) vb_row(mul, 1, MODE_NONE, pixels, a + c * pixels, b + c, y + c * pixels, act);
  } else if (act->kind == SB_ACT_CLIP) {
    for (size_t c = 0; c < channels; c++) vb_row(mul, 1, MODE_CLAMP, pixels, a + c * pixels, b + c, y + c * pixels, act);
  } else {
    for (size_t c = 0; c < channels; c++) vb_any(mul, 1, pixels, a + c * pixels, b + c, y + c * pixels, act);
  }
}

void sb_f32_vadd_ukernel__neon(size_t n, const float* a, const float* b, float* y, const sb_activation* act) {
  vb_any(0, 0, n, a, b, y, act);
}
void sb_f32_vmul_ukernel__neon(size_t n, const float* a, const float* b, float* y, const sb_activation* act) {
  vb_any(1, 0, n, a, b, y, act);
}
void sb_f32_vaddc_ukernel__neon(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                const sb_activation* act) {
  vb_channels(0, channels, pixels, a, b, y, act);
}
void sb_f32_vmulc_ukernel__neon(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                const sb_activation* act) {
  vb_channels(1, channels, pixels, a, b, y, act);
}
