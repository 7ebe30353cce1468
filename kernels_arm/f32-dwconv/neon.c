/* NEON f32-dwconv: depthwise kxk conv, specialised for 3x3 and 5x5 at stride 1 and 2 and 7x7 at stride 1, dilation 1.
 * Main path (dw_padded): each input row a channel needs is copied once into a zero-padded row of a small rolling
 * stack buffer (K rows plus one zero row for the top/bottom padding), so every output pixel, border included, is
 * computed by the same fully unrolled vector block: 16 (then 8, 4) pixels per step, taps read as shifted row vectors
 * (stride 2 deinterleaves with ld2), weight rows in registers; a row's last partial block is redone overlapping the
 * previous one. Rows too wide for the buffer, or left padding >= K, take the older in-place path (dwconv_channels,
 * border pixels one by one); dilated shapes go to the scalar reference. */
#include <string.h>

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
static inline __attribute__((always_inline)) void dw_block(const sb_conv_shape* s, const float32x4_t wr[7][2],
                                                           float bias, const float* in, float* out,
                                                           const sb_neon_act* na, int iy0, int ix0, int ky_lo,
                                                           int ky_hi, const int K, const int S, const int V) {
  float32x4_t acc[4];
#pragma GCC unroll 4
  for (int v = 0; v < V; v++) acc[v] = vdupq_n_f32(bias);
  const float* row0 = in + (size_t)iy0 * s->in_w + ix0;
  if (ky_lo == 0 && ky_hi == K) {
#pragma GCC unroll 7
    for (int ky = 0; ky < K; ky++) {
      const float* row = row0 + (size_t)ky * s->in_w;
#pragma GCC unroll 7 /* fully: the lane index kx % 4 must be a constant */
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
    float wpad[7][8] = {{0}};
    float32x4_t wr[7][2];
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
      for (; ox < ox_lo; ox++) out[ox] = sb_neon_activate1(act, dw_pixel(s, w, b, in, iy0, ox * S - s->pad_left, ky_lo, ky_hi, K));
      for (; ox + 12 < ox_hi; ox += 16)
        dw_block(s, wr, b, in, out + ox, &na, iy0, ox * S - s->pad_left, ky_lo, ky_hi, K, S, 4);
      for (; ox < ox_hi; ox += 4) dw_block(s, wr, b, in, out + ox, &na, iy0, ox * S - s->pad_left, ky_lo, ky_hi, K, S, 1);
      for (; ox < s->out_w; ox++) out[ox] = sb_neon_activate1(act, dw_pixel(s, w, b, in, iy0, ox * S - s->pad_left, ky_lo, ky_hi, K));
    }
  }
}

#define DW_BUF_FLOATS 6144 /* 24 KiB of stack: a band of padded input rows */

/* Padded row width the main path needs, or 0 when K rows of it do not fit the band buffer. A row's last block is
 * ceil(r / 4) vectors for its r remaining pixels, so it reads up to 3 pixels (3 * S columns) past the row, plus K - 1
 * taps, plus one float for ld2. */
static inline int dw_padded_width(const sb_conv_shape* s, const int K, const int S) {
  if (s->pad_left < 0 || s->pad_left >= K || s->stride_h < 1) return 0;
  const int ow = s->out_w < 4 ? 4 : s->out_w;
  int w = (ow + 3) * S + K + 1;
  if (w < s->pad_left + s->in_w) w = s->pad_left + s->in_w;
  w = (w + 3) & ~3;
  return (size_t)w * (size_t)(K + s->stride_h) <= DW_BUF_FLOATS ? w : 0;
}

static inline __attribute__((always_inline)) float32x4_t dw_act(float32x4_t v, const sb_neon_act* na, const int CLAMP) {
  return CLAMP ? vminq_f32(vmaxq_f32(v, na->lo), na->hi) : sb_neon_activate(v, na);
}

/* Stores the first n pixels of V vectors, 4 * (V - 1) < n <= 4 * V: a partial last vector is stored shifted to end
 * at pixel n, built from the last two with ext (so V >= 2 then). */
static inline __attribute__((always_inline)) void dw_store(float* out, const float32x4_t acc[4], int n, const int V) {
#pragma GCC unroll 4
  for (int v = 0; v + 1 < V; v++) vst1q_f32(out + 4 * v, acc[v]);
  if (V == 1) {
    vst1q_f32(out, acc[0]);
    return;
  }
  switch (n - 4 * (V - 1)) {
    case 1: vst1q_f32(out + n - 4, vextq_f32(acc[V - 2], acc[V - 1], 1)); break;
    case 2: vst1q_f32(out + n - 4, vextq_f32(acc[V - 2], acc[V - 1], 2)); break;
    case 3: vst1q_f32(out + n - 4, vextq_f32(acc[V - 2], acc[V - 1], 3)); break;
    default: vst1q_f32(out + 4 * (V - 1), acc[V - 1]); break;
  }
}

/* n pixels (4V - 4 < n <= 4V) of R output rows (R = 1, or 2 at stride 1 vertically) from K + R - 1 padded rows
 * (x = first input column of the block in the buffer). With R = 2 both rows share each loaded input row. */
static inline __attribute__((always_inline)) void dw_padded_block(const float* const rows[8], const float32x4_t wt[49],
                                                                  float32x4_t vb, float* out0, float* out1,
                                                                  const sb_neon_act* na, int x, int n, const int K,
                                                                  const int S, const int V, const int R,
                                                                  const int CLAMP) {
  float32x4_t acc[2][4];
#pragma GCC unroll 4
  for (int v = 0; v < V; v++) acc[0][v] = acc[1][v] = vb;
#pragma GCC unroll 7
  for (int i = 0; i < K + R - 1; i++) {
    const float* row = rows[i] + x;
#pragma GCC unroll 7
    for (int kx = 0; kx < K; kx++) {
      float32x4_t xv[4];
      if (S == 1 && V == 4) {
        const float32x4x4_t q = sb_neon_ld4v(row + kx);
        xv[0] = q.val[0], xv[1] = q.val[1], xv[2] = q.val[2], xv[3] = q.val[3];
      } else if (S == 1 && V == 3) {
        const float32x4x3_t q = sb_neon_ld3v(row + kx);
        xv[0] = q.val[0], xv[1] = q.val[1], xv[2] = q.val[2];
      } else {
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) xv[v] = dw_load(row + kx + 4 * S * v, S, kx & 1);
      }
#pragma GCC unroll 2
      for (int r = 0; r < R; r++) {
        if (i - r < 0 || i - r >= K) continue;
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) acc[r][v] = vfmaq_f32(acc[r][v], xv[v], wt[(i - r) * K + kx]);
      }
    }
  }
#pragma GCC unroll 2
  for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) acc[r][v] = dw_act(acc[r][v], na, CLAMP);
    if (S == 1 && V == 4 && n == 16) {
      const float32x4x4_t q = {{acc[r][0], acc[r][1], acc[r][2], acc[r][3]}};
      sb_neon_st4v(r ? out1 : out0, q);
    } else {
      dw_store(r ? out1 : out0, acc[r], n, V);
    }
  }
}

/* Copies the n data columns of a padded buffer row (the pad columns around them are never written and stay zero
 * from the initial memset). Short rows without loops: gcc would turn a loop into a memcpy call. */
static inline __attribute__((always_inline)) void dw_fill_row(float* dst, const float* src, int n) {
  if (n >= 16) {
    int i = 0;
    for (; i + 16 <= n; i += 16) sb_neon_st4v(dst + i, sb_neon_ld4v(src + i));
    if (i < n) sb_neon_st4v(dst + n - 16, sb_neon_ld4v(src + n - 16));
  } else if (n >= 4) {
    vst1q_f32(dst, vld1q_f32(src));
    if (n > 8) vst1q_f32(dst + 4, vld1q_f32(src + 4));
    if (n > 12) vst1q_f32(dst + 8, vld1q_f32(src + 8));
    vst1q_f32(dst + n - 4, vld1q_f32(src + n - 4));
  } else {
    for (int i = 0; i < n; i++) dst[i] = src[i];
  }
}

/* R output rows (out, out + out_w) from K + R - 1 padded rows: 16-pixel blocks, then one block of ceil(r / 4) vectors
 * for the r pixels left (7- and 14-wide rows: one 8- or 16-wide block); fewer than 4 left redo the last 4. */
static inline __attribute__((always_inline)) void dw_padded_rows(const float* const* in_rows,
                                                                 const float32x4_t wt[49], float32x4_t vb, float* out,
                                                                 int out_w, const sb_neon_act* na, const int K,
                                                                 const int S, const int R, const int CLAMP) {
  const float* rows[8];
  for (int i = 0; i < K + R - 1; i++) rows[i] = in_rows[i];
  float* out1 = out + out_w;
  int ox = 0;
  for (; ox + 16 <= out_w; ox += 16) dw_padded_block(rows, wt, vb, out + ox, out1 + ox, na, ox * S, 16, K, S, 4, R, CLAMP);
  const int left = out_w - ox;
  if (left > 12) {
    dw_padded_block(rows, wt, vb, out + ox, out1 + ox, na, ox * S, left, K, S, 4, R, CLAMP);
  } else if (left > 8) {
    dw_padded_block(rows, wt, vb, out + ox, out1 + ox, na, ox * S, left, K, S, 3, R, CLAMP);
  } else if (left > 4) {
    dw_padded_block(rows, wt, vb, out + ox, out1 + ox, na, ox * S, left, K, S, 2, R, CLAMP);
  } else if (left == 4) {
    dw_padded_block(rows, wt, vb, out + ox, out1 + ox, na, ox * S, 4, K, S, 1, R, CLAMP);
  } else if (left > 0 && out_w >= 4) {
    dw_padded_block(rows, wt, vb, out + out_w - 4, out1 + out_w - 4, na, (out_w - 4) * S, 4, K, S, 1, R, CLAMP);
  } else if (left > 0) {
    float tmp[2][4];
    dw_padded_block(rows, wt, vb, tmp[0], tmp[1], na, 0, 4, K, S, 1, R, CLAMP);
    for (int r = 0; r < R; r++)
      for (int i = 0; i < out_w; i++) out[r * out_w + i] = tmp[r][i];
  }
}

/* Output rows go in bands: the band's input rows are copied into the padded buffer (rows in the top/bottom padding
 * point at a zero row instead), then every row of the band runs without edge cases. Bands overlap by K - sh input
 * rows. */
static inline __attribute__((always_inline)) void dw_padded(const sb_conv_shape* s, const float* weights,
                                                            const float* bias, const float* input, float* output,
                                                            const sb_neon_act* na, size_t oy_begin, size_t oy_end,
                                                            const int wb, const int K, const int S, const int CLAMP) {
  float buf[DW_BUF_FLOATS];
  const int sh = s->stride_h, in_h = s->in_h, in_w = s->in_w, out_w = s->out_w;
  const int band_rows = (DW_BUF_FLOATS / wb - K - 1) / sh + 1; /* output rows per band, >= 1 (one row is zeros) */
  const int max_out = oy_end - oy_begin < (size_t)band_rows ? (int)(oy_end - oy_begin) : band_rows;
  const int max_in = (max_out - 1) * sh + K;
  memset(buf, 0, sizeof(float) * (size_t)(max_in + 1) * (size_t)wb);
  const float* zero_row = buf + (size_t)max_in * wb;
  const float* row_ptr[DW_BUF_FLOATS / 8];
  for (size_t c = 0; c < (size_t)s->out_c; c++) {
    const float* w = weights + c * K * K;
    const float32x4_t vb = vdupq_n_f32(bias ? bias[c] : 0.0f);
    float32x4_t wt[49]; /* taps broadcast: plain fmla, and no lane juggling across the 5-wide rows (7x7: spilled) */
#pragma GCC unroll 49
    for (int k = 0; k < K * K; k++) wt[k] = vld1q_dup_f32(w + k);
    const float* in = input + c * in_h * in_w;
    float* out_plane = output + c * s->out_h * out_w;
    for (size_t oy0 = oy_begin; oy0 < oy_end; oy0 += (size_t)band_rows) {
      const int n_out = oy_end - oy0 < (size_t)band_rows ? (int)(oy_end - oy0) : band_rows;
      const int iy_first = (int)oy0 * sh - s->pad_top;
      const int n_in = (n_out - 1) * sh + K;
      for (int r = 0; r < n_in; r++) {
        const int iy = iy_first + r;
        if (iy < 0 || iy >= in_h) {
          row_ptr[r] = zero_row;
        } else {
          dw_fill_row(buf + (size_t)r * wb + s->pad_left, in + (size_t)iy * in_w, in_w);
          row_ptr[r] = buf + (size_t)r * wb;
        }
      }
      int r = 0;
      if (K == 3 && S == 1 && sh == 1) /* two rows per pass share K - 1 loaded input rows */
        for (; r + 1 < n_out; r += 2)
          dw_padded_rows(row_ptr + r, wt, vb, out_plane + (oy0 + r) * out_w, out_w, na, K, S, 2, CLAMP);
      for (; r < n_out; r++)
        dw_padded_rows(row_ptr + r * sh, wt, vb, out_plane + (oy0 + r) * out_w, out_w, na, K, S, 1, CLAMP);
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
    const int wb = dw_padded_width(s, K, S);                                                                       \
    if (oy_begin >= oy_end) return;                                                                                \
    if (wb == 0) {                                                                                                 \
      dwconv_channels(s, weights, bias, input, output, act, oy_begin, oy_end, K, S);                               \
      return;                                                                                                      \
    }                                                                                                              \
    const sb_neon_act na = sb_neon_act_init(act);                                                                  \
    if (na.clamp_only) dw_padded(s, weights, bias, input, output, &na, oy_begin, oy_end, wb, K, S, 1);             \
    else dw_padded(s, weights, bias, input, output, &na, oy_begin, oy_end, wb, K, S, 0);                           \
  }

SB_DWCONV_NEON(3, 1)
SB_DWCONV_NEON(3, 2)
SB_DWCONV_NEON(5, 1)
SB_DWCONV_NEON(5, 2)
SB_DWCONV_NEON(7, 1) /* PP-OCRv6's large-kernel depthwise blocks: 47 % of its det model on the scalar kernel */
