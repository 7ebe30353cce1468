/* NEON f32-vbinary: elementwise add/mul of equal shapes and per-channel broadcasts, with the fused activation. */
#include "kernels_arm/common/neon.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-vbinary/list.h"
#undef SB_UKERNEL

#define SB_VBINARY(name, vop, op)                                                                              \
  void sb_f32_##name##_ukernel__neon(size_t n, const float* a, const float* b, float* y,                      \
                                      const sb_activation* act) {                                             \
    const sb_neon_act na = sb_neon_act_init(act);                                                             \
    size_t i = 0;                                                                                             \
    for (; i + 8 <= n; i += 8) {                                                                              \
      vst1q_f32(y + i, sb_neon_activate(vop(vld1q_f32(a + i), vld1q_f32(b + i)), &na));                       \
      vst1q_f32(y + i + 4, sb_neon_activate(vop(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4)), &na));           \
    }                                                                                                         \
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, sb_neon_activate(vop(vld1q_f32(a + i), vld1q_f32(b + i)), &na)); \
    for (; i < n; i++) y[i] = sb_activate(act, a[i] op b[i]);                                                 \
  }                                                                                                           \
  void sb_f32_##name##c_ukernel__neon(size_t channels, size_t pixels, const float* a, const float* b, float* y, \
                                       const sb_activation* act) {                                            \
    const sb_neon_act na = sb_neon_act_init(act);                                                             \
    for (size_t c = 0; c < channels; c++) {                                                                   \
      const float* ac = a + c * pixels;                                                                       \
      float* yc = y + c * pixels;                                                                             \
      const float32x4_t bc = vdupq_n_f32(b[c]);                                                               \
      size_t p = 0;                                                                                           \
      for (; p + 4 <= pixels; p += 4) vst1q_f32(yc + p, sb_neon_activate(vop(vld1q_f32(ac + p), bc), &na));   \
      for (; p < pixels; p++) yc[p] = sb_activate(act, ac[p] op b[c]);                                        \
    }                                                                                                         \
  }

SB_VBINARY(vadd, vaddq_f32, +)
SB_VBINARY(vmul, vmulq_f32, *)
