/* NEON f32-vunary: activation over a buffer (common/neon_act.c: the kind dispatched once), and the per-channel
 * affine (x * scale[c] + shift[c]) with the activation as in f32-vbinary: none, a clamp inline, any other kind over
 * blocks of the result in place. */
#include "kernels_arm/common/neon.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-vunary/list.h"
#undef SB_UKERNEL

void sb_f32_vact_ukernel__neon(size_t n, const float* x, float* y, const sb_activation* act) {
  sb_neon_act_array(act, x, y, n);
}

enum { MODE_NONE, MODE_CLAMP, MODE_OTHER };
enum { BLOCK = 512 };

static inline __attribute__((always_inline)) void affine_row(const int mode, size_t n, const float* x, float scale,
                                                             float shift, float* y, const sb_activation* act) {
  const float32x4_t sc = vdupq_n_f32(scale), sh = vdupq_n_f32(shift);
  const float32x4_t lo = vdupq_n_f32(act->p0), hi = vdupq_n_f32(act->p1);
  size_t p = 0;
  /* multiply then add, as the reference does (a fused multiply-add would round once less) */
  for (; p + 8 <= n; p += 8) {
    float32x4_t v0 = vaddq_f32(vmulq_f32(vld1q_f32(x + p), sc), sh);
    float32x4_t v1 = vaddq_f32(vmulq_f32(vld1q_f32(x + p + 4), sc), sh);
    if (mode == MODE_CLAMP) {
      v0 = vminq_f32(vmaxq_f32(v0, lo), hi);
      v1 = vminq_f32(vmaxq_f32(v1, lo), hi);
    }
    vst1q_f32(y + p, v0);
    vst1q_f32(y + p + 4, v1);
  }
  for (; p < n; p++) {
    float v = x[p] * scale + shift;
    if (mode == MODE_CLAMP) v = v < act->p0 ? act->p0 : (v > act->p1 ? act->p1 : v);
    y[p] = v;
  }
  if (mode == MODE_OTHER) sb_neon_act_array(act, y, y, n);
}

void sb_f32_affine_ukernel__neon(size_t channels, size_t pixels, const float* x, const float* scale,
                                 const float* shift, float* y, const sb_activation* act) {
  for (size_t c = 0; c < channels; c++) {
    const float* xc = x + c * pixels;
    float* yc = y + c * pixels;
    if (act->kind == SB_ACT_NONE) {
      affine_row(MODE_NONE, pixels, xc, scale[c], shift[c], yc, act);
    } else if (act->kind == SB_ACT_CLIP) {
      affine_row(MODE_CLAMP, pixels, xc, scale[c], shift[c], yc, act);
    } else {
      for (size_t p = 0; p < pixels; p += BLOCK)
        affine_row(MODE_OTHER, pixels - p < BLOCK ? pixels - p : BLOCK, xc + p, scale[c], shift[c], yc + p, act);
    }
  }
}
