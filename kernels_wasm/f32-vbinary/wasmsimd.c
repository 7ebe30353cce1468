/* f32-vbinary on WASM SIMD128: elementwise add/mul (same shape, or a per-channel operand) with the fused activation,
 * 8 floats per step, then 4, then single floats. Each element is read before it is written, so y may alias a or b. */
#include <wasm_simd128.h>

#include "kernels_wasm/common/wasm_act.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

SB_WASM_INLINE v128_t apply(const int is_mul, v128_t a, v128_t b) {
  return is_mul ? wasm_f32x4_mul(a, b) : wasm_f32x4_add(a, b);
}

/* y[i] = act(a[i] op b[i]) when b_step is 1, act(a[i] op b[0]) when it is 0. */
SB_WASM_INLINE void vbinary(const int is_mul, const int b_step, size_t n, const float* a, const float* b, float* y,
                            const sb_activation* act) {
  const v128_t bc = wasm_v128_load32_splat(b);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t b0 = b_step ? wasm_v128_load(b + i) : bc, b1 = b_step ? wasm_v128_load(b + i + 4) : bc;
    const v128_t y0 = sb_wasm_activate(act, apply(is_mul, wasm_v128_load(a + i), b0));
    const v128_t y1 = sb_wasm_activate(act, apply(is_mul, wasm_v128_load(a + i + 4), b1));
    wasm_v128_store(y + i, y0);
    wasm_v128_store(y + i + 4, y1);
  }
  for (; i + 4 <= n; i += 4) {
    const v128_t b0 = b_step ? wasm_v128_load(b + i) : bc;
    wasm_v128_store(y + i, sb_wasm_activate(act, apply(is_mul, wasm_v128_load(a + i), b0)));
  }
  for (; i < n; i++) {
    const float bi = b[b_step ? i : 0];
    y[i] = sb_activate(act, is_mul ? a[i] * bi : a[i] + bi);
  }
}

void sb_f32_vadd_ukernel__wasmsimd_x8(size_t n, const float* a, const float* b, float* y, const sb_activation* act) {
  if (n > 0) vbinary(0, 1, n, a, b, y, act);
}

void sb_f32_vmul_ukernel__wasmsimd_x8(size_t n, const float* a, const float* b, float* y, const sb_activation* act) {
  if (n > 0) vbinary(1, 1, n, a, b, y, act);
}

void sb_f32_vaddc_ukernel__wasmsimd_x8(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                       const sb_activation* act) {
  for (size_t c = 0; c < channels && pixels > 0; c++) vbinary(0, 0, pixels, a + c * pixels, b + c, y + c * pixels, act);
}

void sb_f32_vmulc_ukernel__wasmsimd_x8(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                       const sb_activation* act) {
  for (size_t c = 0; c < channels && pixels > 0; c++) vbinary(1, 0, pixels, a + c * pixels, b + c, y + c * pixels, act);
}
