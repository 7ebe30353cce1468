/* NEON forms of every activation kind (engine/kernels/sb_vmath.h on NEON intrinsics): one vector of any kind
 * (sb_neon_act_vec, the epilogues' path for the transcendental kinds) and whole buffers with the kind dispatched
 * once (sb_neon_act_array, the elementwise kernels). */
#include "kernels_arm/common/neon.h"

#if defined(SB_NEON_SIMDE)
/* SIMDe 0.7.4 has neither vdivq_f32 nor vsqrtq_f32: lane by lane (x86 timing does not matter) */
static inline float32x4_t sb_neon_div(float32x4_t a, float32x4_t b) {
  float x[4], y[4];
  vst1q_f32(x, a);
  vst1q_f32(y, b);
  for (int i = 0; i < 4; i++) x[i] /= y[i];
  return vld1q_f32(x);
}
static inline float32x4_t sb_neon_sqrt(float32x4_t a) {
  float x[4];
  vst1q_f32(x, a);
  for (int i = 0; i < 4; i++) x[i] = sqrtf(x[i]);
  return vld1q_f32(x);
}
#else
#define sb_neon_div vdivq_f32
#define sb_neon_sqrt vsqrtq_f32
#endif

#define SB_V float32x4_t
#define SB_V_SPLAT(f) vdupq_n_f32(f)
#define SB_V_ADD vaddq_f32
#define SB_V_SUB vsubq_f32
#define SB_V_MUL vmulq_f32
#define SB_V_DIV sb_neon_div
#define SB_V_FMA vfmaq_f32
#define SB_V_MIN vminq_f32 /* fmin/fmax keep a NaN operand */
#define SB_V_MAX vmaxq_f32
#define SB_V_ABS vabsq_f32
#define SB_V_NEG vnegq_f32
#define SB_V_SQRT sb_neon_sqrt
#define SB_V_ROUND vrndnq_f32
#define SB_V_U(x) vreinterpretq_u32_f32(x)
#define SB_V_F(x) vreinterpretq_f32_u32(x)
#define SB_V_LT(a, b) SB_V_F(vcltq_f32(a, b))
#define SB_V_SELECT(m, a, b) vbslq_f32(SB_V_U(m), a, b)
#define SB_V_AND(a, b) SB_V_F(vandq_u32(SB_V_U(a), SB_V_U(b)))
#define SB_V_OR(a, b) SB_V_F(vorrq_u32(SB_V_U(a), SB_V_U(b)))
#define SB_V_ANDNOT(a, b) SB_V_F(vbicq_u32(SB_V_U(a), SB_V_U(b)))
#define SB_V_POW2I(n) vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23))
#define SB_V_ILOGB(x) vcvtq_f32_u32(vandq_u32(vshrq_n_u32(SB_V_U(x), 23), vdupq_n_u32(0xff)))
#define SB_V_SETEXP(x) SB_V_F(vbslq_u32(vdupq_n_u32(0x807fffffu), SB_V_U(x), vdupq_n_u32(0x3f000000u)))
#include "sb_vmath.h"

float32x4_t sb_neon_act_vec(float32x4_t v, const sb_activation* act) {
#define SB_ONE(K) v = sb_v_activate(K, act, v)
  SB_V_KIND_SWITCH(act->kind, SB_ONE)
#undef SB_ONE
  return v;
}

/* y[i] = act(x[i]) for a compile-time kind; the last n % 4 through a padded vector, so that every element gets
 * the vector result wherever a thread's range starts or ends. */
static inline __attribute__((always_inline)) void act_rows(const int kind, const sb_activation* a, const float* x,
                                                           float* y, size_t n) {
  const sb_activation local = *a; /* the stores to y could alias *a: a copy keeps the parameters in registers */
  const sb_activation* act = &local;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4);
    vst1q_f32(y + i, sb_v_activate(kind, act, a));
    vst1q_f32(y + i + 4, sb_v_activate(kind, act, b));
  }
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, sb_v_activate(kind, act, vld1q_f32(x + i)));
  if (i < n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (size_t k = 0; k < n - i; k++) t[k] = x[i + k];
    vst1q_f32(t, sb_v_activate(kind, act, vld1q_f32(t)));
    for (size_t k = 0; k < n - i; k++) y[i + k] = t[k];
  }
}

void sb_neon_act_array(const sb_activation* act, const float* x, float* y, size_t n) {
#define SB_ROWS(K) act_rows(K, act, x, y, n)
  SB_V_KIND_SWITCH(act->kind, SB_ROWS)
#undef SB_ROWS
}
