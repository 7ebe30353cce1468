/* NEON f32-vunary: activation over a buffer, and the per-channel affine (x * scale[c] + shift[c]). */
#include "kernels_arm/common/neon.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-vunary/list.h"
#undef SB_UKERNEL

void sb_f32_vact_ukernel__neon(size_t n, const float* x, float* y, const sb_activation* act) {
  const sb_neon_act na = sb_neon_act_init(act);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    vst1q_f32(y + i, sb_neon_activate(vld1q_f32(x + i), &na));
    vst1q_f32(y + i + 4, sb_neon_activate(vld1q_f32(x + i + 4), &na));
  }
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, sb_neon_activate(vld1q_f32(x + i), &na));
  for (; i < n; i++) y[i] = sb_activate(act, x[i]);
}

void sb_f32_affine_ukernel__neon(size_t channels, size_t pixels, const float* x, const float* scale,
                                 const float* shift, float* y, const sb_activation* act) {
  const sb_neon_act na = sb_neon_act_init(act);
  for (size_t c = 0; c < channels; c++) {
    const float* xc = x + c * pixels;
    float* yc = y + c * pixels;
    const float32x4_t sc = vdupq_n_f32(scale[c]), sh = vdupq_n_f32(shift[c]);
    size_t p = 0;
    /* multiply then add, as the reference does (a fused multiply-add would round once less) */
    for (; p + 4 <= pixels; p += 4) vst1q_f32(yc + p, sb_neon_activate(vaddq_f32(vmulq_f32(vld1q_f32(xc + p), sc), sh), &na));
    for (; p < pixels; p++) yc[p] = sb_activate(act, xc[p] * scale[c] + shift[c]);
  }
}
