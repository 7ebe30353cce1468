/* f32-transpose on WASM SIMD128: 4x4 register tiles by 8 shuffles; a contiguous output block of 2 columns
 * (DepthToSpace with block 2) and a contiguous input block of 2 rows by one zip/unzip shuffle pair. Edges element by
 * element. */
#include <wasm_simd128.h>

#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_transpose_ukernel__wasmsimd(size_t a_count, size_t b_count, const float* input, size_t in_stride,
                                        float* output, size_t out_stride) {
  size_t a = 0;
  if (out_stride == 2 && b_count == 2) {
    for (; a + 4 <= a_count; a += 4) {
      const v128_t r0 = wasm_v128_load(input + a), r1 = wasm_v128_load(input + in_stride + a);
      wasm_v128_store(output + 2 * a, wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5));
      wasm_v128_store(output + 2 * a + 4, wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7));
    }
  } else if (in_stride == 2 && a_count == 2) {
    size_t b = 0;
    for (; b + 4 <= b_count; b += 4) {
      const v128_t v0 = wasm_v128_load(input + 2 * b), v1 = wasm_v128_load(input + 2 * b + 4);
      wasm_v128_store(output + b, wasm_i32x4_shuffle(v0, v1, 0, 2, 4, 6));
      wasm_v128_store(output + out_stride + b, wasm_i32x4_shuffle(v0, v1, 1, 3, 5, 7));
    }
    for (; b < b_count; b++) {
      output[b] = input[2 * b];
      output[out_stride + b] = input[2 * b + 1];
    }
    return;
  } else {
    for (; a + 4 <= a_count; a += 4) {
      const float* in = input + a;
      float* out = output + a * out_stride;
      size_t b = 0;
      for (; b + 4 <= b_count; b += 4) {
        const v128_t r0 = wasm_v128_load(in + b * in_stride), r1 = wasm_v128_load(in + (b + 1) * in_stride);
        const v128_t r2 = wasm_v128_load(in + (b + 2) * in_stride), r3 = wasm_v128_load(in + (b + 3) * in_stride);
        const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
        const v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        wasm_v128_store(out + b, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
        wasm_v128_store(out + out_stride + b, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
        wasm_v128_store(out + 2 * out_stride + b, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
        wasm_v128_store(out + 3 * out_stride + b, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
      }
      for (; b < b_count; b++) {
        const float* col = in + b * in_stride;
        out[b] = col[0];
        out[out_stride + b] = col[1];
        out[2 * out_stride + b] = col[2];
        out[3 * out_stride + b] = col[3];
      }
    }
  }
  for (; a < a_count; a++) {
    float* out = output + a * out_stride;
    for (size_t b = 0; b < b_count; b++) out[b] = input[b * in_stride + a];
  }
}
