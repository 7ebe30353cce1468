/* f32-dwconv on WASM SIMD128: each channel is a one-lane direct conv (common/direct_conv.h), 4 output pixels per
 * vector; 3x3 and 5x5 kernels are specialised so the tap loops unroll. The stride params of the list only steer
 * dispatch: every kernel here handles any stride (strides other than 1 and 2 take the per-pixel path). */
#include "kernels_wasm/common/direct_conv.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

SB_WASM_INLINE void dwconv(const size_t KH, const size_t KW, const sb_conv_shape* s, const float* weights,
                           const float* bias, const float* input, float* output, const sb_activation* act,
                           size_t oy_begin, size_t oy_end) {
  const size_t kk = KH * KW, in_plane = (size_t)s->in_h * s->in_w, out_plane = (size_t)s->out_h * s->out_w;
  for (size_t c = 0; c < (size_t)s->out_c; c++) {
    const float b = bias != NULL ? bias[c] : 0.0f;
    const direct_conv_args a = {
        .s = s, .input = input + c * in_plane, .index = NULL, .sources = 1, .weights = weights + c * kk,
        .jstride = 0, .tstride = 1, .lstride = 0, .bias = &b, .output = output + c * out_plane, .lanes = 1, .act = act};
    direct_conv_rows(1, KH, KW, &a, oy_begin, oy_end);
  }
}

/* K x K, stride S (1 or 2), no dilation: the channel's K*K weights stay in registers; rows whose window lies fully
 * inside the input take the vector loop, the others (top/bottom border) the generic core. */
SB_WASM_INLINE void dwconv_fast(const size_t K, const size_t S, const sb_conv_shape* s, const float* weights,
                                const float* bias, const float* input, float* output, const sb_activation* act,
                                size_t oy_begin, size_t oy_end) {
  if (s->stride_w != (int32_t)S || s->stride_h != (int32_t)S || s->dil_h != 1 || s->dil_w != 1 || s->kh != (int32_t)K ||
      s->kw != (int32_t)K) {
    dwconv((size_t)s->kh, (size_t)s->kw, s, weights, bias, input, output, act, oy_begin, oy_end);
    return;
  }
  const size_t in_h = (size_t)s->in_h, in_w = (size_t)s->in_w, out_w = (size_t)s->out_w;
  const size_t in_plane = in_h * in_w, out_plane = (size_t)s->out_h * out_w;
  const int64_t pad_left = s->pad_left;
  const size_t vx_lo = (size_t)((pad_left + (int64_t)S - 1) / (int64_t)S);
  const int64_t reach = 3 * (int64_t)S + (int64_t)(K - 1) + (S == 2 ? 1 : 0);
  const int64_t last_start = (int64_t)in_w - 1 - reach + pad_left;
  int64_t hi = last_start < 0 ? 0 : last_start / (int64_t)S + 1;
  if (hi > (int64_t)out_w - 3) hi = (int64_t)out_w - 3;
  const size_t vx_hi = hi > (int64_t)vx_lo ? (size_t)hi : vx_lo;
  for (size_t c = 0; c < (size_t)s->out_c; c++) {
    const float* wc = weights + c * K * K;
    const float b = bias != NULL ? bias[c] : 0.0f;
    v128_t w[25];
    for (size_t t = 0; t < K * K; t++) w[t] = wasm_f32x4_splat(wc[t]);
    const v128_t vb = wasm_f32x4_splat(b);
    const float* in_c = input + c * in_plane;
    float* out_c = output + c * out_plane;
    const direct_conv_args a = {.s = s, .input = in_c, .index = NULL, .sources = 1, .weights = wc, .jstride = 0,
                                .tstride = 1, .lstride = 0, .bias = &b, .output = out_c, .lanes = 1, .act = act};
    for (size_t oy = oy_begin; oy < oy_end; oy++) {
      const int64_t iy0 = (int64_t)oy * (int64_t)S - s->pad_top;
      if (iy0 < 0 || iy0 + (int64_t)K > (int64_t)in_h || vx_hi == vx_lo) {
        direct_conv_rows(1, K, K, &a, oy, oy + 1);
        continue;
      }
      float* out_row = out_c + oy * out_w;
      const float* rows = in_c + (size_t)iy0 * in_w;
      for (size_t ox = 0; ox < out_w; ox++) {
        if (ox == vx_lo) {
          for (; ox < vx_hi; ox += 4) {
            const float* p0 = rows + ox * S - (size_t)pad_left;
            v128_t acc = vb;
            for (size_t ky = 0; ky < K; ky++) {
              for (size_t kx = 0; kx < K; kx++) {
                const float* p = p0 + ky * in_w + kx;
                const v128_t x = S == 1 ? wasm_v128_load(p)
                                        : wasm_i32x4_shuffle(wasm_v128_load(p), wasm_v128_load(p + 4), 0, 2, 4, 6);
                acc = wasm_f32x4_add(acc, wasm_f32x4_mul(w[ky * K + kx], x));
              }
            }
            wasm_v128_store(out_row + ox, sb_wasm_activate(act, acc));
          }
          if (ox >= out_w) break;
        }
        float acc = b; /* border pixel: all K rows are inside, check x only */
        const int64_t ix0 = (int64_t)(ox * S) - pad_left;
        for (size_t ky = 0; ky < K; ky++) {
          for (size_t kx = 0; kx < K; kx++) {
            const int64_t ix = ix0 + (int64_t)kx;
            if (ix >= 0 && ix < (int64_t)in_w) acc += wc[ky * K + kx] * rows[ky * in_w + (size_t)ix];
          }
        }
        out_row[ox] = sb_activate(act, acc);
      }
    }
  }
}

#define SB_DWCONV_KERNEL(name, K, S)                                                                           \
  void name(const sb_conv_shape* s, const float* weights, const float* bias, const float* input, float* output, \
            const sb_activation* act, size_t oy_begin, size_t oy_end) {                                         \
    dwconv_fast(K, S, s, weights, bias, input, output, act, oy_begin, oy_end);                                 \
  }

SB_DWCONV_KERNEL(sb_f32_dwconv_ukernel__wasmsimd_3x3s1, 3, 1)
SB_DWCONV_KERNEL(sb_f32_dwconv_ukernel__wasmsimd_3x3s2, 3, 2)
SB_DWCONV_KERNEL(sb_f32_dwconv_ukernel__wasmsimd_5x5s1, 5, 1)
SB_DWCONV_KERNEL(sb_f32_dwconv_ukernel__wasmsimd_5x5s2, 5, 2)

void sb_f32_dwconv_ukernel__wasmsimd_any(const sb_conv_shape* s, const float* weights, const float* bias,
                                         const float* input, float* output, const sb_activation* act,
                                         size_t oy_begin, size_t oy_end) {
  dwconv((size_t)s->kh, (size_t)s->kw, s, weights, bias, input, output, act, oy_begin, oy_end);
}
