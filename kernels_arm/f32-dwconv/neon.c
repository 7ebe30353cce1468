/* NEON f32-dwconv: depthwise kxk conv, one template (dwconv_channels) specialised for 3x3 and 5x5 at stride 1 and
 * 2, dilation 1. Each output row is vectorised along its width: 16 (then 4) interior pixels per step, the taps read
 * as shifted row vectors (stride 2 deinterleaves with ld2), rows outside the image read zeros; blocks whose window
 * leaves the row run on zero-padded scratch copies. Dilated shapes go to the scalar reference. */
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

/* Zeros standing in for input rows above or below the image: a block reads at most 4*S*V + reach < 64 floats. */
static const float zero_row[64];

/* V vectors (4V pixels) of one output row from K row pointers (each at the block's first input column), every tap
 * unrolled with the weight rows in registers (wr: [K][2] vectors of a zero-padded copy). */
static inline __attribute__((always_inline)) void dw_block(const float* const rows[5], const float32x4_t wr[5][2],
                                                           float bias, float* out, const sb_neon_act* na,
                                                           const int K, const int S, const int V) {
  float32x4_t acc[4];
#pragma GCC unroll 4
  for (int v = 0; v < V; v++) acc[v] = vdupq_n_f32(bias);
#pragma GCC unroll 5
  for (int ky = 0; ky < K; ky++) {
    const float* row = rows[ky];
#pragma GCC unroll 5
    for (int kx = 0; kx < K; kx++)
#pragma GCC unroll 4
      for (int v = 0; v < V; v++)
        acc[v] = vfmaq_laneq_f32(acc[v], dw_load(row + kx + 4 * S * v, S, kx & 1), wr[ky][kx / 4], kx % 4);
  }
#pragma GCC unroll 4
  for (int v = 0; v < V; v++) vst1q_f32(out + 4 * v, sb_neon_activate(acc[v], na));
}

/* A 4-pixel block whose window leaves the row (left/right border, or past out_w): the rows' pixels are copied into
 * zero-padded scratch rows, and only the pixels before out_w are written. */
static inline __attribute__((always_inline)) void dw_edge_block(const sb_conv_shape* s, const float* const rows[5],
                                                                const float32x4_t wr[5][2], float bias, float* out,
                                                                int ix0, int count, const sb_neon_act* na,
                                                                const int K, const int S) {
  float scratch[5][16];
  const float* scratch_rows[5];
  const int reach = S == 1 ? 3 + K - 1 : 7 + K - 1 - (K - 1) % 2;
  for (int ky = 0; ky < K; ky++) {
    for (int t = 0; t <= reach + 1; t++) {
      const int ix = ix0 + t - (S == 2); /* stride 2 reads one float before for odd taps */
      scratch[ky][t] = rows[ky] != zero_row && ix >= 0 && ix < s->in_w ? rows[ky][ix] : 0.0f;
    }
    scratch_rows[ky] = scratch[ky] + (S == 2);
  }
  float result[4];
  dw_block(scratch_rows, wr, bias, result, na, K, S, 1);
  for (int i = 0; i < count; i++) out[i] = result[i];
}

static inline __attribute__((always_inline)) void dwconv_channels(const sb_conv_shape* s, const float* weights,
                                                                  const float* bias, const float* input,
                                                                  float* output, const sb_activation* act,
                                                                  size_t oy_begin, size_t oy_end, const int K,
                                                                  const int S) {
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
      const float* rows[5];
      for (int ky = 0; ky < K; ky++) {
        const int iy = iy0 + ky;
        rows[ky] = iy >= 0 && iy < s->in_h ? in + (size_t)iy * s->in_w : zero_row;
      }
      float* out = out_plane + oy * s->out_w;
      int ox = 0;
      const float* at[5];
      for (; ox < ox_lo; ox += 4) {
        const int count = s->out_w - ox < 4 ? s->out_w - ox : 4;
        dw_edge_block(s, rows, wr, b, out + ox, ox * S - s->pad_left, count, &na, K, S);
      }
      if (ox < ox_hi) {
        for (int ky = 0; ky < K; ky++) at[ky] = rows[ky] == zero_row ? zero_row : rows[ky] + ox * S - s->pad_left;
        for (; ox + 12 < ox_hi; ox += 16) {
          dw_block(at, wr, b, out + ox, &na, K, S, 4);
          for (int ky = 0; ky < K; ky++) at[ky] += rows[ky] == zero_row ? 0 : 16 * S;
        }
        for (; ox < ox_hi; ox += 4) {
          dw_block(at, wr, b, out + ox, &na, K, S, 1);
          for (int ky = 0; ky < K; ky++) at[ky] += rows[ky] == zero_row ? 0 : 4 * S;
        }
      }
      for (; ox < s->out_w; ox += 4) {
        const int count = s->out_w - ox < 4 ? s->out_w - ox : 4;
        dw_edge_block(s, rows, wr, b, out + ox, ox * S - s->pad_left, count, &na, K, S);
      }
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
