/* f32-vunary on WASM SIMD128: the activation alone (common/wasm_act.c, the kind dispatched once), and the
 * per-channel affine map x * scale[c] + shift[c] (same operation order as the scalar reference), 8 floats per step,
 * with the activation as in f32-vbinary: none, a clamp inline, any other kind over blocks of the result in place. */
#include <wasm_simd128.h>

#include "kernels_wasm/common/wasm_act.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

enum { MODE_NONE, MODE_CLAMP, MODE_OTHER };
enum { BLOCK = 512 };

/* y[i] = act(x[i] * scale + shift) */
SB_WASM_INLINE void affine_row(const int mode, size_t n, const float* x, float scale, float shift, float* y,
                               const sb_activation* act) {
  const v128_t vs = wasm_f32x4_splat(scale), vb = wasm_f32x4_splat(shift);
  const v128_t lo = wasm_f32x4_splat(act->p0), hi = wasm_f32x4_splat(act->p1);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    v128_t x0 = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(x + i), vs), vb);
    v128_t x1 = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(x + i + 4), vs), vb);
    if (mode == MODE_CLAMP) {
      x0 = sb_wasm_clamp(x0, lo, hi);
      x1 = sb_wasm_clamp(x1, lo, hi);
    }
    wasm_v128_store(y + i, x0);
    wasm_v128_store(y + i + 4, x1);
  }
  for (; i + 4 <= n; i += 4) {
    v128_t x0 = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(x + i), vs), vb);
    if (mode == MODE_CLAMP) x0 = sb_wasm_clamp(x0, lo, hi);
    wasm_v128_store(y + i, x0);
  }
  for (; i < n; i++) {
    float v = x[i] * scale + shift;
    if (mode == MODE_CLAMP) v = v < act->p0 ? act->p0 : (v > act->p1 ? act->p1 : v);
    y[i] = v;
  }
  if (mode == MODE_OTHER) sb_wasm_act_array(act, y, y, n);
}

void sb_f32_vact_ukernel__wasmsimd_x8(size_t n, const float* x, float* y, const sb_activation* act) {
  sb_wasm_act_array(act, x, y, n);
}

void sb_f32_affine_ukernel__wasmsimd_x8(size_t channels, size_t pixels, const float* x, const float* scale,
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
