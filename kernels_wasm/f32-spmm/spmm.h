/* The f32-spmm template for WASM SIMD128 (NCHW); kernels_wasm/f32-spmm/gen.py instantiates it per (G, pixel tile).
 * f32-spmm on WASM SIMD128 (NCHW): for each tile of pixels and each group of G output channels, G x tile
 * accumulators run over the group's kept input channels; each input vector is loaded once and used G times.
 * Remainders: smaller pixel tiles, then single pixels (vectorised over the group's lanes when G >= 4).
 * Lanes of a last, partial group (Cout not a multiple of G) are computed but never stored. */
#ifndef SB_WASM_SPMM_H
#define SB_WASM_SPMM_H

#include <wasm_simd128.h>

#include "kernels_wasm/common/wasm_act.h"

/* Activation epilogues, chosen once per call so the tile loop carries no switch: none, clip (ReLU/ReLU6: one
 * pmax + pmin with hoisted bounds), anything else through sb_wasm_activate. */
enum { SPMM_ACT_NONE, SPMM_ACT_CLIP, SPMM_ACT_OTHER };

SB_WASM_INLINE v128_t spmm_activate(const int mode, const sb_activation* act, v128_t lo, v128_t hi, v128_t x) {
  if (mode == SPMM_ACT_NONE) return x;
  if (mode == SPMM_ACT_CLIP) return sb_wasm_clamp(x, lo, hi);
  return sb_wasm_activate(act, x);
}

/* Pixels [p, p + 4*NV) of group g. G, NV and mode are compile-time constants at every call site. */
SB_WASM_INLINE void spmm_tile(const size_t G, const size_t NV, const int mode, const sb_sparse_weights* w, size_t g,
                              size_t lanes, size_t p, size_t plane_stride, const float* input, float* output,
                              const sb_activation* act, v128_t lo, v128_t hi) {
  const size_t begin = (size_t)w->group_start[g], end = (size_t)w->group_start[g + 1];
  const size_t wstride = (size_t)w->kernel_size * G;
  const float* vals = w->values + begin * wstride;
  const int32_t* idx = w->index + begin;
  v128_t acc[8][8]; /* G x NV used; fixed size so the unrolled loops keep them in registers */
  for (size_t l = 0; l < G; l++) {
    const v128_t b = wasm_f32x4_splat(l < lanes ? w->bias[g * G + l] : 0.0f);
    for (size_t v = 0; v < NV; v++) acc[l][v] = b;
  }
  for (size_t j = 0; j < end - begin; j++) {
    const float* in = input + (size_t)idx[j] * plane_stride + p;
    v128_t x[8];
    for (size_t v = 0; v < NV; v++) x[v] = wasm_v128_load(in + 4 * v);
    for (size_t l = 0; l < G; l++) {
      const v128_t wl = wasm_v128_load32_splat(vals + l);
      for (size_t v = 0; v < NV; v++) acc[l][v] = wasm_f32x4_add(acc[l][v], wasm_f32x4_mul(wl, x[v]));
    }
    vals += wstride;
  }
  /* Constant lane indices only (no early exit on lanes): a runtime index would pin acc[][] to the stack and put
   * G*NV stores in the inner loop. */
#pragma clang loop unroll(full)
  for (size_t l = 0; l < G; l++) {
    if (l < lanes) {
      float* out = output + (g * G + l) * plane_stride + p;
      for (size_t v = 0; v < NV; v++) wasm_v128_store(out + 4 * v, spmm_activate(mode, act, lo, hi, acc[l][v]));
    }
  }
}

/* One pixel of group g. For G >= 4 the accumulators hold the group's lanes; else scalar. */
SB_WASM_INLINE void spmm_pixel(const size_t G, const sb_sparse_weights* w, size_t g, size_t lanes, size_t p,
                               size_t plane_stride, const float* input, float* output, const sb_activation* act) {
  const size_t begin = (size_t)w->group_start[g], end = (size_t)w->group_start[g + 1];
  const size_t wstride = (size_t)w->kernel_size * G;
  const float* vals = w->values + begin * wstride;
  float lane_acc[8];
  for (size_t l = 0; l < G; l++) lane_acc[l] = l < lanes ? w->bias[g * G + l] : 0.0f;
  if (G >= 4) {
    v128_t acc[2];
    for (size_t v = 0; v < G / 4; v++) acc[v] = wasm_v128_load(lane_acc + 4 * v);
    for (size_t j = begin; j < end; j++) {
      const v128_t x = wasm_v128_load32_splat(input + (size_t)w->index[j] * plane_stride + p);
      for (size_t v = 0; v < G / 4; v++) acc[v] = wasm_f32x4_add(acc[v], wasm_f32x4_mul(wasm_v128_load(vals + 4 * v), x));
      vals += wstride;
    }
    for (size_t v = 0; v < G / 4; v++) wasm_v128_store(lane_acc + 4 * v, acc[v]);
  } else {
    for (size_t j = begin; j < end; j++) {
      const float x = input[(size_t)w->index[j] * plane_stride + p];
      for (size_t l = 0; l < G; l++) lane_acc[l] += vals[l] * x;
      vals += wstride;
    }
  }
  for (size_t l = 0; l < lanes; l++) output[(g * G + l) * plane_stride + p] = sb_wasm_activate1(act, lane_acc[l]);
}

/* Pixels are processed in blocks whose input columns (Cin x block floats) stay in cache while every group of
 * output channels sweeps them; without blocking each group re-streams the whole input from memory. */
#define SB_SPMM_BLOCK_FLOATS 16384

/* Pixels per block: whole tiles, at least one. */
static inline size_t spmm_block(const sb_sparse_weights* w, size_t tile) {
  const size_t block = SB_SPMM_BLOCK_FLOATS / ((size_t)w->in_channels + 1);
  return block < tile ? tile : block - block % tile;
}

SB_WASM_INLINE void spmm_mode(const size_t G, const size_t NV, const int mode, size_t pixels, size_t plane_stride,
                              const sb_sparse_weights* w, const float* input, float* output, const sb_activation* act) {
  const v128_t lo = wasm_f32x4_splat(act->p0), hi = wasm_f32x4_splat(act->p1);
  const size_t cout = (size_t)w->out_channels, tile = 4 * NV;
  const size_t block = spmm_block(w, tile);
  for (size_t p0 = 0; p0 < pixels; p0 += block) {
    const size_t p_end = pixels - p0 < block ? pixels : p0 + block;
    for (size_t g = 0; g < (size_t)w->num_groups; g++) {
      const size_t lanes = cout - g * G < G ? cout - g * G : G;
      size_t p = p0;
      for (; p + tile <= p_end; p += tile) spmm_tile(G, NV, mode, w, g, lanes, p, plane_stride, input, output, act, lo, hi);
      for (; p + 4 <= p_end; p += 4) spmm_tile(G, 1, mode, w, g, lanes, p, plane_stride, input, output, act, lo, hi);
      for (; p < p_end; p++) spmm_pixel(G, w, g, lanes, p, plane_stride, input, output, act);
    }
  }
}

/* G = 1 (unstructured sparsity: MediaPipe pose_detection's 38 1x1 convs): one output channel per pass over a tile of
 * 4*NV pixels, pointer increments only in the kept-input loop; after the full tiles one tile each of 16, 8, 4
 * pixels, then the last 4 pixels again (overlapping, recomputed to the same values) instead of a scalar tail.
 * NV = 7 (28 pixels): 7 accumulators + 7 loads + the weight fit V8's 15 allocatable xmm registers (V8 hoists a
 * block's loads above its arithmetic: 8 vectors spilled 2 accumulators to the stack in the loop). Pose in node,
 * per-op minimum of 15 interleaved runs: spmm 9.03 ms (28 pixels) vs 9.11 (24), 9.24 (16, this loop) and 9.58
 * (16 pixels, the G template's loop with index * stride addressing and a scalar tail). */
SB_WASM_INLINE void spmm1_tile(const size_t NV, const int mode, const float* vals, const int32_t* idx, size_t nnz,
                               float bias, const float* in_p, size_t plane_stride, float* out, const sb_activation* act,
                               v128_t lo, v128_t hi) {
  v128_t acc[8];
  const v128_t b = wasm_f32x4_splat(bias);
  for (size_t v = 0; v < NV; v++) acc[v] = b;
  for (; nnz != 0; nnz--) {
    const float* in = in_p + (size_t)*idx++ * plane_stride;
    const v128_t wv = wasm_v128_load32_splat(vals++);
    for (size_t v = 0; v < NV; v++) acc[v] = wasm_f32x4_add(acc[v], wasm_f32x4_mul(wasm_v128_load(in + 4 * v), wv));
  }
  for (size_t v = 0; v < NV; v++) wasm_v128_store(out + 4 * v, spmm_activate(mode, act, lo, hi, acc[v]));
}

SB_WASM_INLINE void spmm1_mode(const size_t NV, const int mode, size_t pixels, size_t plane_stride,
                               const sb_sparse_weights* w, const float* input, float* output, const sb_activation* act) {
  const v128_t lo = wasm_f32x4_splat(act->p0), hi = wasm_f32x4_splat(act->p1);
  const size_t cout = (size_t)w->out_channels, tile = 4 * NV;
  const size_t block = spmm_block(w, tile);
  for (size_t p0 = 0; p0 < pixels; p0 += block) {
    const size_t p_end = pixels - p0 < block ? pixels : p0 + block;
    /* group_start[] holds absolute offsets (a thread's slice of the channels starts past 0) */
    const float* vals = w->values + w->group_start[0];
    const int32_t* idx = w->index + w->group_start[0];
    for (size_t c = 0; c < cout; c++) {
      const size_t nnz = (size_t)(w->group_start[c + 1] - w->group_start[c]);
      const float bias = w->bias[c];
      float* out = output + c * plane_stride;
      size_t p = p0;
      for (; p + tile <= p_end; p += tile) spmm1_tile(NV, mode, vals, idx, nnz, bias, input + p, plane_stride, out + p, act, lo, hi);
      if (NV > 4 && p + 16 <= p_end) {
        spmm1_tile(NV > 4 ? 4 : 1, mode, vals, idx, nnz, bias, input + p, plane_stride, out + p, act, lo, hi);
        p += 16;
      }
      if (NV > 2 && p + 8 <= p_end) {
        spmm1_tile(NV > 2 ? 2 : 1, mode, vals, idx, nnz, bias, input + p, plane_stride, out + p, act, lo, hi);
        p += 8;
      }
      if (NV > 1 && p + 4 <= p_end) {
        spmm1_tile(1, mode, vals, idx, nnz, bias, input + p, plane_stride, out + p, act, lo, hi);
        p += 4;
      }
      if (p < p_end) {
        if (p_end >= 4) { /* the last 4 pixels again, overlapping: recomputed, the same values */
          spmm1_tile(1, mode, vals, idx, nnz, bias, input + p_end - 4, plane_stride, out + p_end - 4, act, lo, hi);
        } else {
          for (; p < p_end; p++) {
            float a = bias;
            for (size_t j = 0; j < nnz; j++) a += vals[j] * input[(size_t)idx[j] * plane_stride + p];
            out[p] = sb_wasm_activate1(act, a);
          }
        }
      }
      vals += nnz;
      idx += nnz;
    }
  }
}

SB_WASM_INLINE void spmm(const size_t G, const size_t NV, size_t pixels, size_t plane_stride, const sb_sparse_weights* w,
                         const float* input, float* output, const sb_activation* act) {
  if (G == 1 && w->kernel_size == 1) {
    if (act->kind == SB_ACT_NONE) spmm1_mode(NV, SPMM_ACT_NONE, pixels, plane_stride, w, input, output, act);
    else if (act->kind == SB_ACT_CLIP) spmm1_mode(NV, SPMM_ACT_CLIP, pixels, plane_stride, w, input, output, act);
    else spmm1_mode(NV, SPMM_ACT_OTHER, pixels, plane_stride, w, input, output, act);
    return;
  }
  if (act->kind == SB_ACT_NONE) spmm_mode(G, NV, SPMM_ACT_NONE, pixels, plane_stride, w, input, output, act);
  else if (act->kind == SB_ACT_CLIP) spmm_mode(G, NV, SPMM_ACT_CLIP, pixels, plane_stride, w, input, output, act);
  else spmm_mode(G, NV, SPMM_ACT_OTHER, pixels, plane_stride, w, input, output, act);
}

#endif /* SB_WASM_SPMM_H */
