/* Vector forms of the transcendental activation kinds (sb_activate in sb_kernels.h), written once for every SIMD
 * architecture: the includer defines the SB_V_* primitives below for its intrinsics (kernels_arm/common/neon_act.c,
 * kernels_wasm/common/wasm_act.c) and gets sb_v_activate(kind, act, x) for a compile-time kind.
 *
 * Accuracy (tests/kernels, test_f32_vact's extreme values, against a double-precision oracle): within ~1e-6
 * relative over the float range. Results at +-inf, NaN, overflow and underflow are those of the scalar path
 * (sb_activate with libm), e.g. SILU(-inf) and GELU(-inf) are NaN there and here.
 *   exp    Cephes expf: n = round(x log2 e), r = x - n ln 2 (two-part ln 2), degree-6 polynomial; 2^n applied as two
 *          factors so results down to the subnormals and up to the overflow are right; x clamped to [-104, 89]
 *          first (NaN passes the clamp).
 *   expm1  the same reduction, 2^n (p - 1) + (2^n - 1): no cancellation near 0.
 *   tanh   Cephes tanhf: odd polynomial below |x| 0.625, 1 - 2 / (exp(2|x|) + 1) above, sign copied.
 *   erf    Taylor series (7 terms) below |x| 0.5; above, erfc from Numerical Recipes' erfcc (fractional error
 *          < 1.2e-7) with the rounding of x*x compensated; GELU uses erfc directly for x < 0 (no cancellation).
 *   log    Cephes logf (mantissa in [sqrt(1/2), sqrt(2)), degree-9 polynomial), subnormals rescaled; log1p for
 *          SOFTPLUS as log(u) * y / (u - 1), u = 1 + y.
 *
 * Primitives (all on 4 floats; masks are all-ones lanes):
 *   SB_V type; SB_V_SPLAT(f); SB_V_ADD, SB_V_SUB, SB_V_MUL, SB_V_DIV(a, b); SB_V_FMA(a, b, c) = a + b * c;
 *   SB_V_MIN(x, c), SB_V_MAX(x, c) (a NaN x stays NaN); SB_V_ABS, SB_V_NEG, SB_V_SQRT, SB_V_ROUND (to nearest even);
 *   SB_V_LT(a, b) mask; SB_V_SELECT(mask, a, b) = mask ? a : b; SB_V_AND, SB_V_OR, SB_V_ANDNOT(a, b) = a & ~b on bits;
 *   SB_V_POW2I(n) = 2^n for integral n in [-126, 127]; SB_V_ILOGB(x) = the biased exponent field of x, as float;
 *   SB_V_SETEXP(x) = x with its exponent field set to 126 (|x| in [0.5, 1)). */
#ifndef SB_VMATH_H
#define SB_VMATH_H

#include "sb_kernels.h"

#define SB_V_FN static inline __attribute__((always_inline))

/* exp: Cephes expf coefficients */
SB_V_FN SB_V sb_v_exp_reduce(SB_V x, SB_V* n) {
  x = SB_V_MIN(SB_V_MAX(x, SB_V_SPLAT(-104.0f)), SB_V_SPLAT(89.0f));
  *n = SB_V_ROUND(SB_V_MUL(x, SB_V_SPLAT(1.44269504088896341f)));
  SB_V r = SB_V_FMA(x, *n, SB_V_SPLAT(-0.693359375f));
  return SB_V_FMA(r, *n, SB_V_SPLAT(2.12194440e-4f));
}

/* p - 1 for p = exp(r), |r| <= ln2 / 2 */
SB_V_FN SB_V sb_v_expm1_poly(SB_V r) {
  SB_V p = SB_V_FMA(SB_V_SPLAT(1.3981999507e-3f), r, SB_V_SPLAT(1.9875691500e-4f));
  p = SB_V_FMA(SB_V_SPLAT(8.3334519073e-3f), r, p);
  p = SB_V_FMA(SB_V_SPLAT(4.1665795894e-2f), r, p);
  p = SB_V_FMA(SB_V_SPLAT(1.6666665459e-1f), r, p);
  p = SB_V_FMA(SB_V_SPLAT(5.0000001201e-1f), r, p);
  return SB_V_FMA(r, SB_V_MUL(r, r), p);
}

SB_V_FN SB_V sb_v_exp(SB_V x) {
  SB_V n;
  const SB_V r = sb_v_exp_reduce(x, &n);
  const SB_V p = SB_V_ADD(sb_v_expm1_poly(r), SB_V_SPLAT(1.0f));
  /* n in [-150, 128]: two factors 2^(n/2) keep each one a normal float */
  const SB_V n1 = SB_V_ROUND(SB_V_MUL(n, SB_V_SPLAT(0.5f)));
  return SB_V_MUL(SB_V_MUL(p, SB_V_POW2I(n1)), SB_V_POW2I(SB_V_SUB(n, n1)));
}

SB_V_FN SB_V sb_v_expm1(SB_V x) {
  SB_V n;
  const SB_V r = sb_v_exp_reduce(SB_V_MAX(x, SB_V_SPLAT(-88.0f)), &n); /* expm1(-88) is -1 in float */
  const SB_V q = sb_v_expm1_poly(r);
  const SB_V s1 = SB_V_POW2I(SB_V_MIN(n, SB_V_SPLAT(127.0f)));
  /* n = 128 (x near the overflow): 2 * (2^127 q + 2^127) - 1, which overflows as the scalar path does */
  const SB_V big = SB_V_SUB(SB_V_MUL(SB_V_FMA(s1, s1, q), SB_V_SPLAT(2.0f)), SB_V_SPLAT(1.0f));
  const SB_V y = SB_V_FMA(SB_V_SUB(s1, SB_V_SPLAT(1.0f)), s1, q);
  return SB_V_SELECT(SB_V_LT(SB_V_SPLAT(127.5f), n), big, y);
}

/* 1 / (1 + exp(-x)); +-inf give 1 and 0 */
SB_V_FN SB_V sb_v_sigmoid(SB_V x) {
  return SB_V_DIV(SB_V_SPLAT(1.0f), SB_V_ADD(SB_V_SPLAT(1.0f), sb_v_exp(SB_V_NEG(x))));
}

SB_V_FN SB_V sb_v_copysign(SB_V magnitude, SB_V sign_of) {
  const SB_V sign = SB_V_SPLAT(-0.0f);
  return SB_V_OR(SB_V_ANDNOT(magnitude, sign), SB_V_AND(sign_of, sign));
}

SB_V_FN SB_V sb_v_tanh(SB_V x) {
  const SB_V a = SB_V_ABS(x);
  const SB_V z = SB_V_MUL(x, x);
  SB_V p = SB_V_FMA(SB_V_SPLAT(2.06390887954e-2f), z, SB_V_SPLAT(-5.70498872745e-3f));
  p = SB_V_FMA(SB_V_SPLAT(-5.37397155531e-2f), z, p);
  p = SB_V_FMA(SB_V_SPLAT(1.33314422036e-1f), z, p);
  p = SB_V_FMA(SB_V_SPLAT(-3.33332819422e-1f), z, p);
  const SB_V small = SB_V_FMA(x, SB_V_MUL(p, z), x);
  const SB_V e = sb_v_exp(SB_V_ADD(a, a));
  const SB_V large = SB_V_SUB(SB_V_SPLAT(1.0f), SB_V_DIV(SB_V_SPLAT(2.0f), SB_V_ADD(e, SB_V_SPLAT(1.0f))));
  return SB_V_SELECT(SB_V_LT(a, SB_V_SPLAT(0.625f)), small, sb_v_copysign(large, x)); /* NaN: the large branch */
}

/* erf(z) for |z| < 0.5: 2/sqrt(pi) (z - z^3/3 + z^5/10 - ...), 7 terms */
SB_V_FN SB_V sb_v_erf_small(SB_V z) {
  const SB_V z2 = SB_V_MUL(z, z);
  SB_V p = SB_V_FMA(SB_V_SPLAT(-8.548327023450852e-4f), z2, SB_V_SPLAT(1.2055332981789664e-4f));
  p = SB_V_FMA(SB_V_SPLAT(5.223977625442188e-3f), z2, p);
  p = SB_V_FMA(SB_V_SPLAT(-2.6866170645131252e-2f), z2, p);
  p = SB_V_FMA(SB_V_SPLAT(1.1283791670955126e-1f), z2, p);
  p = SB_V_FMA(SB_V_SPLAT(-3.7612638903183754e-1f), z2, p);
  p = SB_V_FMA(SB_V_SPLAT(1.1283791670955126f), z2, p);
  return SB_V_MUL(z, p);
}

/* erfc(a) for a >= 0 (Numerical Recipes' erfcc; +inf gives 0, NaN stays NaN), given a2 = a*a rounded and its
 * rounding error a2_err = a*a - a2 */
SB_V_FN SB_V sb_v_erfc_pos(SB_V a, SB_V a2, SB_V a2_err) {
  const SB_V t = SB_V_DIV(SB_V_SPLAT(1.0f), SB_V_FMA(SB_V_SPLAT(1.0f), a, SB_V_SPLAT(0.5f)));
  SB_V p = SB_V_FMA(SB_V_SPLAT(-0.82215223f), t, SB_V_SPLAT(0.17087277f));
  p = SB_V_FMA(SB_V_SPLAT(1.48851587f), t, p);
  p = SB_V_FMA(SB_V_SPLAT(-1.13520398f), t, p);
  p = SB_V_FMA(SB_V_SPLAT(0.27886807f), t, p);
  p = SB_V_FMA(SB_V_SPLAT(-0.18628806f), t, p);
  p = SB_V_FMA(SB_V_SPLAT(0.09678418f), t, p);
  p = SB_V_FMA(SB_V_SPLAT(0.37409196f), t, p);
  p = SB_V_FMA(SB_V_SPLAT(1.00002368f), t, p);
  p = SB_V_FMA(SB_V_SPLAT(-1.26551223f), t, p);
  /* exp(p - a^2) with the rounding errors of a^2 and of the subtraction (Fast2Sum) put back as exp(d) ~ 1 + d:
   * the argument reaches -90, where one float ulp is 8e-6 */
  const SB_V arg = SB_V_SUB(p, a2);
  const SB_V d = SB_V_SUB(SB_V_SUB(p, SB_V_ADD(arg, a2)), a2_err);
  const SB_V c = SB_V_MUL(t, sb_v_exp(arg));
  return SB_V_FMA(c, c, SB_V_SELECT(SB_V_LT(a, SB_V_SPLAT(1e18f)), d, SB_V_SPLAT(0.0f))); /* inf: d is NaN */
}

SB_V_FN SB_V sb_v_erf(SB_V z) {
  const SB_V a = SB_V_ABS(z);
  const SB_V a2 = SB_V_MUL(a, a);
  const SB_V a2_err = SB_V_FMA(SB_V_NEG(a2), a, a); /* exact with a fused multiply-add, else about 0 */
  const SB_V large = sb_v_copysign(SB_V_SUB(SB_V_SPLAT(1.0f), sb_v_erfc_pos(a, a2, a2_err)), z);
  return SB_V_SELECT(SB_V_LT(a, SB_V_SPLAT(0.5f)), sb_v_erf_small(z), large);
}

/* 0.5 x (1 + erf(x / sqrt 2)); for x < 0, 1 + erf is erfc(|z|) */
SB_V_FN SB_V sb_v_gelu(SB_V x) {
  const SB_V z = SB_V_MUL(x, SB_V_SPLAT(0.70710678118654752f));
  const SB_V a = SB_V_ABS(z);
  /* z^2 = x^2 / 2 from x itself: the rounding of x / sqrt 2 would cost 8e-6 of erfc at z = 8 */
  const SB_V xx = SB_V_MUL(x, x);
  const SB_V half = SB_V_SPLAT(0.5f);
  const SB_V c = sb_v_erfc_pos(a, SB_V_MUL(xx, half), SB_V_MUL(SB_V_FMA(SB_V_NEG(xx), x, x), half));
  const SB_V one_plus = SB_V_SELECT(SB_V_LT(x, SB_V_SPLAT(0.0f)), c, SB_V_SUB(SB_V_SPLAT(2.0f), c));
  const SB_V f = SB_V_SELECT(SB_V_LT(a, SB_V_SPLAT(0.5f)), SB_V_ADD(SB_V_SPLAT(1.0f), sb_v_erf_small(z)), one_plus);
  return SB_V_MUL(SB_V_MUL(SB_V_SPLAT(0.5f), x), f);
}

/* 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3): no cancellation for x < 0 */
SB_V_FN SB_V sb_v_gelu_tanh(SB_V x) {
  const SB_V x3 = SB_V_MUL(SB_V_MUL(x, x), x);
  const SB_V u2 = SB_V_MUL(SB_V_FMA(x, x3, SB_V_SPLAT(0.044715f)), SB_V_SPLAT(-1.5957691216057307f));
  return SB_V_DIV(x, SB_V_ADD(SB_V_SPLAT(1.0f), sb_v_exp(u2)));
}

SB_V_FN SB_V sb_v_log(SB_V x) {
  /* subnormals: scale by 2^25 first */
  const SB_V tiny = SB_V_LT(x, SB_V_SPLAT(1.17549435e-38f));
  const SB_V xs = SB_V_SELECT(tiny, SB_V_MUL(x, SB_V_SPLAT(33554432.0f)), x);
  SB_V e = SB_V_SUB(SB_V_ILOGB(xs), SB_V_SELECT(tiny, SB_V_SPLAT(151.0f), SB_V_SPLAT(126.0f)));
  SB_V m = SB_V_SETEXP(xs); /* [0.5, 1) */
  const SB_V lower = SB_V_LT(m, SB_V_SPLAT(0.707106781186547524f));
  e = SB_V_SELECT(lower, SB_V_SUB(e, SB_V_SPLAT(1.0f)), e);
  m = SB_V_SUB(SB_V_SELECT(lower, SB_V_ADD(m, m), m), SB_V_SPLAT(1.0f));
  const SB_V z = SB_V_MUL(m, m);
  SB_V p = SB_V_FMA(SB_V_SPLAT(-1.1514610310e-1f), m, SB_V_SPLAT(7.0376836292e-2f));
  p = SB_V_FMA(SB_V_SPLAT(1.1676998740e-1f), m, p);
  p = SB_V_FMA(SB_V_SPLAT(-1.2420140846e-1f), m, p);
  p = SB_V_FMA(SB_V_SPLAT(1.4249322787e-1f), m, p);
  p = SB_V_FMA(SB_V_SPLAT(-1.6668057665e-1f), m, p);
  p = SB_V_FMA(SB_V_SPLAT(2.0000714765e-1f), m, p);
  p = SB_V_FMA(SB_V_SPLAT(-2.4999993993e-1f), m, p);
  p = SB_V_FMA(SB_V_SPLAT(3.3333331174e-1f), m, p);
  SB_V y = SB_V_MUL(SB_V_MUL(p, m), z);
  y = SB_V_FMA(y, e, SB_V_SPLAT(-2.12194440e-4f));
  y = SB_V_FMA(y, z, SB_V_SPLAT(-0.5f));
  SB_V r = SB_V_FMA(SB_V_ADD(m, y), e, SB_V_SPLAT(0.693359375f));
  /* x = +-0: -inf; x < 0: NaN; +inf and NaN (|x| < inf fails): x + r (the polynomial gives none of these) */
  r = SB_V_SELECT(SB_V_LT(x, SB_V_SPLAT(0.0f)), SB_V_SPLAT(__builtin_nanf("")), r);
  r = SB_V_SELECT(SB_V_LT(SB_V_ABS(x), SB_V_SPLAT(1.40129846e-45f)), SB_V_SPLAT(-__builtin_inff()), r);
  return SB_V_SELECT(SB_V_LT(SB_V_ABS(x), SB_V_SPLAT(__builtin_inff())), r, SB_V_ADD(x, r));
}

/* log(1 + y) for y >= 0 */
SB_V_FN SB_V sb_v_log1p_pos(SB_V y) {
  const SB_V u = SB_V_ADD(SB_V_SPLAT(1.0f), y);
  const SB_V d = SB_V_SUB(u, SB_V_SPLAT(1.0f));
  const SB_V exact = SB_V_LT(SB_V_SPLAT(0.0f), d);
  const SB_V r = SB_V_MUL(sb_v_log(u), SB_V_DIV(y, SB_V_SELECT(exact, d, SB_V_SPLAT(1.0f))));
  return SB_V_SELECT(exact, r, y); /* u rounded to 1: log1p(y) = y */
}

/* max(x, 0) + log1p(exp(-|x|)) */
SB_V_FN SB_V sb_v_softplus(SB_V x) {
  return SB_V_ADD(SB_V_MAX(x, SB_V_SPLAT(0.0f)), sb_v_log1p_pos(sb_v_exp(SB_V_NEG(SB_V_ABS(x)))));
}

/* min(max(x / 6 + 1/2, 0), 1) as (x + 3) * (1/6): x + 3 is exact near -3, where x / 6 + 1/2 cancels (a fused
 * x * (1/6) + 1/2 was 9e-5 off there), and a multiply is cheaper than a division */
SB_V_FN SB_V sb_v_hardswish_gate(SB_V x) {
  const SB_V y = SB_V_MUL(SB_V_ADD(x, SB_V_SPLAT(3.0f)), SB_V_SPLAT(1.0f / 6.0f));
  return SB_V_MIN(SB_V_MAX(y, SB_V_SPLAT(0.0f)), SB_V_SPLAT(1.0f));
}

/* The activation of a compile-time kind (every kind of sb_kernels.h). */
SB_V_FN SB_V sb_v_activate(const int kind, const sb_activation* a, SB_V x) {
  const SB_V zero = SB_V_SPLAT(0.0f), one = SB_V_SPLAT(1.0f);
  switch (kind) {
    case SB_ACT_CLIP: return SB_V_MIN(SB_V_MAX(x, SB_V_SPLAT(a->p0)), SB_V_SPLAT(a->p1));
    case SB_ACT_HARDSIGMOID: return SB_V_MIN(SB_V_MAX(SB_V_FMA(SB_V_SPLAT(a->p1), x, SB_V_SPLAT(a->p0)), zero), one);
    case SB_ACT_HARDSWISH:
      return SB_V_MUL(x, sb_v_hardswish_gate(x));
    case SB_ACT_SIGMOID: return sb_v_sigmoid(x);
    case SB_ACT_LEAKYRELU: return SB_V_SELECT(SB_V_LT(x, zero), SB_V_MUL(x, SB_V_SPLAT(a->p0)), x);
    case SB_ACT_ELU: return SB_V_SELECT(SB_V_LT(x, zero), SB_V_MUL(sb_v_expm1(x), SB_V_SPLAT(a->p0)), x);
    case SB_ACT_SILU: return SB_V_DIV(x, SB_V_ADD(one, sb_v_exp(SB_V_NEG(x))));
    case SB_ACT_GELU: return sb_v_gelu(x);
    case SB_ACT_GELU_TANH: return sb_v_gelu_tanh(x);
    case SB_ACT_SQRT: return SB_V_SQRT(x);
    case SB_ACT_EXP: return sb_v_exp(x);
    case SB_ACT_TANH: return sb_v_tanh(x);
    case SB_ACT_ABS: return SB_V_ABS(x);
    case SB_ACT_NEG: return SB_V_NEG(x);
    case SB_ACT_RECIPROCAL: return SB_V_DIV(one, x);
    case SB_ACT_ERF: return sb_v_erf(x);
    case SB_ACT_LOG: return sb_v_log(x);
    case SB_ACT_SOFTPLUS: return sb_v_softplus(x);
    default: return x;
  }
}

/* Calls BODY(K) with K the compile-time constant equal to `kind` (unknown kinds: SB_ACT_NONE), so a loop written in
 * BODY is instantiated once per kind and the kind is dispatched once, outside it. */
#define SB_V_KIND_SWITCH(kind, BODY)                   \
  switch (kind) {                                      \
    case SB_ACT_CLIP: BODY(SB_ACT_CLIP); break;        \
    case SB_ACT_HARDSIGMOID: BODY(SB_ACT_HARDSIGMOID); break; \
    case SB_ACT_HARDSWISH: BODY(SB_ACT_HARDSWISH); break; \
    case SB_ACT_SIGMOID: BODY(SB_ACT_SIGMOID); break;  \
    case SB_ACT_LEAKYRELU: BODY(SB_ACT_LEAKYRELU); break; \
    case SB_ACT_ELU: BODY(SB_ACT_ELU); break;          \
    case SB_ACT_SILU: BODY(SB_ACT_SILU); break;        \
    case SB_ACT_GELU: BODY(SB_ACT_GELU); break;        \
    case SB_ACT_GELU_TANH: BODY(SB_ACT_GELU_TANH); break; \
    case SB_ACT_SQRT: BODY(SB_ACT_SQRT); break;        \
    case SB_ACT_EXP: BODY(SB_ACT_EXP); break;          \
    case SB_ACT_TANH: BODY(SB_ACT_TANH); break;        \
    case SB_ACT_ABS: BODY(SB_ACT_ABS); break;          \
    case SB_ACT_NEG: BODY(SB_ACT_NEG); break;          \
    case SB_ACT_RECIPROCAL: BODY(SB_ACT_RECIPROCAL); break; \
    case SB_ACT_ERF: BODY(SB_ACT_ERF); break;          \
    case SB_ACT_LOG: BODY(SB_ACT_LOG); break;          \
    case SB_ACT_SOFTPLUS: BODY(SB_ACT_SOFTPLUS); break; \
    default: BODY(SB_ACT_NONE); break;                 \
  }

#endif /* SB_VMATH_H */
