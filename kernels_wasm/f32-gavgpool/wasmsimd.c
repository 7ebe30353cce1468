/* f32-gavgpool on WASM SIMD128: each plane summed with two 4-lane accumulators, then the leftover floats. */
#include <wasm_simd128.h>

#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_gavgpool_ukernel__wasmsimd_x8(size_t channels, size_t pixels, const float* input, float* output) {
  for (size_t c = 0; c < channels; c++) {
    const float* x = input + c * pixels;
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
    size_t p = 0;
    for (; p + 8 <= pixels; p += 8) {
      a0 = wasm_f32x4_add(a0, wasm_v128_load(x + p));
      a1 = wasm_f32x4_add(a1, wasm_v128_load(x + p + 4));
    }
    a0 = wasm_f32x4_add(a0, a1);
    float sum = (wasm_f32x4_extract_lane(a0, 0) + wasm_f32x4_extract_lane(a0, 1)) +
                (wasm_f32x4_extract_lane(a0, 2) + wasm_f32x4_extract_lane(a0, 3));
    for (; p < pixels; p++) sum += x[p];
    output[c] = pixels > 0 ? sum / (float)pixels : 0.0f;
  }
}
