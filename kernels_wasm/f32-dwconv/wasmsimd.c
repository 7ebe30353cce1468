/* f32-dwconv on WASM SIMD128. 3x3 and 5x5 kernels with stride 1 or 2 and channels a multiple of 4 go through
 * dwconv_c4 (4 channels interleaved, the _c4 kernels); the others through a zero-padded row ring (dwconv_fast,
 * 1-2 output rows x 4 pixels per step, no edge cases inside, stride-2 rows deinterleaved); everything else is a
 * one-lane direct conv per channel (common/direct_conv.h). The stride params of the list only steer dispatch: every
 * kernel here handles any shape. */
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

/* K x K depthwise, stride S (1 or 2), no dilation, through a zero-padded row ring: each input row the pass needs is
 * copied once per channel into a slot whose left/right padding stays zero, and rows above/below the input point at a
 * zero row, so the inner loop has no edge cases. R output rows per pass share the loaded input rows. The ring lives
 * on the stack; planes wider than it fall back to the generic core. */
#define SB_DW_RING 8          /* slots; a pass needs S*(R-1)+K <= 8 rows */
#define SB_DW_RING_FLOATS 4096
#ifndef SB_DW_ROWS
/* Output rows per pass: 3x3 s1 4 (6 slots; MediaPipe pose_detection in node, per-op minimum of 16 interleaved runs:
 * every 3x3 s1 layer 3-6 % faster than with 2, 56x56x144 0.526 vs 0.549 ms, 14x14x480 0.200 vs 0.211), 5x5 s1 2 (4
 * rows, 8 slots, was 1.4x slower there: 25 weight vectors and 4 accumulators spill), 3x3 s2 1, 5x5 s2 2 (7 slots:
 * its input rows are loaded once per 2 outputs). A pass over fewer rows than that at the bottom takes 2, then 1. */
#define SB_DW_ROWS(K, S) ((S) == 1 && (K) == 3 ? 4 : (S) == 1 || (K) == 5 ? 2 : 1)
#endif /* 16 KiB of slots, plus one zero row */

/* One pass: output rows [oy, oy + R) of a channel, x over whole vectors (the slots are wide enough).
 * Stride 2: a slot holds the padded row deinterleaved (even columns, then odd ones from `half` on), so tap kx of 4
 * outputs is one unaligned load (E or O at ox + kx/2), no shuffles in the inner loop. */
SB_WASM_INLINE void dw_pass(const size_t K, const size_t S, const size_t R, const float* const* rows, const v128_t* w,
                            v128_t vb, float* out, size_t out_w, size_t half, const sb_activation* act) {
  for (size_t ox = 0; ox < out_w; ox += 4) {
    v128_t acc[4];
    for (size_t r = 0; r < R; r++) acc[r] = vb;
    for (size_t i = 0; i < S * (R - 1) + K; i++) {
      const float* p = rows[i] + ox;
      for (size_t kx = 0; kx < K; kx++) {
        const v128_t x = S == 1 ? wasm_v128_load(p + kx) : wasm_v128_load(p + (kx & 1) * half + kx / 2);
        for (size_t r = 0; r < R; r++) {
          /* input row i feeds output row r through tap row ky = i - r*S */
          if (i >= r * S && i - r * S < K) acc[r] = wasm_f32x4_add(acc[r], wasm_f32x4_mul(w[(i - r * S) * K + kx], x));
        }
      }
    }
    for (size_t r = 0; r < R; r++) {
      const v128_t y = sb_wasm_activate(act, acc[r]);
      float* o = out + r * out_w + ox;
      if (ox + 4 <= out_w) {
        wasm_v128_store(o, y);
      } else {
        switch (out_w - ox) {
          case 3: wasm_v128_store64_lane(o, y, 0); wasm_v128_store32_lane(o + 2, y, 2); break;
          case 2: wasm_v128_store64_lane(o, y, 0); break;
          default: wasm_v128_store32_lane(o, y, 0); break;
        }
      }
    }
  }
}

/* Stride-1 pass over whole rows of at most 4*NV outputs: R rows x NV vectors of accumulators, taps outermost. Each
 * weight is splatted once per pass and used R*NV times, so the 25 splats of a 5x5 need no registers (dw_pass keeps
 * them all live across its row sweep and spills them); every input vector is one unaligned load per tap. */
SB_WASM_INLINE void dw_pass_taps(const size_t K, const size_t R, const size_t NV, const float* const* rows,
                                 const float* wc, v128_t vb, float* out, size_t out_w, const sb_activation* act) {
  v128_t acc[4][8];
  for (size_t r = 0; r < R; r++)
    for (size_t v = 0; v < NV; v++) acc[r][v] = vb;
  for (size_t ky = 0; ky < K; ky++) {
    for (size_t kx = 0; kx < K; kx++) {
      const v128_t wv = wasm_v128_load32_splat(wc + ky * K + kx);
      for (size_t r = 0; r < R; r++) {
        const float* p = rows[r + ky] + kx;
        for (size_t v = 0; v < NV; v++)
          acc[r][v] = wasm_f32x4_add(acc[r][v], wasm_f32x4_mul(wv, wasm_v128_load(p + 4 * v)));
      }
    }
  }
  for (size_t r = 0; r < R; r++) {
    float* o = out + r * out_w;
    for (size_t v = 0; v + 1 < NV; v++) wasm_v128_store(o + 4 * v, sb_wasm_activate(act, acc[r][v]));
    const v128_t y = sb_wasm_activate(act, acc[r][NV - 1]);
    o += 4 * (NV - 1);
    switch (out_w - 4 * (NV - 1)) {
      case 4: wasm_v128_store(o, y); break;
      case 3: wasm_v128_store64_lane(o, y, 0); wasm_v128_store32_lane(o + 2, y, 2); break;
      case 2: wasm_v128_store64_lane(o, y, 0); break;
      default: wasm_v128_store32_lane(o, y, 0); break;
    }
  }
}

/* NVT: 0 sweeps rows with dw_pass; else (stride 1) rows of 4*(NVT-1) < out_w <= 4*NVT go through dw_pass_taps, as
 * many rows per pass as keep R*NVT <= 8 accumulators and R-1+K <= 8 ring slots. */
#define SB_DW_TAPS_ROWS(K, NVT) ((NVT) <= 2 && (K) <= 5 ? 4 : (NVT) <= 4 && (K) <= 7 ? 2 : 1)
SB_WASM_INLINE void dwconv_fast(const size_t K, const size_t S, const size_t NVT, const sb_conv_shape* s,
                                const float* weights,
                                const float* bias, const float* input, float* output, const sb_activation* act,
                                size_t oy_begin, size_t oy_end) {
  const size_t in_h = (size_t)s->in_h, in_w = (size_t)s->in_w, out_w = (size_t)s->out_w;
  const size_t pad_left = s->pad_left > 0 ? (size_t)s->pad_left : 0;
  /* Slot width: the last (possibly partial) vector reads up to ((W4 - 4) * S + K - 1 + 4 * S - 1) inclusive. */
  const size_t w4 = (out_w + 3) & ~(size_t)3;
  const size_t width = ((w4 - 4) * S + K - 1 + 4 * S + 3) & ~(size_t)3;
  if (s->stride_w != (int32_t)S || s->stride_h != (int32_t)S || s->dil_h != 1 || s->dil_w != 1 ||
      s->kh != (int32_t)K || s->kw != (int32_t)K || s->pad_left < 0 || s->pad_top < 0 || pad_left >= width ||
      out_w == 0 || width * SB_DW_RING > SB_DW_RING_FLOATS) {
    dwconv((size_t)s->kh, (size_t)s->kw, s, weights, bias, input, output, act, oy_begin, oy_end);
    return;
  }
  float ring[SB_DW_RING_FLOATS + 512] __attribute__((aligned(16)));
  float* zero_row = ring + SB_DW_RING * width;
  for (size_t i = 0; i < (SB_DW_RING + 1) * width; i++) ring[i] = 0.0f;
  const size_t copy_w = in_w < width - pad_left ? in_w : width - pad_left; /* columns past the slot are never read */
  const size_t in_plane = in_h * in_w, out_plane = (size_t)s->out_h * out_w;
  const size_t RMAX = NVT == 0 ? SB_DW_ROWS(K, S) : SB_DW_TAPS_ROWS(K, NVT), half = width / 2;
  const int64_t pad_top = s->pad_top;
  for (size_t c = 0; c < (size_t)s->out_c; c++) {
    const float* wc = weights + c * K * K;
    v128_t w[25];
    for (size_t t = 0; t < K * K; t++) w[t] = wasm_f32x4_splat(wc[t]);
    const v128_t vb = wasm_f32x4_splat(bias != NULL ? bias[c] : 0.0f);
    const float* in_c = input + c * in_plane;
    float* out_c = output + c * out_plane;
    int64_t next_iy = 0; /* rows below next_iy (of this channel) are in the ring already */
    for (size_t oy = oy_begin; oy < oy_end; oy += RMAX) {
      const size_t R = oy_end - oy >= RMAX ? RMAX : 1;
      const int64_t iy_lo = (int64_t)oy * (int64_t)S - pad_top;
      const size_t nrows = S * ((oy_end - oy < RMAX ? oy_end - oy : RMAX) - 1) + K;
      const float* rows[SB_DW_RING];
      if (next_iy < iy_lo) next_iy = iy_lo;
      for (size_t i = 0; i < nrows; i++) {
        const int64_t iy = iy_lo + (int64_t)i;
        if (iy < 0 || iy >= (int64_t)in_h) {
          rows[i] = zero_row;
          continue;
        }
        float* slot = ring + ((size_t)iy % SB_DW_RING) * width;
        if (iy >= next_iy) {
          const float* src = in_c + (size_t)iy * in_w;
          float* dst = slot + pad_left; /* stride 1 */
          size_t x = 0;
          if (S == 1) {
            for (; x + 4 <= copy_w; x += 4) wasm_v128_store(dst + x, wasm_v128_load(src + x));
            for (; x < copy_w; x++) dst[x] = src[x];
          } else {
            /* padded column j = pad_left + x goes to slot[(j & 1) * half + j / 2] */
            float* ev = slot + (pad_left & 1) * half + (pad_left >> 1);       /* src columns 0, 2, 4, ... */
            float* od = slot + (~pad_left & 1) * half + ((pad_left + 1) >> 1); /* src columns 1, 3, 5, ... */
            for (; x + 8 <= copy_w; x += 8) {
              const v128_t a = wasm_v128_load(src + x), b = wasm_v128_load(src + x + 4);
              wasm_v128_store(ev + x / 2, wasm_i32x4_shuffle(a, b, 0, 2, 4, 6));
              wasm_v128_store(od + x / 2, wasm_i32x4_shuffle(a, b, 1, 3, 5, 7));
            }
            for (; x < copy_w; x++) slot[((pad_left + x) & 1) * half + (pad_left + x) / 2] = src[x];
          }
          next_iy = iy + 1;
        }
        rows[i] = slot;
      }
      float* out = out_c + oy * out_w;
      if (NVT != 0) {
        if (R == RMAX) {
          dw_pass_taps(K, RMAX, NVT, rows, wc, vb, out, out_w, act);
        } else {
          for (size_t r = 0; r < oy_end - oy; r++)
            dw_pass_taps(K, 1, NVT, rows + r, wc, vb, out + r * out_w, out_w, act);
        }
      } else if (R == RMAX) {
        dw_pass(K, S, RMAX, rows, w, vb, out, out_w, half, act);
      } else {
        size_t r = 0;
        if (RMAX > 2)
          for (; r + 2 <= oy_end - oy; r += 2) dw_pass(K, S, 2, rows + r * S, w, vb, out + r * out_w, out_w, half, act);
        for (; r < oy_end - oy; r++) dw_pass(K, S, 1, rows + r * S, w, vb, out + r * out_w, out_w, half, act);
      }
    }
  }
}

/* 4 channels interleaved (the _c4 kernels): NCHW rows of 7 or 14 pixels waste lanes and reload every tap's row, so each
 * group of 4 channels is transposed into a zero-padded [row][column][4 channels] buffer, every tap of NP output pixels
 * is one weight vector (the 4 channels' weight) times NP loads, and the [pixel][4] results are transposed back into
 * the 4 output planes (activation on the way). Taps in a loop (not unrolled: V8 hoists a block's loads above its
 * arithmetic, NP accumulators + NP loads + 1 weight must fit in 15 xmm registers). */
#define SB_DW_C4_IN_PIX 1024  /* padded input pixels of a strip (16 KiB; 28x28 plus a 5x5 border fits whole) */
#define SB_DW_C4_OUT_PIX 784  /* output pixels of a strip */

SB_WASM_INLINE void dw_c4_tile(const size_t S, const size_t NP, const size_t taps, const float* in, const int32_t* off,
                               const v128_t* wv, v128_t vb, float* ob) {
  v128_t acc[7];
  for (size_t p = 0; p < NP; p++) acc[p] = vb;
#pragma clang loop unroll(disable)
  for (size_t t = 0; t < taps; t++) {
    const float* r = in + off[t];
    const v128_t w = wv[t];
    for (size_t p = 0; p < NP; p++) acc[p] = wasm_f32x4_add(acc[p], wasm_f32x4_mul(wasm_v128_load(r + 4 * S * p), w));
  }
  for (size_t p = 0; p < NP; p++) wasm_v128_store(ob + 4 * p, acc[p]);
}

SB_WASM_INLINE void dw_transpose4(v128_t* a, v128_t* b, v128_t* c, v128_t* d) {
  const v128_t t0 = wasm_i32x4_shuffle(*a, *b, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(*a, *b, 2, 6, 3, 7);
  const v128_t t2 = wasm_i32x4_shuffle(*c, *d, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(*c, *d, 2, 6, 3, 7);
  *a = wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5);
  *b = wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7);
  *c = wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5);
  *d = wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7);
}

/* Output rows [y0, y1) of the 4 channels at c, whose rows the buffer holds from padded row y0 * S on. */
SB_WASM_INLINE void dw_c4_strip(const size_t K, const size_t S, const sb_conv_shape* s, size_t c, size_t pw,
                                const int32_t* off, const v128_t* wv, v128_t vb, const float* input, float* output,
                                const sb_activation* act, size_t y0, size_t y1, int zero_pads, float* buf,
                                float* obuf) {
  const size_t in_h = (size_t)s->in_h, in_w = (size_t)s->in_w, out_w = (size_t)s->out_w;
  const size_t pl = (size_t)s->pad_left, pt = (size_t)s->pad_top;
  const size_t span_w = (out_w - 1) * S + K, cols = in_w < span_w - pl ? in_w : span_w - pl;
  const size_t in_plane = in_h * in_w, out_plane = (size_t)s->out_h * out_w;
  const size_t r_lo = y0 * S, r_hi = (y1 - 1) * S + K;
  const float* s0 = input + c * in_plane;
  for (size_t r = r_lo; r < r_hi; r++) {
    float* d = buf + (r - r_lo) * pw * 4;
    if (r < pt || r - pt >= in_h) { /* a padding row: zero (an earlier strip may have left input there) */
      if (zero_pads)
        for (size_t i = 0; i < pw * 4; i += 4) wasm_v128_store(d + i, wasm_f32x4_splat(0.0f));
      continue;
    }
    /* columns outside [pl, pl + cols) are never written: they stay zero */
    const float* r0 = s0 + (r - pt) * in_w;
    const float *r1 = r0 + in_plane, *r2 = r1 + in_plane, *r3 = r2 + in_plane;
    d += pl * 4;
    size_t x = 0;
    for (; x + 4 <= cols; x += 4) {
      v128_t va = wasm_v128_load(r0 + x), vb1 = wasm_v128_load(r1 + x), vc = wasm_v128_load(r2 + x),
             vd = wasm_v128_load(r3 + x);
      dw_transpose4(&va, &vb1, &vc, &vd);
      wasm_v128_store(d + 4 * x, va);
      wasm_v128_store(d + 4 * x + 4, vb1);
      wasm_v128_store(d + 4 * x + 8, vc);
      wasm_v128_store(d + 4 * x + 12, vd);
    }
    for (; x < cols; x++) wasm_v128_store(d + 4 * x, wasm_f32x4_make(r0[x], r1[x], r2[x], r3[x]));
  }
  for (size_t oy = y0; oy < y1; oy++) {
    const float* row = buf + (oy * S - r_lo) * pw * 4;
    float* ob = obuf + (oy - y0) * out_w * 4;
    size_t ox = 0;
    for (; ox + 7 <= out_w; ox += 7) dw_c4_tile(S, 7, K * K, row + ox * S * 4, off, wv, vb, ob + ox * 4);
    if (ox + 4 <= out_w) {
      dw_c4_tile(S, 4, K * K, row + ox * S * 4, off, wv, vb, ob + ox * 4);
      ox += 4;
    }
    if (ox + 2 <= out_w) {
      dw_c4_tile(S, 2, K * K, row + ox * S * 4, off, wv, vb, ob + ox * 4);
      ox += 2;
    }
    if (ox < out_w) dw_c4_tile(S, 1, K * K, row + ox * S * 4, off, wv, vb, ob + ox * 4);
  }
  float* o0 = output + c * out_plane + y0 * out_w;
  float *o1 = o0 + out_plane, *o2 = o1 + out_plane, *o3 = o2 + out_plane;
  const size_t n = (y1 - y0) * out_w;
  size_t p = 0;
  for (; p + 4 <= n; p += 4) {
    v128_t a = sb_wasm_activate(act, wasm_v128_load(obuf + 4 * p));
    v128_t b = sb_wasm_activate(act, wasm_v128_load(obuf + 4 * p + 4));
    v128_t e = sb_wasm_activate(act, wasm_v128_load(obuf + 4 * p + 8));
    v128_t f = sb_wasm_activate(act, wasm_v128_load(obuf + 4 * p + 12));
    dw_transpose4(&a, &b, &e, &f);
    wasm_v128_store(o0 + p, a);
    wasm_v128_store(o1 + p, b);
    wasm_v128_store(o2 + p, e);
    wasm_v128_store(o3 + p, f);
  }
  for (; p < n; p++) {
    const v128_t y = sb_wasm_activate(act, wasm_v128_load(obuf + 4 * p));
    o0[p] = wasm_f32x4_extract_lane(y, 0);
    o1[p] = wasm_f32x4_extract_lane(y, 1);
    o2[p] = wasm_f32x4_extract_lane(y, 2);
    o3[p] = wasm_f32x4_extract_lane(y, 3);
  }
}

/* Returns 0 (nothing done) when the shape does not fit: channels not a multiple of 4, rows too wide for the buffers.
 * Taller planes go in strips of output rows whose padded input rows fit. */
SB_WASM_INLINE int dwconv_c4(const size_t K, const size_t S, const sb_conv_shape* s, const float* weights,
                             const float* bias, const float* input, float* output, const sb_activation* act,
                             size_t oy_begin, size_t oy_end) {
  const size_t in_w = (size_t)s->in_w, out_w = (size_t)s->out_w, C = (size_t)s->out_c;
  if (s->stride_w != (int32_t)S || s->stride_h != (int32_t)S || s->dil_h != 1 || s->dil_w != 1 ||
      s->kh != (int32_t)K || s->kw != (int32_t)K || s->pad_left < 0 || s->pad_top < 0 || C % 4 != 0 || out_w == 0 ||
      oy_end <= oy_begin)
    return 0;
  const size_t pl = (size_t)s->pad_left;
  const size_t span_w = (out_w - 1) * S + K;
  const size_t pw = span_w > in_w + pl ? span_w : in_w + pl;
  if (pl >= span_w || pw * K > SB_DW_C4_IN_PIX || out_w > SB_DW_C4_OUT_PIX) return 0;
  size_t R = (SB_DW_C4_IN_PIX / pw - K) / S + 1; /* output rows per strip */
  if (R * out_w > SB_DW_C4_OUT_PIX) R = SB_DW_C4_OUT_PIX / out_w;
  float buf[SB_DW_C4_IN_PIX * 4] __attribute__((aligned(16)));
  float obuf[SB_DW_C4_OUT_PIX * 4] __attribute__((aligned(16)));
  const int strips = oy_end - oy_begin > R; /* else the padding rows are never written: zeroed once */
  const size_t used = ((oy_end - oy_begin < R ? oy_end - oy_begin : R) - 1) * S + K;
  for (size_t i = 0; i < used * pw * 4; i += 4) wasm_v128_store(buf + i, wasm_f32x4_splat(0.0f));
  int32_t off[25];
  for (size_t t = 0; t < K * K; t++) off[t] = (int32_t)(((t / K) * pw + t % K) * 4);
  for (size_t c = 0; c < C; c += 4) {
    v128_t wv[25];
    const float* wc = weights + c * K * K;
    for (size_t t = 0; t < K * K; t++)
      wv[t] = wasm_f32x4_make(wc[t], wc[K * K + t], wc[2 * K * K + t], wc[3 * K * K + t]);
    const v128_t vb = bias != NULL ? wasm_v128_load(bias + c) : wasm_f32x4_splat(0.0f);
    for (size_t y0 = oy_begin; y0 < oy_end; y0 += R) {
      const size_t y1 = oy_end - y0 < R ? oy_end : y0 + R;
      dw_c4_strip(K, S, s, c, pw, off, wv, vb, input, output, act, y0, y1, strips, buf, obuf);
    }
  }
  return 1;
}


#define SB_DWCONV_KERNEL(name, K, S)                                                                           \
  void name(const sb_conv_shape* s, const float* weights, const float* bias, const float* input, float* output, \
            const sb_activation* act, size_t oy_begin, size_t oy_end) {                                         \
    dwconv_fast(K, S, 0, s, weights, bias, input, output, act, oy_begin, oy_end);                              \
  }

SB_DWCONV_KERNEL(sb_f32_dwconv_ukernel__wasmsimd_3x3s2, 3, 2)
SB_DWCONV_KERNEL(sb_f32_dwconv_ukernel__wasmsimd_5x5s2, 5, 2)

/* 3x3 s1 on small planes (out_w <= 4*NV): the channel's rows are copied once into a zero-padded plane buffer (whole
 * rows, no ring bookkeeping), then each output row of NV vectors takes its 9 taps straight from 3 padded rows with
 * the weights held in registers. MediaPipe pose_detection in node, per-op minimum of 16 interleaved runs vs the ring
 * (dwconv_fast): 14x14x480 0.174 vs 0.202 ms, 7x7x1152 0.142 vs 0.172, 14x14x192 0.067 vs 0.076. Routing these
 * rows through dw_pass_taps instead lost (7x7x1152 0.181). */
#define SB_DW_SMALL_ROWS 34
SB_WASM_INLINE void dwconv3x3s1_small(const size_t NV, const sb_conv_shape* s, const float* weights, const float* bias,
                                      const float* input, float* output, const sb_activation* act, size_t oy_begin,
                                      size_t oy_end) {
  const size_t in_h = (size_t)s->in_h, in_w = (size_t)s->in_w, out_w = (size_t)s->out_w, out_h = (size_t)s->out_h;
  const size_t width = 4 * NV + 4; /* the last vector reads columns up to 4*NV + 1 */
  if (s->stride_w != 1 || s->stride_h != 1 || s->dil_h != 1 || s->dil_w != 1 || s->kh != 3 || s->kw != 3 ||
      s->pad_left < 0 || s->pad_top < 0 || (size_t)s->pad_left > 2 || out_h + 2 > SB_DW_SMALL_ROWS ||
      out_w == 0 || out_w > 4 * NV) {
    dwconv_fast(3, 1, 0, s, weights, bias, input, output, act, oy_begin, oy_end);
    return;
  }
  float plane[SB_DW_SMALL_ROWS * 20] __attribute__((aligned(16)));
  for (size_t i = 0; i < (out_h + 2) * width; i++) plane[i] = 0.0f;
  const size_t pad_left = (size_t)s->pad_left, pad_top = (size_t)s->pad_top;
  const size_t copy_w = in_w < width - pad_left ? in_w : width - pad_left;
  /* padded rows [r_lo, r_hi) are read by output rows [oy_begin, oy_end) */
  const size_t r_lo = oy_begin > pad_top ? oy_begin : pad_top;
  size_t r_hi = oy_end + 2 < pad_top + in_h ? oy_end + 2 : pad_top + in_h;
  const size_t in_plane = in_h * in_w, out_plane = out_h * out_w;
  for (size_t c = 0; c < (size_t)s->out_c; c++) {
    const float* wc = weights + c * 9;
    const v128_t w0 = wasm_v128_load32_splat(wc), w1 = wasm_v128_load32_splat(wc + 1),
                 w2 = wasm_v128_load32_splat(wc + 2), w3 = wasm_v128_load32_splat(wc + 3),
                 w4 = wasm_v128_load32_splat(wc + 4), w5 = wasm_v128_load32_splat(wc + 5),
                 w6 = wasm_v128_load32_splat(wc + 6), w7 = wasm_v128_load32_splat(wc + 7),
                 w8 = wasm_v128_load32_splat(wc + 8);
    const v128_t vb = wasm_f32x4_splat(bias != NULL ? bias[c] : 0.0f);
    const float* in_c = input + c * in_plane;
    for (size_t r = r_lo; r < r_hi; r++) {
      const float* src = in_c + (r - pad_top) * in_w;
      float* dst = plane + r * width + pad_left;
      size_t x = 0;
      for (; x + 4 <= copy_w; x += 4) wasm_v128_store(dst + x, wasm_v128_load(src + x));
      for (; x < copy_w; x++) dst[x] = src[x];
    }
    float* out_c = output + c * out_plane;
    for (size_t oy = oy_begin; oy < oy_end; oy++) {
      const float* p0 = plane + oy * width;
      const float* p1 = p0 + width;
      const float* p2 = p1 + width;
      float* o = out_c + oy * out_w;
      for (size_t v = 0; v < NV; v++) {
        const size_t x = 4 * v;
        v128_t a = wasm_f32x4_add(vb, wasm_f32x4_mul(w0, wasm_v128_load(p0 + x)));
        v128_t b = wasm_f32x4_mul(w1, wasm_v128_load(p0 + x + 1));
        a = wasm_f32x4_add(a, wasm_f32x4_mul(w2, wasm_v128_load(p0 + x + 2)));
        b = wasm_f32x4_add(b, wasm_f32x4_mul(w3, wasm_v128_load(p1 + x)));
        a = wasm_f32x4_add(a, wasm_f32x4_mul(w4, wasm_v128_load(p1 + x + 1)));
        b = wasm_f32x4_add(b, wasm_f32x4_mul(w5, wasm_v128_load(p1 + x + 2)));
        a = wasm_f32x4_add(a, wasm_f32x4_mul(w6, wasm_v128_load(p2 + x)));
        b = wasm_f32x4_add(b, wasm_f32x4_mul(w7, wasm_v128_load(p2 + x + 1)));
        a = wasm_f32x4_add(a, wasm_f32x4_mul(w8, wasm_v128_load(p2 + x + 2)));
        const v128_t y = sb_wasm_activate(act, wasm_f32x4_add(a, b));
        if (v + 1 < NV || out_w == 4 * NV) {
          wasm_v128_store(o + x, y);
        } else {
          switch (out_w - x) {
            case 3: wasm_v128_store64_lane(o + x, y, 0); wasm_v128_store32_lane(o + x + 2, y, 2); break;
            case 2: wasm_v128_store64_lane(o + x, y, 0); break;
            default: wasm_v128_store32_lane(o + x, y, 0); break;
          }
        }
      }
    }
  }
}

void sb_f32_dwconv_ukernel__wasmsimd_3x3s1(const sb_conv_shape* s, const float* weights, const float* bias,
                                           const float* input, float* output, const sb_activation* act,
                                           size_t oy_begin, size_t oy_end) {
  switch ((s->out_w + 3) / 4) {
    case 1: dwconv3x3s1_small(1, s, weights, bias, input, output, act, oy_begin, oy_end); break;
    case 2: dwconv3x3s1_small(2, s, weights, bias, input, output, act, oy_begin, oy_end); break;
    case 4: dwconv3x3s1_small(4, s, weights, bias, input, output, act, oy_begin, oy_end); break;
    default: dwconv_fast(3, 1, 0, s, weights, bias, input, output, act, oy_begin, oy_end); break;
  }
}

/* 5x5 s1: rows of up to 32 outputs through dw_pass_taps (MediaPipe pose_detection in node, per-op minimum of 16
 * interleaved runs: 28x28x240 0.565 vs 0.691 ms, 14x14x672 0.568 vs 0.623, 7x7x1152 0.289 vs 0.326), wider rows
 * through dw_pass. The same pass lost for 3x3 s1 (14x14x480 0.257 vs 0.211: its 9 splats fit in registers anyway)
 * and for both stride-2 kernels (5x5 s2 56x56x144 0.649 vs 0.430), which keep dw_pass. */
void sb_f32_dwconv_ukernel__wasmsimd_5x5s1(const sb_conv_shape* s, const float* weights, const float* bias,
                                           const float* input, float* output, const sb_activation* act,
                                           size_t oy_begin, size_t oy_end) {
  switch ((s->out_w + 3) / 4) {
    case 1: dwconv_fast(5, 1, 1, s, weights, bias, input, output, act, oy_begin, oy_end); break;
    case 2: dwconv_fast(5, 1, 2, s, weights, bias, input, output, act, oy_begin, oy_end); break;
    case 3: dwconv_fast(5, 1, 3, s, weights, bias, input, output, act, oy_begin, oy_end); break;
    case 4: dwconv_fast(5, 1, 4, s, weights, bias, input, output, act, oy_begin, oy_end); break;
    case 7: dwconv_fast(5, 1, 7, s, weights, bias, input, output, act, oy_begin, oy_end); break;
    case 8: dwconv_fast(5, 1, 8, s, weights, bias, input, output, act, oy_begin, oy_end); break;
    default: dwconv_fast(5, 1, 0, s, weights, bias, input, output, act, oy_begin, oy_end); break;
  }
}

/* The small-plane kernels (kernels_wasm/config/wasmsimd.c sends planes of at most 196 output pixels here): dwconv_c4,
 * else (channels not a multiple of 4) the kernel of the same K and S. Separate kernels, not a branch in those: the
 * same path inside the 5x5 s1 kernel (even out of line) made its 28x28 layer 1.35x slower, which never takes it. */
#define SB_DWCONV_C4_KERNEL(K, S)                                                                               \
  void sb_f32_dwconv_ukernel__wasmsimd_##K##x##K##s##S##_c4(const sb_conv_shape* s, const float* weights,      \
                                                          const float* bias, const float* input, float* output, \
                                                          const sb_activation* act, size_t oy_begin,            \
                                                          size_t oy_end) {                                      \
    if (!dwconv_c4(K, S, s, weights, bias, input, output, act, oy_begin, oy_end))                               \
      sb_f32_dwconv_ukernel__wasmsimd_##K##x##K##s##S(s, weights, bias, input, output, act, oy_begin, oy_end);   \
  }
SB_DWCONV_C4_KERNEL(3, 1)
SB_DWCONV_C4_KERNEL(3, 2)
SB_DWCONV_C4_KERNEL(5, 1)
SB_DWCONV_C4_KERNEL(5, 2)

void sb_f32_dwconv_ukernel__wasmsimd_any(const sb_conv_shape* s, const float* weights, const float* bias,
                                         const float* input, float* output, const sb_activation* act,
                                         size_t oy_begin, size_t oy_end) {
  dwconv((size_t)s->kh, (size_t)s->kw, s, weights, bias, input, output, act, oy_begin, oy_end);
}
