/* f32-softmax on WASM SIMD128: per row the max (4 vector accumulators), y = x - max, the vector exp over the row in
 * place (common/wasm_act.c, sb_vmath.h's exp), the sum of blocks of 256 in float lanes added up in double (a wide
 * axis such as a CTC head's 18710 classes stays within ~1e-6 of a double sum), then y *= 1 / sum. */
#include <wasm_simd128.h>

#include "kernels_wasm/common/wasm_act.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

enum { SUM_BLOCK = 256 };

static float hmax(v128_t v) {
  const float a = wasm_f32x4_extract_lane(v, 0), b = wasm_f32x4_extract_lane(v, 1);
  const float c = wasm_f32x4_extract_lane(v, 2), d = wasm_f32x4_extract_lane(v, 3);
  const float ab = a > b ? a : b, cd = c > d ? c : d;
  return ab > cd ? ab : cd;
}

static float row_max(size_t len, const float* x) {
  v128_t m0 = wasm_f32x4_splat(x[0]), m1 = m0, m2 = m0, m3 = m0;
  size_t k = 0;
  for (; k + 16 <= len; k += 16) {
    m0 = wasm_f32x4_pmax(m0, wasm_v128_load(x + k)), m1 = wasm_f32x4_pmax(m1, wasm_v128_load(x + k + 4));
    m2 = wasm_f32x4_pmax(m2, wasm_v128_load(x + k + 8)), m3 = wasm_f32x4_pmax(m3, wasm_v128_load(x + k + 12));
  }
  for (; k + 4 <= len; k += 4) m0 = wasm_f32x4_pmax(m0, wasm_v128_load(x + k));
  float m = hmax(wasm_f32x4_pmax(wasm_f32x4_pmax(m0, m1), wasm_f32x4_pmax(m2, m3)));
  for (; k < len; k++) m = x[k] > m ? x[k] : m;
  return m;
}

/* y = x - max and its sum of exponentials (y then holds them) */
static double exp_sum(size_t len, const float* x, float max, float* y) {
  const v128_t m = wasm_f32x4_splat(max);
  size_t k = 0;
  for (; k + 4 <= len; k += 4) wasm_v128_store(y + k, wasm_f32x4_sub(wasm_v128_load(x + k), m));
  for (; k < len; k++) y[k] = x[k] - max;
  const sb_activation exp_act = {SB_ACT_EXP, 0.0f, 0.0f};
  sb_wasm_act_array(&exp_act, y, y, len);
  double sum = 0.0;
  for (size_t b = 0; b < len; b += SUM_BLOCK) {
    const size_t end = len - b < SUM_BLOCK ? len : b + SUM_BLOCK;
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
    for (k = b; k + 8 <= end; k += 8) {
      s0 = wasm_f32x4_add(s0, wasm_v128_load(y + k));
      s1 = wasm_f32x4_add(s1, wasm_v128_load(y + k + 4));
    }
    for (; k + 4 <= end; k += 4) s0 = wasm_f32x4_add(s0, wasm_v128_load(y + k));
    s0 = wasm_f32x4_add(s0, s1);
    float s = (wasm_f32x4_extract_lane(s0, 0) + wasm_f32x4_extract_lane(s0, 1)) +
              (wasm_f32x4_extract_lane(s0, 2) + wasm_f32x4_extract_lane(s0, 3));
    for (; k < end; k++) s += y[k];
    sum += s;
  }
  return sum;
}

void sb_f32_softmax_ukernel__wasmsimd(size_t rows, size_t len, const float* x, float* y) {
  for (size_t r = 0; r < rows; r++, x += len, y += len) {
    const float scale = (float)(1.0 / exp_sum(len, x, row_max(len, x), y));
    const v128_t s = wasm_f32x4_splat(scale);
    size_t k = 0;
    for (; k + 4 <= len; k += 4) wasm_v128_store(y + k, wasm_f32x4_mul(wasm_v128_load(y + k), s));
    for (; k < len; k++) y[k] *= scale;
  }
}
