/* Shared by the WASM SIMD128 kernels: the fused activation epilogue on 4 lanes. The clamps (NONE, CLIP,
 * HARDSIGMOID, HARDSWISH) inline; every other kind through sb_wasm_act_vec (common/wasm_act.c), the vector forms of
 * engine/kernels/sb_vmath.h, out of line so the transcendental code stays out of the tile loops; whole buffers with
 * the kind dispatched once through sb_wasm_act_array. pmin/pmax are compare-and-selects, so with x first they keep
 * the scalar semantics, NaN included. */
#ifndef SB_WASM_ACT_H
#define SB_WASM_ACT_H

#include <wasm_simd128.h>

#include "sb_kernels.h"

#define SB_WASM_INLINE static inline __attribute__((always_inline))

/* sb_vmath.h's primitives on SIMD128 (no fused multiply-add: a + b * c rounds twice; the formulas allow it) */
#define SB_V v128_t
#define SB_V_SPLAT(f) wasm_f32x4_splat(f)
#define SB_V_ADD wasm_f32x4_add
#define SB_V_SUB wasm_f32x4_sub
#define SB_V_MUL wasm_f32x4_mul
#define SB_V_DIV wasm_f32x4_div
#define SB_V_FMA(a, b, c) wasm_f32x4_add(a, wasm_f32x4_mul(b, c))
#define SB_V_MIN wasm_f32x4_pmin /* pmin(x, c) = c < x ? c : x: a NaN x stays */
#define SB_V_MAX wasm_f32x4_pmax
#define SB_V_ABS wasm_f32x4_abs
#define SB_V_NEG wasm_f32x4_neg
#define SB_V_SQRT wasm_f32x4_sqrt
#define SB_V_ROUND wasm_f32x4_nearest
#define SB_V_LT wasm_f32x4_lt
#define SB_V_SELECT(m, a, b) wasm_v128_bitselect(a, b, m)
#define SB_V_AND wasm_v128_and
#define SB_V_OR wasm_v128_or
#define SB_V_ANDNOT wasm_v128_andnot
/* 2^n: n + 1.5 * 2^23 holds n in its low mantissa bits (|n| < 2^22), one float add instead of trunc_sat, which V8
 * lowers to a long sequence on x86; the shift drops the magic's own bits */
#define SB_V_POW2I(n) \
  wasm_i32x4_shl(wasm_i32x4_add(wasm_f32x4_add(n, wasm_f32x4_splat(12582912.0f)), wasm_i32x4_splat(127)), 23)
#define SB_V_ILOGB(x) wasm_f32x4_convert_i32x4(wasm_v128_and(wasm_u32x4_shr(x, 23), wasm_i32x4_splat(0xff)))
#define SB_V_SETEXP(x) wasm_v128_or(wasm_v128_and(x, wasm_i32x4_splat(0x807fffff)), wasm_i32x4_splat(0x3f000000))
#include "sb_vmath.h"

SB_WASM_INLINE v128_t sb_wasm_clamp(v128_t x, v128_t lo, v128_t hi) {
  /* pmax(a, b) = a < b ? b : a, pmin(a, b) = b < a ? b : a: a NaN x fails both compares and stays NaN */
  return wasm_f32x4_pmin(wasm_f32x4_pmax(x, lo), hi); /* x < lo ? lo : (x > hi ? hi : x) */
}

v128_t sb_wasm_act_vec(const sb_activation* a, v128_t x);
void sb_wasm_act_array(const sb_activation* a, const float* x, float* y, size_t n); /* x may equal y */

SB_WASM_INLINE v128_t sb_wasm_activate(const sb_activation* a, v128_t x) {
  switch (a->kind) {
    case SB_ACT_CLIP: return sb_wasm_clamp(x, wasm_f32x4_splat(a->p0), wasm_f32x4_splat(a->p1));
    case SB_ACT_HARDSIGMOID: return sb_v_activate(SB_ACT_HARDSIGMOID, a, x);
    case SB_ACT_HARDSWISH: return sb_v_activate(SB_ACT_HARDSWISH, a, x);
    case SB_ACT_NONE: return x;
    default: return sb_wasm_act_vec(a, x);
  }
}

/* One value as the vector lanes compute it (the kernels' scalar tails): a pixel's result does not depend on whether
 * a thread's range put it in a vector or in a tail. */
static inline float sb_wasm_activate1(const sb_activation* a, float x) {
  if (a->kind == SB_ACT_CLIP) return x < a->p0 ? a->p0 : (x > a->p1 ? a->p1 : x);
  if (a->kind == SB_ACT_NONE) return x;
  return wasm_f32x4_extract_lane(sb_wasm_activate(a, wasm_f32x4_splat(x)), 0);
}

#endif /* SB_WASM_ACT_H */
