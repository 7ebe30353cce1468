/* Direct convolution core shared by the WASM f32-dwconv, f32-conv and f32-spconv kernels (NCHW, one image).
 *
 * Computes output rows [oy_begin, oy_end) of L output planes ("lanes"; the first `lanes` are stored):
 *   out[l][oy][ox] = act(bias[l] + sum_{j < sources} sum_{ky,kx} W(l, j, ky*kw + kx) * plane_j[iy][ix])
 * with plane_j = input + chan(j) * in_h * in_w, chan(j) = index ? index[j] : j, and
 * W(l, j, t) = weights[j * jstride + t * tstride + l * lstride]. Each input vector is loaded once for the L lanes.
 *
 * Four output pixels of a row share one vector when stride_w is 1 or 2 and the whole window lies inside the input;
 * border pixels (and other strides) are computed one at a time with bounds checks. L, and kh/kw when the caller
 * passes constants, are compile-time after inlining. */
#ifndef SB_WASM_DIRECT_CONV_H
#define SB_WASM_DIRECT_CONV_H

#include <wasm_simd128.h>

#include "kernels_wasm/common/wasm_act.h"

typedef struct direct_conv_args {
  const sb_conv_shape* s;
  const float* input;     /* plane of channel 0 (chan(j) is relative to it) */
  const int32_t* index;   /* [sources] input channels, or NULL for 0, 1, ... */
  size_t sources;
  const float* weights;
  size_t jstride, tstride, lstride;
  const float* bias;      /* [L], entries past `lanes` may be anything finite */
  float* output;          /* plane of lane 0; lane l at output + l * out_h * out_w */
  size_t lanes;
  const sb_activation* act;
} direct_conv_args;

SB_WASM_INLINE void direct_conv_rows(const size_t L, const size_t KH, const size_t KW, const direct_conv_args* a,
                                     size_t oy_begin, size_t oy_end) {
  const sb_conv_shape* s = a->s;
  const size_t in_h = (size_t)s->in_h, in_w = (size_t)s->in_w, out_w = (size_t)s->out_w;
  const size_t in_plane = in_h * in_w, out_plane = (size_t)s->out_h * out_w;
  const size_t sw = (size_t)s->stride_w, dw = (size_t)s->dil_w, dh = (size_t)s->dil_h;
  const int64_t pad_left = s->pad_left;
  /* Vector range [vx_lo, vx_hi): every window of 4 pixels starting there reads inside the row (stride 2 reads one
   * float past its last tap, for the even/odd split). */
  size_t vx_lo = 0, vx_hi = 0;
  if (sw == 1 || sw == 2) {
    vx_lo = (size_t)((pad_left + (int64_t)sw - 1) / (int64_t)sw);
    const int64_t reach = 3 * (int64_t)sw + (int64_t)((KW - 1) * dw) + (sw == 2 ? 1 : 0); /* last read - first */
    const int64_t last_start = ((int64_t)in_w - 1 - reach + pad_left); /* largest ox*sw allowed */
    int64_t hi = last_start < 0 ? 0 : last_start / (int64_t)sw + 1; /* first ox that no longer fits */
    if (hi > (int64_t)out_w - 3) hi = (int64_t)out_w - 3;
    vx_hi = hi > (int64_t)vx_lo ? (size_t)hi : vx_lo;
  }
  for (size_t oy = oy_begin; oy < oy_end; oy++) {
    const int64_t iy0 = (int64_t)oy * s->stride_h - s->pad_top;
    size_t ky_lo = 0, ky_hi = KH; /* taps with iy inside the input */
    while (ky_lo < KH && iy0 + (int64_t)(ky_lo * dh) < 0) ky_lo++;
    while (ky_hi > ky_lo && iy0 + (int64_t)((ky_hi - 1) * dh) >= (int64_t)in_h) ky_hi--;
    float* out_row = a->output + oy * out_w;
    size_t ox = 0;
    while (ox < out_w) {
      if (ox >= vx_lo && ox < vx_hi) {
        v128_t acc[8];
        for (size_t l = 0; l < L; l++) acc[l] = wasm_f32x4_splat(a->bias[l]);
        for (size_t j = 0; j < a->sources; j++) {
          const size_t chan = a->index ? (size_t)a->index[j] : j;
          const float* plane = a->input + chan * in_plane + (ox * sw - (size_t)pad_left);
          const float* wj = a->weights + j * a->jstride;
          for (size_t ky = ky_lo; ky < ky_hi; ky++) {
            const float* row = plane + (size_t)(iy0 + (int64_t)(ky * dh)) * in_w;
            for (size_t kx = 0; kx < KW; kx++) {
              const float* p = row + kx * dw;
              const v128_t x = sw == 1 ? wasm_v128_load(p)
                                       : wasm_i32x4_shuffle(wasm_v128_load(p), wasm_v128_load(p + 4), 0, 2, 4, 6);
              const float* wt = wj + (ky * KW + kx) * a->tstride;
              for (size_t l = 0; l < L; l++)
                acc[l] = wasm_f32x4_add(acc[l], wasm_f32x4_mul(wasm_v128_load32_splat(wt + l * a->lstride), x));
            }
          }
        }
        for (size_t l = 0; l < L; l++) {
          if (l >= a->lanes) break;
          wasm_v128_store(out_row + l * out_plane + ox, sb_wasm_activate(a->act, acc[l]));
        }
        ox += 4;
        continue;
      }
      /* One border pixel, with bounds checks on x. */
      float acc[8];
      for (size_t l = 0; l < L; l++) acc[l] = a->bias[l];
      const int64_t ix0 = (int64_t)ox * (int64_t)sw - pad_left;
      for (size_t j = 0; j < a->sources; j++) {
        const size_t chan = a->index ? (size_t)a->index[j] : j;
        const float* plane = a->input + chan * in_plane;
        const float* wj = a->weights + j * a->jstride;
        for (size_t ky = ky_lo; ky < ky_hi; ky++) {
          const float* row = plane + (size_t)(iy0 + (int64_t)(ky * dh)) * in_w;
          for (size_t kx = 0; kx < KW; kx++) {
            const int64_t ix = ix0 + (int64_t)(kx * dw);
            if (ix < 0 || ix >= (int64_t)in_w) continue;
            const float x = row[ix];
            const float* wt = wj + (ky * KW + kx) * a->tstride;
            for (size_t l = 0; l < L; l++) acc[l] += wt[l * a->lstride] * x;
          }
        }
      }
      for (size_t l = 0; l < L && l < a->lanes; l++) out_row[l * out_plane + ox] = sb_wasm_activate1(a->act, acc[l]);
      ox++;
    }
  }
}

#endif /* SB_WASM_DIRECT_CONV_H */
