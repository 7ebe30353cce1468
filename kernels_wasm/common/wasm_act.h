/* Shared by the WASM SIMD128 kernels: the fused activation epilogue on 4 lanes, matching sb_activate() lane by lane
 * (pmin/pmax are compare-and-selects, so with x first they keep the scalar semantics, NaN included). */
#ifndef SB_WASM_ACT_H
#define SB_WASM_ACT_H

#include <wasm_simd128.h>

#include "sb_kernels.h"

#define SB_WASM_INLINE static inline __attribute__((always_inline))

SB_WASM_INLINE v128_t sb_wasm_clamp(v128_t x, v128_t lo, v128_t hi) {
  /* pmax(a, b) = a < b ? b : a, pmin(a, b) = b < a ? b : a: a NaN x fails both compares and stays NaN */
  return wasm_f32x4_pmin(wasm_f32x4_pmax(x, lo), hi); /* x < lo ? lo : (x > hi ? hi : x) */
}

/* Sigmoid and the other transcendental kinds need expf/erff/tanhf: done lane by lane with the scalar definition. */
static inline v128_t sb_wasm_lanes(const sb_activation* a, v128_t x) {
  float lanes[4];
  wasm_v128_store(lanes, x);
  for (int i = 0; i < 4; i++) lanes[i] = sb_activate(a, lanes[i]);
  return wasm_v128_load(lanes);
}

SB_WASM_INLINE v128_t sb_wasm_activate(const sb_activation* a, v128_t x) {
  switch (a->kind) {
    case SB_ACT_CLIP: return sb_wasm_clamp(x, wasm_f32x4_splat(a->p0), wasm_f32x4_splat(a->p1));
    case SB_ACT_HARDSIGMOID:
      return sb_wasm_clamp(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(a->p0), x), wasm_f32x4_splat(a->p1)),
                           wasm_f32x4_splat(0.0f), wasm_f32x4_splat(1.0f));
    case SB_ACT_HARDSWISH: {
      v128_t y = wasm_f32x4_add(wasm_f32x4_div(x, wasm_f32x4_splat(6.0f)), wasm_f32x4_splat(0.5f));
      return wasm_f32x4_mul(x, sb_wasm_clamp(y, wasm_f32x4_splat(0.0f), wasm_f32x4_splat(1.0f)));
    }
    case SB_ACT_NONE: return x;
    default: return sb_wasm_lanes(a, x);
  }
}

#endif /* SB_WASM_ACT_H */
