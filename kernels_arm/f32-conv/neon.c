/* NEON f32-conv: dense conv (any groups), stride 1 or 2, dilation 1. Weights of 4 output channels at a time are
 * packed into the G = 4 vector layout on the stack and run through the row-vectorised core shared with spconv
 * (kernels_arm/common/conv_rows.h). Other shapes, and groups too wide to pack, use the scalar reference. */
#include "kernels_arm/common/conv_rows.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-conv/list.h"
#undef SB_UKERNEL

sb_f32_conv_ukernel sb_f32_conv_ukernel__scalar;

#define PACK_FLOATS 32768 /* 128 KiB of stack: in_c/groups * kh * kw * 4 must fit (3x3 up to 910 input channels) */

static inline __attribute__((always_inline)) void conv_tiles(const sb_conv_shape* s, const float* weights, const float* bias, const float* input,
                       float* output, const sb_neon_act* na, size_t oy_begin, size_t oy_end, const int stride) {
  const size_t ks = (size_t)s->kh * s->kw, plane = (size_t)s->out_h * s->out_w;
  const size_t in_per_group = (size_t)(s->in_c / s->groups), out_per_group = (size_t)(s->out_c / s->groups);
  float packed[PACK_FLOATS];
  for (size_t grp = 0; grp < (size_t)s->groups; grp++) {
    for (size_t t = 0; t < out_per_group; t += 4) {
      const size_t c0 = grp * out_per_group + t;
      const size_t valid = out_per_group - t < 4 ? out_per_group - t : 4;
      for (size_t i = 0; i < in_per_group; i++)
        for (size_t k = 0; k < ks; k++)
          for (size_t lane = 0; lane < 4; lane++)
            packed[(i * ks + k) * 4 + lane] = lane < valid ? weights[((c0 + lane) * in_per_group + i) * ks + k] : 0.0f;
      float b[4] = {0};
      for (size_t lane = 0; lane < valid; lane++) b[lane] = bias ? bias[c0 + lane] : 0.0f;
      const conv_rows_args a = {s, in_per_group, NULL, grp * in_per_group, packed, b, input, output + c0 * plane,
                                valid, na, oy_begin, oy_end};
      conv_rows(&a, 4, stride);
    }
  }
}

/* ---- Few input channels (the stem: 3x3 / 5x5 / 7x7, stride 1 or 2, Cin <= 4, e.g. BlazeFace's 5x5/2 3->24) ----
 * conv_rows would spend most of its time on border pixels and on ld2 loads that feed only 4 output channels. Here,
 * per output row, the kh * in_c input rows it reads are copied once into a zero-padded stack buffer (stride 2: split
 * into even and odd columns), so every tap of 8 pixels is one contiguous two-register load with no edge case; 8
 * output channels x 8 pixels (16 accumulators) use each loaded input vector 8 times. */
#define SMALLC_MAX_IN 4
#define SMALLC_ROW_FLOATS 6144 /* 24 KiB: in_c * kh * padded row */
#define SMALLC_W_FLOATS 4096   /* 16 KiB: weights of all output channels, rounded up to 8, as [block][tap][8] */

static inline __attribute__((always_inline)) float32x4x2_t smallc_ld2v(const float* p) {
#if defined(SB_NEON_SIMDE)
  float32x4x2_t r = {{vld1q_f32(p), vld1q_f32(p + 4)}};
  return r;
#else
  return vld1q_f32_x2(p);
#endif
}

/* Padded row of one input row: stride 1: dst[j] = x[j - pad_left]; stride 2: dst[t] = x[2t - pad_left] and
 * dst[half + t] = x[2t + 1 - pad_left]; zeros outside the input. src NULL: a row of padding. */
static void smallc_fill_row(float* dst, const float* src, size_t in_w, size_t pad_left, size_t len, size_t half,
                            int stride) {
  if (src == NULL) {
    for (size_t j = 0; j < len; j++) dst[j] = 0.0f;
    return;
  }
  if (stride == 1) {
    size_t j = 0;
    for (; j < pad_left && j < len; j++) dst[j] = 0.0f;
    for (; j + 4 <= len && j + 4 <= pad_left + in_w; j += 4) vst1q_f32(dst + j, vld1q_f32(src + j - pad_left));
    for (; j < len; j++) dst[j] = j < pad_left + in_w ? src[j - pad_left] : 0.0f;
    return;
  }
  size_t t = 0;
  for (; t < half && 2 * t < pad_left; t++) {
    const size_t j = 2 * t;
    dst[t] = j >= pad_left && j - pad_left < in_w ? src[j - pad_left] : 0.0f;
    dst[half + t] = j + 1 >= pad_left && j + 1 - pad_left < in_w ? src[j + 1 - pad_left] : 0.0f;
  }
  for (; t + 4 <= half && 2 * t + 8 <= pad_left + in_w; t += 4) {
    const float32x4x2_t d = vld2q_f32(src + 2 * t - pad_left);
    vst1q_f32(dst + t, d.val[0]);
    vst1q_f32(dst + half + t, d.val[1]);
  }
  for (; t < half; t++) {
    const size_t j = 2 * t;
    dst[t] = j - pad_left < in_w ? src[j - pad_left] : 0.0f;
    dst[half + t] = j + 1 - pad_left < in_w ? src[j + 1 - pad_left] : 0.0f;
  }
}

static inline __attribute__((always_inline)) void smallc_rows(const sb_conv_shape* s, const float* wp, const float* bp,
                                                              const float* input, float* output, const sb_neon_act* na,
                                                              size_t oy_begin, size_t oy_end, const int S,
                                                              const int KW, size_t len, size_t half) {
  const size_t in_c = (size_t)s->in_c, in_h = (size_t)s->in_h, in_w = (size_t)s->in_w, kh = (size_t)s->kh;
  const size_t out_c = (size_t)s->out_c, out_w = (size_t)s->out_w, out_plane = (size_t)s->out_h * out_w;
  const size_t rows = in_c * kh, ntaps = rows * KW, blocks = (out_c + 7) / 8;
  float buf[SMALLC_ROW_FLOATS] __attribute__((aligned(16)));
  for (size_t oy = oy_begin; oy < oy_end; oy++) {
    const int64_t iy0 = (int64_t)oy * S - s->pad_top;
    for (size_t r = 0; r < rows; r++) {
      const int64_t iy = iy0 + (int64_t)(r % kh);
      const float* src = iy < 0 || iy >= (int64_t)in_h ? NULL : input + ((r / kh) * in_h + (size_t)iy) * in_w;
      smallc_fill_row(buf + r * len, src, in_w, (size_t)s->pad_left, len, half, S);
    }
    for (size_t blk = 0; blk < blocks; blk++) {
      const float* wb = wp + blk * ntaps * 8;
      const float32x4_t b0 = vld1q_f32(bp + blk * 8), b1 = vld1q_f32(bp + blk * 8 + 4);
      const size_t valid = out_c - blk * 8 < 8 ? out_c - blk * 8 : 8;
      for (size_t ox = 0; ox < out_w; ox += 8) {
        float32x4_t acc[8][2];
        acc[0][0] = acc[0][1] = vdupq_laneq_f32(b0, 0);
        acc[1][0] = acc[1][1] = vdupq_laneq_f32(b0, 1);
        acc[2][0] = acc[2][1] = vdupq_laneq_f32(b0, 2);
        acc[3][0] = acc[3][1] = vdupq_laneq_f32(b0, 3);
        acc[4][0] = acc[4][1] = vdupq_laneq_f32(b1, 0);
        acc[5][0] = acc[5][1] = vdupq_laneq_f32(b1, 1);
        acc[6][0] = acc[6][1] = vdupq_laneq_f32(b1, 2);
        acc[7][0] = acc[7][1] = vdupq_laneq_f32(b1, 3);
        const float* w = wb;
        for (size_t r = 0; r < rows; r++) {
          const float* row = buf + r * len + ox;
#pragma GCC unroll 7
          for (int kx = 0; kx < KW; kx++, w += 8) {
            const float32x4x2_t x = smallc_ld2v(S == 1 ? row + kx : row + (kx & 1) * half + (kx >> 1));
            const float32x4x2_t wv = smallc_ld2v(w);
#pragma GCC unroll 2
            for (int v = 0; v < 2; v++) {
              acc[0][v] = vfmaq_laneq_f32(acc[0][v], x.val[v], wv.val[0], 0);
              acc[1][v] = vfmaq_laneq_f32(acc[1][v], x.val[v], wv.val[0], 1);
              acc[2][v] = vfmaq_laneq_f32(acc[2][v], x.val[v], wv.val[0], 2);
              acc[3][v] = vfmaq_laneq_f32(acc[3][v], x.val[v], wv.val[0], 3);
              acc[4][v] = vfmaq_laneq_f32(acc[4][v], x.val[v], wv.val[1], 0);
              acc[5][v] = vfmaq_laneq_f32(acc[5][v], x.val[v], wv.val[1], 1);
              acc[6][v] = vfmaq_laneq_f32(acc[6][v], x.val[v], wv.val[1], 2);
              acc[7][v] = vfmaq_laneq_f32(acc[7][v], x.val[v], wv.val[1], 3);
            }
          }
        }
        float* o = output + blk * 8 * out_plane + oy * out_w + ox;
        for (size_t l = 0; l < valid; l++, o += out_plane) {
          const float32x4_t y0 = sb_neon_activate(acc[l][0], na), y1 = sb_neon_activate(acc[l][1], na);
          if (ox + 8 <= out_w) {
            vst1q_f32(o, y0);
            vst1q_f32(o + 4, y1);
          } else {
            float tmp[8];
            vst1q_f32(tmp, y0);
            vst1q_f32(tmp + 4, y1);
            for (size_t i = 0; i < out_w - ox; i++) o[i] = tmp[i];
          }
        }
      }
    }
  }
}

/* Returns 0 (nothing done) when the shape does not fit. Not inlined: its stack buffers stay out of the generic
 * path's frame. */
static __attribute__((noinline)) int conv_smallc(const sb_conv_shape* s, const float* weights, const float* bias, const float* input,
                       float* output, const sb_activation* act, size_t oy_begin, size_t oy_end) {
  const int S = s->stride_w;
  if (s->groups != 1 || s->in_c > SMALLC_MAX_IN || s->dil_h != 1 || s->dil_w != 1 || s->stride_h != S ||
      (S != 1 && S != 2) || (s->kw != 3 && s->kw != 5 && s->kw != 7) || s->kh < 1 || s->kh > 7 || s->pad_left < 0 ||
      s->pad_top < 0 || s->pad_left >= s->kw || s->out_w <= 0 || s->out_c <= 0)
    return 0;
  const size_t owt = ((size_t)s->out_w + 7) & ~(size_t)7, kw = (size_t)s->kw;
  /* the last 8-pixel tile at ox = owt - 8 reads up to tap kw - 1: stride 1 column owt - 1 + kw - 1; stride 2 phase
   * column owt - 1 + (kw - 1) / 2 */
  const size_t half = S == 2 ? owt + (kw - 1) / 2 : 0, len = S == 2 ? 2 * half : owt + kw - 1;
  const size_t rows = (size_t)s->in_c * s->kh, ntaps = rows * kw, blocks = ((size_t)s->out_c + 7) / 8;
  if (rows * len > SMALLC_ROW_FLOATS || blocks * ntaps * 8 > SMALLC_W_FLOATS) return 0;
  float wp[SMALLC_W_FLOATS] __attribute__((aligned(16)));
  float bp[SMALLC_W_FLOATS / 8 + 8] __attribute__((aligned(16)));
  for (size_t blk = 0; blk < blocks; blk++)
    for (size_t t = 0; t < ntaps; t++)
      for (size_t l = 0; l < 8; l++) {
        const size_t oc = blk * 8 + l;
        wp[(blk * ntaps + t) * 8 + l] = oc < (size_t)s->out_c ? weights[oc * ntaps + t] : 0.0f;
      }
  for (size_t oc = 0; oc < blocks * 8; oc++) bp[oc] = oc < (size_t)s->out_c && bias != NULL ? bias[oc] : 0.0f;
  const sb_neon_act na = sb_neon_act_init(act);
  if (S == 2) {
    if (kw == 3) smallc_rows(s, wp, bp, input, output, &na, oy_begin, oy_end, 2, 3, len, half);
    else if (kw == 5) smallc_rows(s, wp, bp, input, output, &na, oy_begin, oy_end, 2, 5, len, half);
    else smallc_rows(s, wp, bp, input, output, &na, oy_begin, oy_end, 2, 7, len, half);
  } else {
    if (kw == 3) smallc_rows(s, wp, bp, input, output, &na, oy_begin, oy_end, 1, 3, len, half);
    else if (kw == 5) smallc_rows(s, wp, bp, input, output, &na, oy_begin, oy_end, 1, 5, len, half);
    else smallc_rows(s, wp, bp, input, output, &na, oy_begin, oy_end, 1, 7, len, half);
  }
  return 1;
}

void sb_f32_conv_ukernel__neon(const sb_conv_shape* s, const float* weights, const float* bias, const float* input,
                               float* output, const sb_activation* act, size_t oy_begin, size_t oy_end) {
  if (conv_smallc(s, weights, bias, input, output, act, oy_begin, oy_end)) return;
  if (!conv_rows_supported(s) || (size_t)(s->in_c / s->groups) * s->kh * s->kw * 4 > PACK_FLOATS) {
    sb_f32_conv_ukernel__scalar(s, weights, bias, input, output, act, oy_begin, oy_end);
    return;
  }
  const sb_neon_act na = sb_neon_act_init(act);
  if (s->stride_w == 2) conv_tiles(s, weights, bias, input, output, &na, oy_begin, oy_end, 2);
  else conv_tiles(s, weights, bias, input, output, &na, oy_begin, oy_end, 1);
}
