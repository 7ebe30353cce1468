/* NEON f32-vbinary: elementwise add/mul of equal shapes and add/mul/max/min/prelu per-channel broadcasts, with the
 * fused activation. The activation kind is dispatched once per call, outside the loops: none, a clamp (ReLU/ReLU6,
 * 8 floats per step), or any other kind over blocks of the result in place (common/neon_act.c). */
#include "kernels_arm/common/neon.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-vbinary/list.h"
#undef SB_UKERNEL

#define SB_VB_INLINE static inline __attribute__((always_inline))
enum { MODE_NONE, MODE_CLAMP, MODE_OTHER };
enum { BLOCK = 512 }; /* floats per in-place activation pass: stays in L1 */

enum { OP_ADD, OP_MUL, OP_MAX, OP_MIN, OP_PRELU };

/* max/min as compare + select: NaN handling matches the scalar oracle's x < b ? b : x (vmaxq_f32 would give NaN) */
SB_VB_INLINE float32x4_t vb_op(const int op, float32x4_t a, float32x4_t b) {
  switch (op) {
    case OP_MUL: return vmulq_f32(a, b);
    case OP_MAX: return vbslq_f32(vcltq_f32(a, b), b, a);
    case OP_MIN: return vbslq_f32(vcltq_f32(b, a), b, a);
    case OP_PRELU: return vbslq_f32(vcltq_f32(a, vdupq_n_f32(0.0f)), vmulq_f32(a, b), a);
    default: return vaddq_f32(a, b);
  }
}

SB_VB_INLINE float vb_op1(const int op, float a, float b) {
  switch (op) {
    case OP_MUL: return a * b;
    case OP_MAX: return a < b ? b : a;
    case OP_MIN: return b < a ? b : a;
    case OP_PRELU: return a < 0.0f ? a * b : a;
    default: return a + b;
  }
}

/* y[i] = act(a[i] op b[i]), or op b[0] for every i when bcast; n <= BLOCK in MODE_OTHER */
SB_VB_INLINE void vb_row(const int op, const int bcast, const int mode, size_t n, const float* a, const float* b,
                         float* y, const sb_activation* act) {
  const float32x4_t lo = vdupq_n_f32(act->p0), hi = vdupq_n_f32(act->p1), bc = vld1q_dup_f32(b);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    float32x4_t v0 = vb_op(op, vld1q_f32(a + i), bcast ? bc : vld1q_f32(b + i));
    float32x4_t v1 = vb_op(op, vld1q_f32(a + i + 4), bcast ? bc : vld1q_f32(b + i + 4));
    if (mode == MODE_CLAMP) {
      v0 = vminq_f32(vmaxq_f32(v0, lo), hi);
      v1 = vminq_f32(vmaxq_f32(v1, lo), hi);
    }
    vst1q_f32(y + i, v0);
    vst1q_f32(y + i + 4, v1);
  }
  if (i + 4 <= n) {
    float32x4_t v0 = vb_op(op, vld1q_f32(a + i), bcast ? bc : vld1q_f32(b + i));
    if (mode == MODE_CLAMP) v0 = vminq_f32(vmaxq_f32(v0, lo), hi);
    vst1q_f32(y + i, v0);
    i += 4;
  }
  for (; i < n; i++) {
    const float bv = bcast ? b[0] : b[i];
    float v = vb_op1(op, a[i], bv);
    if (mode == MODE_CLAMP) v = v < act->p0 ? act->p0 : (v > act->p1 ? act->p1 : v);
    y[i] = v;
  }
  if (mode == MODE_OTHER) sb_neon_act_array(act, y, y, n);
}

SB_VB_INLINE void vb_any(const int op, const int bcast, size_t n, const float* a, const float* b, float* y,
                         const sb_activation* act) {
  if (act->kind == SB_ACT_NONE) {
    vb_row(op, bcast, MODE_NONE, n, a, b, y, act);
  } else if (act->kind == SB_ACT_CLIP) {
    vb_row(op, bcast, MODE_CLAMP, n, a, b, y, act);
  } else {
    for (size_t i = 0; i < n; i += BLOCK)
      vb_row(op, bcast, MODE_OTHER, n - i < BLOCK ? n - i : BLOCK, a + i, bcast ? b : b + i, y + i, act);
  }
}

SB_VB_INLINE void vb_channels(const int op, size_t channels, size_t pixels, const float* a, const float* b, float* y,
                              const sb_activation* act) {
  if (act->kind == SB_ACT_NONE) {
    for (size_t c = 0; c < channels; c++) vb_row(op, 1, MODE_NONE, pixels, a + c * pixels, b + c, y + c * pixels, act);
  } else if (act->kind == SB_ACT_CLIP) {
    for (size_t c = 0; c < channels; c++) vb_row(op, 1, MODE_CLAMP, pixels, a + c * pixels, b + c, y + c * pixels, act);
  } else {
    for (size_t c = 0; c < channels; c++) vb_any(op, 1, pixels, a + c * pixels, b + c, y + c * pixels, act);
  }
}

void sb_f32_vadd_ukernel__neon(size_t n, const float* a, const float* b, float* y, const sb_activation* act) {
  vb_any(OP_ADD, 0, n, a, b, y, act);
}
void sb_f32_vmul_ukernel__neon(size_t n, const float* a, const float* b, float* y, const sb_activation* act) {
  vb_any(OP_MUL, 0, n, a, b, y, act);
}
void sb_f32_vaddc_ukernel__neon(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                const sb_activation* act) {
  vb_channels(OP_ADD, channels, pixels, a, b, y, act);
}
void sb_f32_vmulc_ukernel__neon(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                const sb_activation* act) {
  vb_channels(OP_MUL, channels, pixels, a, b, y, act);
}
void sb_f32_vmaxc_ukernel__neon(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                const sb_activation* act) {
  vb_channels(OP_MAX, channels, pixels, a, b, y, act);
}
void sb_f32_vminc_ukernel__neon(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                const sb_activation* act) {
  vb_channels(OP_MIN, channels, pixels, a, b, y, act);
}
void sb_f32_vpreluc_ukernel__neon(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                  const sb_activation* act) {
  vb_channels(OP_PRELU, channels, pixels, a, b, y, act);
}
