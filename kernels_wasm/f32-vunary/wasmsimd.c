/* f32-vunary on WASM SIMD128: the activation alone, and the per-channel affine map x * scale[c] + shift[c] (same
 * operation order as the scalar reference), 8 floats per step, then 4, then single floats. */
#include <wasm_simd128.h>

#include "kernels_wasm/common/wasm_act.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

/* y[i] = act(x[i] * scale + shift); the identity map (1, 0) gives vact. */
SB_WASM_INLINE void affine_row(const int identity, size_t n, const float* x, float scale, float shift, float* y,
                               const sb_activation* act) {
  const v128_t vs = wasm_f32x4_splat(scale), vb = wasm_f32x4_splat(shift);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    v128_t x0 = wasm_v128_load(x + i), x1 = wasm_v128_load(x + i + 4);
    if (!identity) {
      x0 = wasm_f32x4_add(wasm_f32x4_mul(x0, vs), vb);
      x1 = wasm_f32x4_add(wasm_f32x4_mul(x1, vs), vb);
    }
    wasm_v128_store(y + i, sb_wasm_activate(act, x0));
    wasm_v128_store(y + i + 4, sb_wasm_activate(act, x1));
  }
  for (; i + 4 <= n; i += 4) {
    v128_t x0 = wasm_v128_load(x + i);
    if (!identity) x0 = wasm_f32x4_add(wasm_f32x4_mul(x0, vs), vb);
    wasm_v128_store(y + i, sb_wasm_activate(act, x0));
  }
  for (; i < n; i++) y[i] = sb_activate(act, identity ? x[i] : x[i] * scale + shift);
}

void sb_f32_vact_ukernel__wasmsimd_x8(size_t n, const float* x, float* y, const sb_activation* act) {
  affine_row(1, n, x, 1.0f, 0.0f, y, act);
}

void sb_f32_affine_ukernel__wasmsimd_x8(size_t channels, size_t pixels, const float* x, const float* scale,
                                        const float* shift, float* y, const sb_activation* act) {
  for (size_t c = 0; c < channels; c++) affine_row(0, pixels, x + c * pixels, scale[c], shift[c], y + c * pixels, act);
}
