/* NEON intrinsics for every kernel in kernels_arm/: <arm_neon.h> on aarch64, SIMDe's native aliases on x86
 * (-DSB_NEON_SIMDE, build with -mfma so vfmaq_f32 rounds as on ARM), plus the vector activation epilogue. */
#ifndef SB_KERNELS_ARM_NEON_H
#define SB_KERNELS_ARM_NEON_H

#if defined(SB_NEON_SIMDE)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/arm/neon.h>
#else
#include <arm_neon.h>
#endif

#include <math.h>
#include <stddef.h>

#include "sb_kernels.h"

/* An activation prepared once per call: NONE and CLIP become one clamp (to +-inf for NONE). */
typedef struct sb_neon_act {
  const sb_activation* act;
  int clamp_only;
  float32x4_t lo, hi;
} sb_neon_act;

static inline sb_neon_act sb_neon_act_init(const sb_activation* act) {
  sb_neon_act a;
  a.act = act;
  a.clamp_only = act->kind == SB_ACT_NONE || act->kind == SB_ACT_CLIP;
  a.lo = vdupq_n_f32(act->kind == SB_ACT_CLIP ? act->p0 : -INFINITY);
  a.hi = vdupq_n_f32(act->kind == SB_ACT_CLIP ? act->p1 : INFINITY);
  return a;
}

/* Every kind on one vector (common/neon_act.c, engine/kernels/sb_vmath.h), and whole buffers with the kind
 * dispatched once (x may equal y). Out of line: inlined, the transcendental kinds land in every tile epilogue and gcc
 * then compiles the hot loops worse (the dense 1x1 GEMM gained ~10% instructions per MAC with the old lane-by-lane
 * fallback inlined). */
float32x4_t sb_neon_act_vec(float32x4_t v, const sb_activation* act);
void sb_neon_act_array(const sb_activation* act, const float* x, float* y, size_t n);

static inline float32x4_t sb_neon_act_general(float32x4_t v, const sb_activation* act) {
  const float32x4_t zero = vdupq_n_f32(0.0f), one = vdupq_n_f32(1.0f);
  switch (act->kind) {
    case SB_ACT_HARDSIGMOID:
      return vminq_f32(vmaxq_f32(vfmaq_f32(vdupq_n_f32(act->p1), v, vdupq_n_f32(act->p0)), zero), one);
    case SB_ACT_HARDSWISH: {
      /* (x + 3) * (1/6), as engine/kernels/sb_vmath.h says why */
      const float32x4_t y = vmulq_f32(vaddq_f32(v, vdupq_n_f32(3.0f)), vdupq_n_f32(1.0f / 6.0f));
      return vmulq_f32(v, vminq_f32(vmaxq_f32(y, zero), one));
    }
    default: return sb_neon_act_vec(v, act);
  }
}

/* Four consecutive vectors in one ld1/st1 (SIMDe 0.7.4 lacks vst1q_f32_x4; x86 timing does not matter). */
static inline float32x4x4_t sb_neon_ld4v(const float* p) {
#if defined(SB_NEON_SIMDE)
  float32x4x4_t r = {{vld1q_f32(p), vld1q_f32(p + 4), vld1q_f32(p + 8), vld1q_f32(p + 12)}};
  return r;
#else
  return vld1q_f32_x4(p);
#endif
}

/* Three consecutive vectors in one ld1. */
static inline float32x4x3_t sb_neon_ld3v(const float* p) {
#if defined(SB_NEON_SIMDE)
  float32x4x3_t r = {{vld1q_f32(p), vld1q_f32(p + 4), vld1q_f32(p + 8)}};
  return r;
#else
  return vld1q_f32_x3(p);
#endif
}

static inline void sb_neon_st4v(float* p, float32x4x4_t v) {
#if defined(SB_NEON_SIMDE)
  for (int i = 0; i < 4; i++) vst1q_f32(p + 4 * i, v.val[i]);
#else
  vst1q_f32_x4(p, v);
#endif
}

static inline float32x4_t sb_neon_activate(float32x4_t v, const sb_neon_act* a) {
  if (a->clamp_only) return vminq_f32(vmaxq_f32(v, a->lo), a->hi);
  return sb_neon_act_general(v, a->act);
}

/* One value as the vector lanes compute it (the kernels' scalar tails): a pixel's result does not depend on whether
 * a thread's range put it in a vector or in a tail. */
static inline float sb_neon_activate1(const sb_activation* act, float x) {
  if (act->kind == SB_ACT_CLIP) return x < act->p0 ? act->p0 : (x > act->p1 ? act->p1 : x);
  if (act->kind == SB_ACT_NONE) return x;
  return vgetq_lane_f32(sb_neon_act_general(vdupq_n_f32(x), act), 0);
}

#endif /* SB_KERNELS_ARM_NEON_H */
