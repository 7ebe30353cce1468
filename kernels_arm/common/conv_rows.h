/* Row-vectorised direct convolution shared by the NEON f32-spconv and f32-conv kernels (NCHW, any dilation,
 * stride 1 or 2; dilation 1 is a compile-time specialisation). One call computes G output channels over output rows [oy_begin, oy_end) from a list of input
 * channels whose weights are packed G-vectors, [n][kh*kw][G] (the group-sparse layout of docs/format.md; the dense
 * kernel packs its weights into it). Interior pixels go 8 (then 4) at a time along the row, each input vector
 * feeding G FMAs by lane; stride 2 deinterleaves with ld2. Pixels whose window leaves the row are done one by one. */
#ifndef SB_KERNELS_ARM_CONV_ROWS_H
#define SB_KERNELS_ARM_CONV_ROWS_H

#include "kernels_arm/common/neon.h"

typedef struct conv_rows_args {
  const sb_conv_shape* s;
  size_t n;               /* input channels used */
  const int32_t* chans;   /* their indices, or NULL for first_chan + i */
  size_t first_chan;
  const float* wv;        /* [n][kh*kw][G] */
  const float* bias;      /* G values (lanes past `valid` are ignored) */
  const float* input;     /* [in_c][in_h][in_w] */
  float* output;          /* plane of the first of the G output channels */
  size_t valid;           /* output channels to write, <= G */
  const sb_neon_act* na;
  size_t oy_begin, oy_end;
} conv_rows_args;

static inline __attribute__((always_inline)) float32x4_t conv_rows_load(const float* p, int stride, int odd) {
  if (stride == 1) return vld1q_f32(p);
  const float32x4x2_t d = vld2q_f32(p - odd);
  return odd ? d.val[1] : d.val[0];
}

/* Taps [first, end) of a window starting at input index i0 with dilation d that fall inside [0, n). */
static inline __attribute__((always_inline)) int conv_rows_first_tap(int i0, int d) {
  return i0 < 0 ? (-i0 + d - 1) / d : 0;
}
static inline __attribute__((always_inline)) int conv_rows_end_tap(int i0, int d, int k, int n) {
  const int end = n - i0 <= 0 ? 0 : (n - i0 + d - 1) / d;
  return end < k ? end : k;
}

/* Pixels ox of one output row, one at a time (the border), any G. */
static inline __attribute__((always_inline)) void conv_rows_pixel(const conv_rows_args* a, int G, size_t oy, size_t ox, int ky_lo, int ky_hi, const int DIL1) {
  const sb_conv_shape* s = a->s;
  const size_t ks = (size_t)s->kh * s->kw, plane = (size_t)s->in_h * s->in_w;
  const int dh = DIL1 ? 1 : s->dil_h, dw = DIL1 ? 1 : s->dil_w;
  float acc[8];
  for (int k = 0; k < G; k++) acc[k] = (size_t)k < a->valid ? a->bias[k] : 0.0f;
  const int ix0 = (int)ox * s->stride_w - s->pad_left;
  const int kx_lo = conv_rows_first_tap(ix0, dw), kx_hi = conv_rows_end_tap(ix0, dw, s->kw, s->in_w);
  const int iy0 = (int)oy * s->stride_h - s->pad_top;
  for (size_t j = 0; j < a->n; j++) {
    const float* in = a->input + (a->chans ? (size_t)a->chans[j] : a->first_chan + j) * plane;
    const float* wj = a->wv + j * ks * G;
    for (int ky = ky_lo; ky < ky_hi; ky++) {
      const float* row = in + (size_t)(iy0 + ky * dh) * s->in_w + ix0;
      for (int kx = kx_lo; kx < kx_hi; kx++) {
        const float x = row[kx * dw];
        const float* wk = wj + ((size_t)ky * s->kw + kx) * G;
        for (int k = 0; k < G; k++) acc[k] += wk[k] * x;
      }
    }
  }
  for (size_t k = 0; k < a->valid; k++) {
    float* o = a->output + k * s->out_h * s->out_w + oy * s->out_w + ox;
    *o = sb_neon_activate1(a->na->act, acc[k]);
  }
}

/* V vectors (4V pixels) of one output row starting at ox, all taps inside the row. */
static inline __attribute__((always_inline)) void conv_rows_block(const conv_rows_args* a, const int G, const int V, const int stride, size_t oy,
                                   size_t ox, int ky_lo, int ky_hi, const int KW, const int DIL1) {
  const sb_conv_shape* s = a->s;
  const size_t ks = (size_t)s->kh * s->kw, plane = (size_t)s->in_h * s->in_w;
  const int dh = DIL1 ? 1 : s->dil_h, dw = DIL1 ? 1 : s->dil_w;
  float32x4_t acc[8][2];
#pragma GCC unroll 8
  for (int k = 0; k < G; k++)
#pragma GCC unroll 2
    for (int v = 0; v < V; v++) acc[k][v] = vdupq_n_f32((size_t)k < a->valid ? a->bias[k] : 0.0f);
  const int ix0 = (int)ox * stride - s->pad_left;
  const int iy0 = (int)oy * s->stride_h - s->pad_top;
  for (size_t j = 0; j < a->n; j++) {
    const float* in = a->input + (a->chans ? (size_t)a->chans[j] : a->first_chan + j) * plane;
    const float* wj = a->wv + j * ks * G;
    for (int ky = ky_lo; ky < ky_hi; ky++) {
      const float* row = in + (size_t)(iy0 + ky * dh) * s->in_w + ix0;
      const int kw = KW ? KW : s->kw; /* KW: compile-time width (taps unrolled, ld2 shared by kx pairs) */
      const float* wk = wj + (size_t)ky * kw * G;
#pragma GCC unroll 3
      for (int kx = 0; kx < kw; kx++, wk += G) {
        float32x4_t x[2];
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) x[v] = conv_rows_load(row + kx * dw + 4 * stride * v, stride, (kx * dw) & 1);
        if (G == 1) {
          const float32x4_t w = vld1q_dup_f32(wk);
#pragma GCC unroll 2
          for (int v = 0; v < V; v++) acc[0][v] = vfmaq_f32(acc[0][v], x[v], w);
        } else if (G == 2) {
          const float32x2_t w = vld1_f32(wk);
#pragma GCC unroll 2
          for (int v = 0; v < V; v++) {
            acc[0][v] = vfmaq_lane_f32(acc[0][v], x[v], w, 0);
            acc[1][v] = vfmaq_lane_f32(acc[1][v], x[v], w, 1);
          }
        } else {
#pragma GCC unroll 2
          for (int h = 0; h < G / 4; h++) {
            const float32x4_t w = vld1q_f32(wk + 4 * h);
#pragma GCC unroll 2
            for (int v = 0; v < V; v++) {
              acc[4 * h + 0][v] = vfmaq_laneq_f32(acc[4 * h + 0][v], x[v], w, 0);
              acc[4 * h + 1][v] = vfmaq_laneq_f32(acc[4 * h + 1][v], x[v], w, 1);
              acc[4 * h + 2][v] = vfmaq_laneq_f32(acc[4 * h + 2][v], x[v], w, 2);
              acc[4 * h + 3][v] = vfmaq_laneq_f32(acc[4 * h + 3][v], x[v], w, 3);
            }
          }
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int k = 0; k < G; k++) {
    if ((size_t)k >= a->valid) break;
    float* o = a->output + (size_t)k * s->out_h * s->out_w + oy * s->out_w + ox;
#pragma GCC unroll 2
    for (int v = 0; v < V; v++) vst1q_f32(o + 4 * v, sb_neon_activate(acc[k][v], a->na));
  }
}

/* Whether conv_rows handles the shape (else the caller uses the scalar reference). */
static inline __attribute__((always_inline)) int conv_rows_supported(const sb_conv_shape* s) {
  return s->dil_h >= 1 && s->dil_w >= 1 && (s->stride_w == 1 || s->stride_w == 2) && s->stride_h >= 1;
}

static inline __attribute__((always_inline)) void conv_rows_kw(const conv_rows_args* a, const int G, const int stride,
                                                              const int KW, const int DIL1) {
  const sb_conv_shape* s = a->s;
  const int dh = DIL1 ? 1 : s->dil_h;
  /* Vector blocks of 4 pixels starting at ox need ix0 >= 0 and the last load inside the row: the last tap is at
   * ix0 + span (span = dil_w * (kw - 1)); stride 2 reads 8 floats from there (or one before it for an odd offset),
   * so 4 pixels read up to ix0 + span + 7 - span % 2. */
  const int span = (DIL1 ? 1 : s->dil_w) * (s->kw - 1);
  const int reach = stride == 1 ? 3 + span : 7 + span - span % 2;
  int ox_lo = s->pad_left <= 0 ? 0 : (s->pad_left + stride - 1) / stride;
  if (ox_lo > s->out_w) ox_lo = s->out_w;
  int ox_hi = ox_lo; /* one past the last pixel at which a 4-pixel block may start */
  while (ox_hi + 3 < s->out_w && ox_hi * stride - s->pad_left + reach <= s->in_w - 1) ox_hi++;
  for (size_t oy = a->oy_begin; oy < a->oy_end; oy++) {
    const int iy0 = (int)oy * s->stride_h - s->pad_top;
    const int ky_lo = conv_rows_first_tap(iy0, dh), ky_hi = conv_rows_end_tap(iy0, dh, s->kh, s->in_h);
    size_t ox = 0;
    for (; (int)ox < ox_lo; ox++) conv_rows_pixel(a, G, oy, ox, ky_lo, ky_hi, DIL1);
    for (; (int)ox + 4 < ox_hi; ox += 8) conv_rows_block(a, G, 2, stride, oy, ox, ky_lo, ky_hi, KW, DIL1);
    for (; (int)ox < ox_hi; ox += 4) conv_rows_block(a, G, 1, stride, oy, ox, ky_lo, ky_hi, KW, DIL1);
    for (; (int)ox < s->out_w; ox++) conv_rows_pixel(a, G, oy, ox, ky_lo, ky_hi, DIL1);
  }
}

/* 3-wide kernels (the stem and most kxk convs) get their taps unrolled; dilation 1 (all but DeepLab-style atrous
 * convs) is specialised so its address arithmetic stays as before. */
static inline __attribute__((always_inline)) void conv_rows(const conv_rows_args* a, const int G, const int stride) {
  const int dil1 = a->s->dil_h == 1 && a->s->dil_w == 1;
  if (a->s->kw == 3) {
    if (dil1) conv_rows_kw(a, G, stride, 3, 1);
    else conv_rows_kw(a, G, stride, 3, 0);
  } else {
    if (dil1) conv_rows_kw(a, G, stride, 0, 1);
    else conv_rows_kw(a, G, stride, 0, 0);
  }
}

#endif /* SB_KERNELS_ARM_CONV_ROWS_H */
