/* One vector vocabulary for the x86 kernels at every ISA level, so each kernel is written once (a template .inc)
 * and compiled per level by a small .c file:
 *
 *   #define SB_X86_LEVEL SB_X86_AVX2      (SB_X86_SSE41: 4 lanes, SB_X86_AVX2: 8 lanes + FMA, SB_X86_AVX512: 16)
 *   #include "kernels_x86/common/vec.h"
 *   #include "kernels_x86/f32-vbinary/vbinary.inc"
 *
 * The level file enables its instruction set with `#pragma GCC target` (below), so the whole build keeps one set of
 * compiler flags (setup.py, kernels.mk) and the CPU is asked at load which level runs. SB_X86_FN(name) appends the
 * level suffix (__sse41, __avx2, __avx512) to the kernels' public names, SB_X86_FNV(name, 3x3s1) the level and a
 * variant (name__avx2_3x3s1).
 *
 * xv is the level's float vector (XV_LANES floats). Loads and stores are unaligned. min/max take the constant
 * first on x86 (minps returns its second operand when either is NaN), so xv_min(x, c)/xv_max(x, c) keep a NaN x as
 * the scalar oracle's compares do. xv_fma(a, b, c) = a + b * c: fused from AVX2 on, two roundings on SSE4.1 (the
 * vector math of sb_vmath.h allows both). The same primitives under the SB_V_* names feed engine/kernels/sb_vmath.h. */
#ifndef SB_KERNELS_X86_VEC_H
#define SB_KERNELS_X86_VEC_H

#define SB_X86_SSE41 1
#define SB_X86_AVX2 2
#define SB_X86_AVX512 3

#if !defined(SB_X86_LEVEL)
#error "define SB_X86_LEVEL (SB_X86_SSE41, SB_X86_AVX2 or SB_X86_AVX512) before including vec.h"
#endif

#if SB_X86_LEVEL == SB_X86_SSE41
#pragma GCC target("sse4.1")
#define SB_X86_FN(name) name##__sse41
#define SB_X86_FNV(name, variant) name##__sse41_##variant
#elif SB_X86_LEVEL == SB_X86_AVX2
#pragma GCC target("avx2,fma")
#define SB_X86_FN(name) name##__avx2
#define SB_X86_FNV(name, variant) name##__avx2_##variant
#elif SB_X86_LEVEL == SB_X86_AVX512
#pragma GCC target("avx512f,avx2,fma")
#define SB_X86_FN(name) name##__avx512
#define SB_X86_FNV(name, variant) name##__avx512_##variant
#else
#error "unknown SB_X86_LEVEL"
#endif

#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sb_kernels.h"

#define SB_X86_INLINE static inline __attribute__((always_inline))

#if SB_X86_LEVEL == SB_X86_SSE41
typedef __m128 xv;
typedef __m128i xvi;
#define XV_LANES 4
#define xv_loadu _mm_loadu_ps
#define xv_storeu _mm_storeu_ps
#define xv_splat _mm_set1_ps
#define xv_zero _mm_setzero_ps
#define xv_add _mm_add_ps
#define xv_sub _mm_sub_ps
#define xv_mul _mm_mul_ps
#define xv_div _mm_div_ps
#define xv_sqrt _mm_sqrt_ps
#define xv_fma(a, b, c) _mm_add_ps(a, _mm_mul_ps(b, c))
#define xv_min(x, c) _mm_min_ps(c, x)
#define xv_max(x, c) _mm_max_ps(c, x)
#define xv_lt(a, b) _mm_cmplt_ps(a, b)
#define xv_select(m, a, b) _mm_blendv_ps(b, a, m) /* m ? a : b, m all-ones/zero lanes */
#define xv_and _mm_and_ps
#define xv_or _mm_or_ps
#define xv_xor _mm_xor_ps
#define xv_andnot(a, b) _mm_andnot_ps(b, a) /* a & ~b */
#define xv_round(x) _mm_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define xv_cvt_i32(x) _mm_cvtps_epi32(x)
#define xv_cvt_f32(i) _mm_cvtepi32_ps(i)
#define xv_as_i(x) _mm_castps_si128(x)
#define xv_as_f(i) _mm_castsi128_ps(i)
#define xvi_splat _mm_set1_epi32
#define xvi_add _mm_add_epi32
#define xvi_and _mm_and_si128
#define xvi_or _mm_or_si128
#define xvi_sll(i, n) _mm_slli_epi32(i, n)
#define xvi_srl(i, n) _mm_srli_epi32(i, n)
SB_X86_INLINE float xv_hsum(xv v) {
  v = _mm_add_ps(v, _mm_movehl_ps(v, v));
  v = _mm_add_ss(v, _mm_shuffle_ps(v, v, 1));
  return _mm_cvtss_f32(v);
}
SB_X86_INLINE float xv_hmax(xv v) {
  v = _mm_max_ps(v, _mm_movehl_ps(v, v));
  v = _mm_max_ss(v, _mm_shuffle_ps(v, v, 1));
  return _mm_cvtss_f32(v);
}
SB_X86_INLINE float xv_first(xv v) { return _mm_cvtss_f32(v); }
/* n < XV_LANES floats; the other lanes read as 0 */
SB_X86_INLINE xv xv_load_n(const float* p, size_t n) {
  float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (size_t i = 0; i < n; i++) t[i] = p[i];
  return _mm_loadu_ps(t);
}
SB_X86_INLINE void xv_store_n(float* p, xv v, size_t n) {
  float t[4];
  _mm_storeu_ps(t, v);
  for (size_t i = 0; i < n; i++) p[i] = t[i];
}

#elif SB_X86_LEVEL == SB_X86_AVX2
typedef __m256 xv;
typedef __m256i xvi;
#define XV_LANES 8
#define xv_loadu _mm256_loadu_ps
#define xv_storeu _mm256_storeu_ps
#define xv_splat _mm256_set1_ps
#define xv_zero _mm256_setzero_ps
#define xv_add _mm256_add_ps
#define xv_sub _mm256_sub_ps
#define xv_mul _mm256_mul_ps
#define xv_div _mm256_div_ps
#define xv_sqrt _mm256_sqrt_ps
#define xv_fma(a, b, c) _mm256_fmadd_ps(b, c, a)
#define xv_min(x, c) _mm256_min_ps(c, x)
#define xv_max(x, c) _mm256_max_ps(c, x)
#define xv_lt(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define xv_select(m, a, b) _mm256_blendv_ps(b, a, m)
#define xv_and _mm256_and_ps
#define xv_or _mm256_or_ps
#define xv_xor _mm256_xor_ps
#define xv_andnot(a, b) _mm256_andnot_ps(b, a)
#define xv_round(x) _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define xv_cvt_i32(x) _mm256_cvtps_epi32(x)
#define xv_cvt_f32(i) _mm256_cvtepi32_ps(i)
#define xv_as_i(x) _mm256_castps_si256(x)
#define xv_as_f(i) _mm256_castsi256_ps(i)
#define xvi_splat _mm256_set1_epi32
#define xvi_add _mm256_add_epi32
#define xvi_and _mm256_and_si256
#define xvi_or _mm256_or_si256
#define xvi_sll(i, n) _mm256_slli_epi32(i, n)
#define xvi_srl(i, n) _mm256_srli_epi32(i, n)
SB_X86_INLINE float xv_hsum(xv v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
SB_X86_INLINE float xv_hmax(xv v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
SB_X86_INLINE float xv_first(xv v) { return _mm256_cvtss_f32(v); }
SB_X86_INLINE __m256i xv_tail_mask(size_t n) {
  static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256((const __m256i*)(m + 8 - n));
}
SB_X86_INLINE xv xv_load_n(const float* p, size_t n) { return _mm256_maskload_ps(p, xv_tail_mask(n)); }
SB_X86_INLINE void xv_store_n(float* p, xv v, size_t n) { _mm256_maskstore_ps(p, xv_tail_mask(n), v); }

#else /* AVX-512F */
typedef __m512 xv;
typedef __m512i xvi;
#define XV_LANES 16
#define xv_loadu _mm512_loadu_ps
#define xv_storeu _mm512_storeu_ps
#define xv_splat _mm512_set1_ps
#define xv_zero _mm512_setzero_ps
#define xv_add _mm512_add_ps
#define xv_sub _mm512_sub_ps
#define xv_mul _mm512_mul_ps
#define xv_div _mm512_div_ps
#define xv_sqrt _mm512_sqrt_ps
#define xv_fma(a, b, c) _mm512_fmadd_ps(b, c, a)
#define xv_min(x, c) _mm512_min_ps(c, x)
#define xv_max(x, c) _mm512_max_ps(c, x)
#define xv_as_i(x) _mm512_castps_si512(x)
#define xv_as_f(i) _mm512_castsi512_ps(i)
/* masks as all-ones lanes (AVX-512F alone has no movm), selects as a bitwise blend */
#define xv_lt(a, b) xv_as_f(_mm512_maskz_mov_epi32(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), _mm512_set1_epi32(-1)))
#define xv_select(m, a, b) xv_as_f(_mm512_ternarylogic_epi32(xv_as_i(m), xv_as_i(a), xv_as_i(b), 0xCA))
#define xv_and(a, b) xv_as_f(_mm512_and_epi32(xv_as_i(a), xv_as_i(b)))
#define xv_or(a, b) xv_as_f(_mm512_or_epi32(xv_as_i(a), xv_as_i(b)))
#define xv_xor(a, b) xv_as_f(_mm512_xor_epi32(xv_as_i(a), xv_as_i(b)))
#define xv_andnot(a, b) xv_as_f(_mm512_andnot_epi32(xv_as_i(b), xv_as_i(a)))
#define xv_round(x) _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define xv_cvt_i32(x) _mm512_cvtps_epi32(x)
#define xv_cvt_f32(i) _mm512_cvtepi32_ps(i)
#define xvi_splat _mm512_set1_epi32
#define xvi_add _mm512_add_epi32
#define xvi_and _mm512_and_epi32
#define xvi_or _mm512_or_epi32
#define xvi_sll(i, n) _mm512_slli_epi32(i, n)
#define xvi_srl(i, n) _mm512_srli_epi32(i, n)
SB_X86_INLINE float xv_hsum(xv v) { return _mm512_reduce_add_ps(v); }
SB_X86_INLINE float xv_hmax(xv v) { return _mm512_reduce_max_ps(v); }
SB_X86_INLINE float xv_first(xv v) { return _mm512_cvtss_f32(v); }
SB_X86_INLINE xv xv_load_n(const float* p, size_t n) {
  return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p);
}
SB_X86_INLINE void xv_store_n(float* p, xv v, size_t n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), v); }
#endif

/* sb_vmath.h's primitives */
#define SB_V xv
#define SB_V_SPLAT(f) xv_splat(f)
#define SB_V_ADD xv_add
#define SB_V_SUB xv_sub
#define SB_V_MUL xv_mul
#define SB_V_DIV xv_div
#define SB_V_FMA xv_fma
#define SB_V_MIN xv_min
#define SB_V_MAX xv_max
#define SB_V_ABS(x) xv_andnot(x, xv_splat(-0.0f))
#define SB_V_NEG(x) xv_xor(x, xv_splat(-0.0f))
#define SB_V_SQRT xv_sqrt
#define SB_V_ROUND xv_round
#define SB_V_LT xv_lt
#define SB_V_SELECT xv_select
#define SB_V_AND xv_and
#define SB_V_OR xv_or
#define SB_V_ANDNOT xv_andnot
#define SB_V_POW2I(n) xv_as_f(xvi_sll(xvi_add(xv_cvt_i32(n), xvi_splat(127)), 23))
#define SB_V_ILOGB(x) xv_cvt_f32(xvi_and(xvi_srl(xv_as_i(x), 23), xvi_splat(0xff)))
#define SB_V_SETEXP(x) xv_as_f(xvi_or(xvi_and(xv_as_i(x), xvi_splat((int)0x807fffff)), xvi_splat(0x3f000000)))
#include "sb_vmath.h"

/* ---- the fused activation epilogue (every compute kernel) ----
 * An activation prepared once per call: NONE and CLIP become one clamp (to +-inf for NONE); HARDSIGMOID and
 * HARDSWISH inline; every other kind through SB_X86_FN(sb_x86_act_vec), out of line (common/act_<level>.c) so the
 * transcendental code stays out of the tile loops (as kernels_arm/common/neon.h explains). */
typedef struct sb_x86_act {
  const sb_activation* act;
  int clamp_only;
  xv lo, hi;
} sb_x86_act;

xv SB_X86_FN(sb_x86_act_vec)(xv v, const sb_activation* act);
/* y[i] = act(x[i]) over a buffer, the kind dispatched once; x may equal y */
void SB_X86_FN(sb_x86_act_array)(const sb_activation* act, const float* x, float* y, size_t n);

SB_X86_INLINE sb_x86_act sb_x86_act_init(const sb_activation* act) {
  sb_x86_act a;
  a.act = act;
  a.clamp_only = act->kind == SB_ACT_NONE || act->kind == SB_ACT_CLIP;
  a.lo = xv_splat(act->kind == SB_ACT_CLIP ? act->p0 : -INFINITY);
  a.hi = xv_splat(act->kind == SB_ACT_CLIP ? act->p1 : INFINITY);
  return a;
}

SB_X86_INLINE xv sb_x86_act_general(xv v, const sb_activation* act) {
  switch (act->kind) {
    case SB_ACT_HARDSIGMOID: return sb_v_activate(SB_ACT_HARDSIGMOID, act, v);
    case SB_ACT_HARDSWISH: return sb_v_activate(SB_ACT_HARDSWISH, act, v);
    default: return SB_X86_FN(sb_x86_act_vec)(v, act);
  }
}

SB_X86_INLINE xv sb_x86_activate(xv v, const sb_x86_act* a) {
  if (a->clamp_only) return xv_min(xv_max(v, a->lo), a->hi);
  return sb_x86_act_general(v, a->act);
}

/* One value as the vector lanes compute it (the kernels' scalar tails): a pixel's result does not depend on whether
 * a thread's range put it in a vector or in a tail. */
SB_X86_INLINE float sb_x86_activate1(const sb_activation* act, float x) {
  if (act->kind == SB_ACT_CLIP) return x < act->p0 ? act->p0 : (x > act->p1 ? act->p1 : x);
  if (act->kind == SB_ACT_NONE) return x;
  return xv_first(sb_x86_act_general(xv_splat(x), act));
}

#endif /* SB_KERNELS_X86_VEC_H */
