/* f32-vbinary on WASM SIMD128: elementwise add/mul (same shape, or a per-channel operand) and max/min/prelu with a
 * per-channel operand, with the fused activation, 8 floats per step, then 4, then single floats. The activation kind
 * is dispatched once per call, outside the loops: none, a clamp inline, or any other kind over blocks of the result
 * in place (common/wasm_act.c). Each element is read before it is written, so y may alias a or b. */
#include <wasm_simd128.h>

#include "kernels_wasm/common/wasm_act.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

enum { MODE_NONE, MODE_CLAMP, MODE_OTHER };
enum { BLOCK = 512 }; /* floats per in-place activation pass: stays in L1 */

enum { OP_ADD, OP_MUL, OP_MAX, OP_MIN, OP_PRELU };

/* max/min as compare + bitselect: NaN handling matches the scalar oracle's x < b ? b : x (f32x4.max would give NaN;
 * pmax has b and a the other way round) */
SB_WASM_INLINE v128_t apply(const int op, v128_t a, v128_t b) {
  switch (op) {
    case OP_MUL: return wasm_f32x4_mul(a, b);
    case OP_MAX: return wasm_v128_bitselect(b, a, wasm_f32x4_lt(a, b));
    case OP_MIN: return wasm_v128_bitselect(b, a, wasm_f32x4_lt(b, a));
    case OP_PRELU: return wasm_v128_bitselect(wasm_f32x4_mul(a, b), a, wasm_f32x4_lt(a, wasm_f32x4_splat(0.0f)));
    default: return wasm_f32x4_add(a, b);
  }
}

SB_WASM_INLINE float apply1(const int op, float a, float b) {
  switch (op) {
    case OP_MUL: return a * b;
    case OP_MAX: return a < b ? b : a;
    case OP_MIN: return b < a ? b : a;
    case OP_PRELU: return a < 0.0f ? a * b : a;
    default: return a + b;
  }
}

/* y[i] = act(a[i] op b[i]) when b_step is 1, act(a[i] op b[0]) when it is 0; n <= BLOCK in MODE_OTHER. */
SB_WASM_INLINE void vbinary(const int op, const int b_step, const int mode, size_t n, const float* a,
                            const float* b, float* y, const sb_activation* act) {
  const v128_t bc = wasm_v128_load32_splat(b);
  const v128_t lo = wasm_f32x4_splat(act->p0), hi = wasm_f32x4_splat(act->p1);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t b0 = b_step ? wasm_v128_load(b + i) : bc, b1 = b_step ? wasm_v128_load(b + i + 4) : bc;
    v128_t y0 = apply(op, wasm_v128_load(a + i), b0);
    v128_t y1 = apply(op, wasm_v128_load(a + i + 4), b1);
    if (mode == MODE_CLAMP) {
      y0 = sb_wasm_clamp(y0, lo, hi);
      y1 = sb_wasm_clamp(y1, lo, hi);
    }
    wasm_v128_store(y + i, y0);
    wasm_v128_store(y + i + 4, y1);
  }
  for (; i + 4 <= n; i += 4) {
    const v128_t b0 = b_step ? wasm_v128_load(b + i) : bc;
    v128_t y0 = apply(op, wasm_v128_load(a + i), b0);
    if (mode == MODE_CLAMP) y0 = sb_wasm_clamp(y0, lo, hi);
    wasm_v128_store(y + i, y0);
  }
  for (; i < n; i++) {
    const float bi = b[b_step ? i : 0];
    float v = apply1(op, a[i], bi);
    if (mode == MODE_CLAMP) v = v < act->p0 ? act->p0 : (v > act->p1 ? act->p1 : v);
    y[i] = v;
  }
  if (mode == MODE_OTHER) sb_wasm_act_array(act, y, y, n);
}

SB_WASM_INLINE void vbinary_any(const int op, const int b_step, size_t n, const float* a, const float* b, float* y,
                                const sb_activation* act) {
  if (act->kind == SB_ACT_NONE) {
    vbinary(op, b_step, MODE_NONE, n, a, b, y, act);
  } else if (act->kind == SB_ACT_CLIP) {
    vbinary(op, b_step, MODE_CLAMP, n, a, b, y, act);
  } else {
    for (size_t i = 0; i < n; i += BLOCK)
      vbinary(op, b_step, MODE_OTHER, n - i < BLOCK ? n - i : BLOCK, a + i, b_step ? b + i : b, y + i, act);
  }
}

SB_WASM_INLINE void vbinary_channels(const int op, size_t channels, size_t pixels, const float* a, const float* b,
                                     float* y, const sb_activation* act) {
  if (pixels == 0) return;
  if (act->kind == SB_ACT_NONE) {
    for (size_t c = 0; c < channels; c++) vbinary(op, 0, MODE_NONE, pixels, a + c * pixels, b + c, y + c * pixels, act);
  } else if (act->kind == SB_ACT_CLIP) {
    for (size_t c = 0; c < channels; c++) vbinary(op, 0, MODE_CLAMP, pixels, a + c * pixels, b + c, y + c * pixels, act);
  } else {
    for (size_t c = 0; c < channels; c++) vbinary_any(op, 0, pixels, a + c * pixels, b + c, y + c * pixels, act);
  }
}

void sb_f32_vadd_ukernel__wasmsimd_x8(size_t n, const float* a, const float* b, float* y, const sb_activation* act) {
  if (n > 0) vbinary_any(OP_ADD, 1, n, a, b, y, act);
}

void sb_f32_vmul_ukernel__wasmsimd_x8(size_t n, const float* a, const float* b, float* y, const sb_activation* act) {
  if (n > 0) vbinary_any(OP_MUL, 1, n, a, b, y, act);
}

void sb_f32_vaddc_ukernel__wasmsimd_x8(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                       const sb_activation* act) {
  vbinary_channels(OP_ADD, channels, pixels, a, b, y, act);
}

void sb_f32_vmulc_ukernel__wasmsimd_x8(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                       const sb_activation* act) {
  vbinary_channels(OP_MUL, channels, pixels, a, b, y, act);
}

void sb_f32_vmaxc_ukernel__wasmsimd_x8(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                       const sb_activation* act) {
  vbinary_channels(OP_MAX, channels, pixels, a, b, y, act);
}

void sb_f32_vminc_ukernel__wasmsimd_x8(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                       const sb_activation* act) {
  vbinary_channels(OP_MIN, channels, pixels, a, b, y, act);
}

void sb_f32_vpreluc_ukernel__wasmsimd_x8(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                       const sb_activation* act) {
  vbinary_channels(OP_PRELU, channels, pixels, a, b, y, act);
}
