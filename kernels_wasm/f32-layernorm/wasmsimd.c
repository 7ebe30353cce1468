/* f32-layernorm on WASM SIMD128: per row, the sum and then the squared deviations from the mean, each in 4 vector
 * accumulators (16 floats per step) in float; then y = (x - mean) * rstd * scale + bias. */
#include <math.h>
#include <wasm_simd128.h>

#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

static inline float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

static inline __attribute__((always_inline)) float row_sum(size_t len, const float* x, const float mean,
                                                           const int squares) {
  const v128_t m = wasm_f32x4_splat(mean);
  v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
  size_t k = 0;
  for (; k + 16 <= len; k += 16) {
    v128_t v0 = wasm_v128_load(x + k), v1 = wasm_v128_load(x + k + 4);
    v128_t v2 = wasm_v128_load(x + k + 8), v3 = wasm_v128_load(x + k + 12);
    if (squares) {
      v0 = wasm_f32x4_sub(v0, m), v1 = wasm_f32x4_sub(v1, m), v2 = wasm_f32x4_sub(v2, m), v3 = wasm_f32x4_sub(v3, m);
      v0 = wasm_f32x4_mul(v0, v0), v1 = wasm_f32x4_mul(v1, v1), v2 = wasm_f32x4_mul(v2, v2), v3 = wasm_f32x4_mul(v3, v3);
    }
    a0 = wasm_f32x4_add(a0, v0), a1 = wasm_f32x4_add(a1, v1), a2 = wasm_f32x4_add(a2, v2), a3 = wasm_f32x4_add(a3, v3);
  }
  for (; k + 4 <= len; k += 4) {
    v128_t v = wasm_v128_load(x + k);
    if (squares) v = wasm_f32x4_sub(v, m), v = wasm_f32x4_mul(v, v);
    a0 = wasm_f32x4_add(a0, v);
  }
  float s = hsum(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)));
  for (; k < len; k++) s += squares ? (x[k] - mean) * (x[k] - mean) : x[k];
  return s;
}

/* y = (x - mean) * rstd * scale (+ bias): has_bias a compile-time constant at both call sites */
static inline __attribute__((always_inline)) void normalise(const int has_bias, size_t len, const float* x,
                                                            float mean, float rstd, const float* scale,
                                                            const float* bias, float* y) {
  const v128_t m = wasm_f32x4_splat(mean), rs = wasm_f32x4_splat(rstd);
  size_t k = 0;
  for (; k + 8 <= len; k += 8) {
    v128_t a0 = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + k), m), rs), wasm_v128_load(scale + k));
    v128_t a1 = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + k + 4), m), rs),
                               wasm_v128_load(scale + k + 4));
    if (has_bias) a0 = wasm_f32x4_add(a0, wasm_v128_load(bias + k)), a1 = wasm_f32x4_add(a1, wasm_v128_load(bias + k + 4));
    wasm_v128_store(y + k, a0);
    wasm_v128_store(y + k + 4, a1);
  }
  for (; k + 4 <= len; k += 4) {
    v128_t a0 = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + k), m), rs), wasm_v128_load(scale + k));
    if (has_bias) a0 = wasm_f32x4_add(a0, wasm_v128_load(bias + k));
    wasm_v128_store(y + k, a0);
  }
  for (; k < len; k++) y[k] = (x[k] - mean) * rstd * scale[k] + (has_bias ? bias[k] : 0.0f);
}

void sb_f32_layernorm_ukernel__wasmsimd(size_t rows, size_t len, const float* x, const float* scale,
                                        const float* bias, float eps, float* y) {
  for (size_t r = 0; r < rows; r++, x += len, y += len) {
    const float mean = row_sum(len, x, 0.0f, 0) / (float)len;
    const float rstd = 1.0f / sqrtf(row_sum(len, x, mean, 1) / (float)len + eps);
    if (bias) normalise(1, len, x, mean, rstd, scale, bias, y);
    else normalise(0, len, x, mean, rstd, scale, NULL, y);
  }
}
