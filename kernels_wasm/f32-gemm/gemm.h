/* The f32-gemm template for WASM SIMD128 (NCHW, dense 1x1 conv and FC); kernels_wasm/f32-gemm/gen.py instantiates
 * it per (channel tile C, pixel tile 4*NV): tiles of C output channels x 4*NV pixels, each input vector loaded once
 * for the C channels. Leftover channels run one at a time over 16-pixel tiles. A single pixel with contiguous input
 * (FC) is a dot product vectorised over input channels. */
#ifndef SB_WASM_GEMM_H
#define SB_WASM_GEMM_H

#include <wasm_simd128.h>

#include "kernels_wasm/common/wasm_act.h"

#define SB_GEMM_BLOCK_FLOATS 16384

/* Channels [c, c + C) x pixels [p, p + 4*NV). C and NV are compile-time constants at every call site. */
SB_WASM_INLINE void gemm_tile(const size_t C, const size_t NV, size_t c, size_t p, size_t plane_stride,
                              size_t in_channels, const float* weights, const float* bias, const float* input,
                              float* output, const sb_activation* act) {
  v128_t acc[8][4]; /* C x NV used */
  const float* rows[8];
  for (size_t l = 0; l < C; l++) {
    rows[l] = weights + (c + l) * in_channels;
    const v128_t b = wasm_f32x4_splat(bias[c + l]);
    for (size_t v = 0; v < NV; v++) acc[l][v] = b;
  }
  const float* in = input + p;
  for (size_t i = 0; i < in_channels; i++) {
    v128_t x[4];
    for (size_t v = 0; v < NV; v++) x[v] = wasm_v128_load(in + 4 * v);
    for (size_t l = 0; l < C; l++) {
      const v128_t wl = wasm_v128_load32_splat(rows[l] + i);
      for (size_t v = 0; v < NV; v++) acc[l][v] = wasm_f32x4_add(acc[l][v], wasm_f32x4_mul(wl, x[v]));
    }
    in += plane_stride;
  }
  for (size_t l = 0; l < C; l++) {
    float* out = output + (c + l) * plane_stride + p;
    for (size_t v = 0; v < NV; v++) wasm_v128_store(out + 4 * v, sb_wasm_activate(act, acc[l][v]));
  }
}

static float dot_scalar(const float* row, const float* input, size_t stride, size_t n, float acc) {
  for (size_t i = 0; i < n; i++) acc += row[i] * input[i * stride];
  return acc;
}

static float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/* output[c] for contiguous input (one pixel): 4 rows at a time share the input loads. */
static void gemm_dot(size_t out_channels, size_t in_channels, const float* weights, const float* bias,
                     const float* input, float* output, size_t plane_stride, const sb_activation* act) {
  const size_t n4 = in_channels & ~(size_t)3;
  size_t c = 0;
  for (; c + 4 <= out_channels; c += 4) {
    const float* r = weights + c * in_channels;
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < n4; i += 4) {
      const v128_t x = wasm_v128_load(input + i);
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(r + i), x));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(r + in_channels + i), x));
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load(r + 2 * in_channels + i), x));
      a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load(r + 3 * in_channels + i), x));
    }
    const v128_t sums[4] = {a0, a1, a2, a3};
    for (size_t l = 0; l < 4; l++) {
      const float* row = r + l * in_channels;
      const float acc = dot_scalar(row + n4, input + n4, 1, in_channels - n4, bias[c + l] + hsum(sums[l]));
      output[(c + l) * plane_stride] = sb_wasm_activate1(act, acc);
    }
  }
  for (; c < out_channels; c++) {
    const float* row = weights + c * in_channels;
    v128_t a = wasm_f32x4_splat(0.0f);
    for (size_t i = 0; i < n4; i += 4) a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load(row + i), wasm_v128_load(input + i)));
    const float acc = dot_scalar(row + n4, input + n4, 1, in_channels - n4, bias[c] + hsum(a));
    output[c * plane_stride] = sb_wasm_activate1(act, acc);
  }
}

SB_WASM_INLINE void gemm(const size_t C, const size_t NV, size_t pixels, size_t plane_stride, size_t out_channels,
                         size_t in_channels, const float* weights, const float* bias, const float* input, float* output,
                         const sb_activation* act) {
  if (pixels == 1 && plane_stride == 1) {
    gemm_dot(out_channels, in_channels, weights, bias, input, output, plane_stride, act);
    return;
  }
  /* Pixel blocks whose input columns (Cin x block floats) stay in cache while all output channels sweep them. */
  size_t block = SB_GEMM_BLOCK_FLOATS / (in_channels + 1);
  block = block < 16 ? 16 : block - block % 16;
  for (size_t p0 = 0; p0 < pixels; p0 += block) {
    const size_t p_end = pixels - p0 < block ? pixels : p0 + block;
    size_t c = 0;
    for (; c + C <= out_channels; c += C) {
      size_t p = p0;
      for (; p + 4 * NV <= p_end; p += 4 * NV)
        gemm_tile(C, NV, c, p, plane_stride, in_channels, weights, bias, input, output, act);
      for (; p + 4 <= p_end; p += 4) gemm_tile(C, 1, c, p, plane_stride, in_channels, weights, bias, input, output, act);
      for (; p < p_end; p++) {
        for (size_t l = 0; l < C; l++) {
          const float acc = dot_scalar(weights + (c + l) * in_channels, input + p, plane_stride, in_channels, bias[c + l]);
          output[(c + l) * plane_stride + p] = sb_wasm_activate1(act, acc);
        }
      }
    }
    for (; c < out_channels; c++) {
      size_t p = p0;
      for (; p + 16 <= p_end; p += 16) gemm_tile(1, 4, c, p, plane_stride, in_channels, weights, bias, input, output, act);
      for (; p + 4 <= p_end; p += 4) gemm_tile(1, 1, c, p, plane_stride, in_channels, weights, bias, input, output, act);
      for (; p < p_end; p++) {
        const float acc = dot_scalar(weights + c * in_channels, input + p, plane_stride, in_channels, bias[c]);
        output[c * plane_stride + p] = sb_wasm_activate1(act, acc);
      }
    }
  }
}

#endif /* SB_WASM_GEMM_H */
