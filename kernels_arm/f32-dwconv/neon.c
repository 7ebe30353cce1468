/* NEON f32-dwconv: depthwise kxk conv, one template (dwconv_channel) specialised for 3x3 and 5x5 at stride 1 and
 * 2, dilation 1. Each output row is vectorised along its width: 8 (then 4) interior pixels per step, the taps read
 * as shifted row vectors (stride 2 deinterleaves with ld2); pixels whose window leaves the row are done singly.
 * Dilated shapes go to the scalar reference. */
#include "kernels_arm/common/neon.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-dwconv/list.h"
#undef SB_UKERNEL

sb_f32_dwconv_ukernel sb_f32_dwconv_ukernel__scalar;

static inline __attribute__((always_inline)) float32x4_t dw_load(const float* p, const int stride, const int odd) {
  if (stride == 1) return vld1q_f32(p);
  const float32x4x2_t d = vld2q_f32(p - odd);
  return odd ? d.val[1] : d.val[0];
}

static inline __attribute__((always_inline)) float dw_pixel(const sb_conv_shape* s, const float* w, float acc, const float* in, int iy0, int ix0,
                             int ky_lo, int ky_hi, const int K) {
  const int kx_lo = ix0 < 0 ? -ix0 : 0;
  const int kx_hi = s->in_w - ix0 < K ? s->in_w - ix0 : K;
  for (int ky = ky_lo; ky < ky_hi; ky++)
    for (int kx = kx_lo; kx < kx_hi; kx++) acc += w[ky * K + kx] * in[(size_t)(iy0 + ky) * s->in_w + ix0 + kx];
  return acc;
}

/* V vectors (4V pixels) of one output row. Weight rows sit in registers (wr, [K][2] vectors of a zero-padded copy);
 * rows fully inside the input (the common case) run with every tap unrolled. */
static inline __attribute__((always_inline)) void dw_block(const sb_conv_shape* s, const float32x4_t wr[5][2],
                                                           float bias, const float* in, float* out,
                                                           const sb_neon_act* na, int iy0, int ix0, int ky_lo,
                                                           int ky_hi, const int K, const int S, const int V) {
  float32x4_t acc[4];
#pragma GCC unroll 4
  for (int v = 0; v < V; v++) acc[v] = vdupq_n_f32(bias);
  const float* row0 = in + (size_t)iy0 * s->in_w + ix0;
  if (ky_lo == 0 && ky_hi == K) {
#pragma GCC unroll 5
    for (int ky = 0; ky < K; ky++) {
      const float* row = row0 + (size_t)ky * s->in_w;
#pragma GCC unroll 5
      for (int kx = 0; kx < K; kx++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
          acc[v] = vfmaq_laneq_f32(acc[v], dw_load(row + kx + 4 * S * v, S, kx & 1), wr[ky][kx / 4], kx % 4);
    }
  } else {
    for (int ky = ky_lo; ky < ky_hi; ky++) {
      const float* row = row0 + (size_t)ky * s->in_w;
      float wrow[8];
      vst1q_f32(wrow, wr[ky][0]);
      vst1q_f32(wrow + 4, wr[ky][1]);
#pragma GCC unroll 5
      for (int kx = 0; kx < K; kx++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) acc[v] = vfmaq_n_f32(acc[v], dw_load(row + kx + 4 * S * v, S, kx & 1), wrow[kx]);
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < V; v++) vst1q_f32(out + 4 * v, sb_neon_activate(acc[v], na));
}

static inline __attribute__((always_inline)) void dwconv_channels(const sb_conv_shape* s, const float* weights, const float* bias,
                                   const float* input, float* output, const sb_activation* act, size_t oy_begin,
                                   size_t oy_end, const int K, const int S) {
  const sb_neon_act na = sb_neon_act_init(act);
  const int reach = S == 1 ? 3 + K - 1 : 7 + K - 1 - (K - 1) % 2; /* last input read by a 4-pixel block */
  int ox_lo = s->pad_left <= 0 ? 0 : (s->pad_left + S - 1) / S;
  if (ox_lo > s->out_w) ox_lo = s->out_w;
  int ox_hi = ox_lo; /* 4-pixel blocks may start in [ox_lo, ox_hi) */
  while (ox_hi + 3 < s->out_w && ox_hi * S - s->pad_left + reach <= s->in_w - 1) ox_hi++;
  for (size_t c = 0; c < (size_t)s->out_c; c++) {
    const float* w = weights + c * K * K;
    const float b = bias ? bias[c] : 0.0f;
    float wpad[5][8] = {{0}};
    float32x4_t wr[5][2];
    for (int ky = 0; ky < K; ky++) {
      for (int kx = 0; kx < K; kx++) wpad[ky][kx] = w[ky * K + kx];
      wr[ky][0] = vld1q_f32(wpad[ky]);
      wr[ky][1] = vld1q_f32(wpad[ky] + 4);
    }
    const float* in = input + c * s->in_h * s->in_w;
    float* out_plane = output + c * s->out_h * s->out_w;
    for (size_t oy = oy_begin; oy < oy_end; oy++) {
      const int iy0 = (int)oy * s->stride_h - s->pad_top;
      const int ky_lo = iy0 < 0 ? -iy0 : 0;
      const int ky_hi = s->in_h - iy0 < K ? s->in_h - iy0 : K;
      float* out = out_plane + oy * s->out_w;
      int ox = 0;
      for (; ox < ox_lo; ox++) out[ox] = sb_activate(act, dw_pixel(s, w, b, in, iy0, ox * S - s->pad_left, ky_lo, ky_hi, K));
      for (; ox + 12 < ox_hi; ox += 16)
        dw_block(s, wr, b, in, out + ox, &na, iy0, ox * S - s->pad_left, ky_lo, ky_hi, K, S, 4);
      for (; ox < ox_hi; ox += 4) dw_block(s, wr, b, in, out + ox, &na, iy0, ox * S - s->pad_left, ky_lo, ky_hi, K, S, 1);
      for (; ox < s->out_w; ox++) out[ox] = sb_activate(act, dw_pixel(s, w, b, in, iy0, ox * S - s->pad_left, ky_lo, ky_hi, K));
    }
  }
}

#define SB_DWCONV_NEON(K, S)                                                                                        \
  void sb_f32_dwconv_ukernel__neon_##K##x##K##s##S(const sb_conv_shape* s, const float* weights, const float* bias, \
                                                   const float* input, float* output, const sb_activation* act,    \
                                                   size_t oy_begin, size_t oy_end) {                               \
    if (s->dil_h != 1 || s->dil_w != 1 || s->stride_w != S || s->kh != K || s->kw != K) {                          \
      sb_f32_dwconv_ukernel__scalar(s, weights, bias, input, output, act, oy_begin, oy_end);                       \
      return;                                                                                                      \
    }                                                                                                              \
    dwconv_channels(s, weights, bias, input, output, act, oy_begin, oy_end, K, S);                                 \
  }

SB_DWCONV_NEON(3, 1)
SB_DWCONV_NEON(3, 2)
SB_DWCONV_NEON(5, 1)
SB_DWCONV_NEON(5, 2)
