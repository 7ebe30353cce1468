/* f32-conv on WASM SIMD128: dense conv with any kernel, stride, padding, dilation and groups. Within a group, output
 * channels go 4 at a time through the direct conv core (common/direct_conv.h: 4 channels x 4 pixels, each input
 * vector used 4 times), leftovers one at a time. */
#include "kernels_wasm/common/direct_conv.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

/* 3x3 stride-2 dense conv with few input channels (the stem): per output row, the 3 * in_c input rows it reads are
 * copied once into a zero-padded stack buffer, then every 4 output channels sweep it 8 pixels at a time with no edge
 * cases (even lanes of two loads give 4 stride-2 pixels). Returns 0 (nothing done) when the shape does not fit. */
#define SB_CONV_ROWS_FLOATS 6144

static int conv3x3s2_rows(const sb_conv_shape* s, const float* weights, const float* bias, const float* input,
                          float* output, const sb_activation* act, size_t oy_begin, size_t oy_end) {
  const size_t in_c = (size_t)s->in_c, in_h = (size_t)s->in_h, in_w = (size_t)s->in_w, out_w = (size_t)s->out_w;
  const size_t out_c = (size_t)s->out_c;
  if (s->groups != 1 || s->kh != 3 || s->kw != 3 || s->stride_h != 2 || s->stride_w != 2 || s->dil_h != 1 ||
      s->dil_w != 1 || s->pad_left < 0 || s->pad_top < 0 || s->pad_left > 2 || out_w == 0 || out_c % 4 != 0) {
    return 0;
  }
  const size_t pad_left = (size_t)s->pad_left;
  const size_t w8 = (out_w + 7) & ~(size_t)7;
  const size_t width = (w8 - 8) * 2 + 2 + 16 + 4; /* last step reads 16 floats from 2 * (w8 - 8) + kx */
  if (in_c * 3 * width > SB_CONV_ROWS_FLOATS) return 0;
  float buf[SB_CONV_ROWS_FLOATS] __attribute__((aligned(16)));
  const size_t copy_w = in_w < width - pad_left ? in_w : width - pad_left;
  const size_t in_plane = in_h * in_w, out_plane = (size_t)s->out_h * out_w, taps = in_c * 9;
  for (size_t oy = oy_begin; oy < oy_end; oy++) {
    const int64_t iy0 = (int64_t)oy * 2 - s->pad_top;
    for (size_t r = 0; r < in_c * 3; r++) {
      float* row = buf + r * width;
      const int64_t iy = iy0 + (int64_t)(r % 3);
      for (size_t x = 0; x < width; x++) row[x] = 0.0f;
      if (iy < 0 || iy >= (int64_t)in_h) continue;
      const float* src = input + (r / 3) * in_plane + (size_t)iy * in_w;
      for (size_t x = 0; x < copy_w; x++) row[pad_left + x] = src[x];
    }
    for (size_t oc = 0; oc < out_c; oc += 4) {
      const float* wo = weights + oc * taps;
      const v128_t b0 = wasm_f32x4_splat(bias != NULL ? bias[oc] : 0.0f);
      const v128_t b1 = wasm_f32x4_splat(bias != NULL ? bias[oc + 1] : 0.0f);
      const v128_t b2 = wasm_f32x4_splat(bias != NULL ? bias[oc + 2] : 0.0f);
      const v128_t b3 = wasm_f32x4_splat(bias != NULL ? bias[oc + 3] : 0.0f);
      float* out = output + oc * out_plane + oy * out_w;
      for (size_t ox = 0; ox < out_w; ox += 8) {
        v128_t acc[4][2] = {{b0, b0}, {b1, b1}, {b2, b2}, {b3, b3}};
        for (size_t t = 0; t < taps; t += 3) { /* t / 3 = input row of the buffer */
          const float* p = buf + (t / 3) * width + 2 * ox;
          for (size_t kx = 0; kx < 3; kx++) {
            const v128_t x0 = wasm_i32x4_shuffle(wasm_v128_load(p + kx), wasm_v128_load(p + kx + 4), 0, 2, 4, 6);
            const v128_t x1 = wasm_i32x4_shuffle(wasm_v128_load(p + kx + 8), wasm_v128_load(p + kx + 12), 0, 2, 4, 6);
            for (size_t l = 0; l < 4; l++) {
              const v128_t wl = wasm_v128_load32_splat(wo + l * taps + t + kx);
              acc[l][0] = wasm_f32x4_add(acc[l][0], wasm_f32x4_mul(wl, x0));
              acc[l][1] = wasm_f32x4_add(acc[l][1], wasm_f32x4_mul(wl, x1));
            }
          }
        }
        for (size_t l = 0; l < 4; l++) {
          float* o = out + l * out_plane + ox;
          if (ox + 8 <= out_w) {
            wasm_v128_store(o, sb_wasm_activate(act, acc[l][0]));
            wasm_v128_store(o + 4, sb_wasm_activate(act, acc[l][1]));
          } else {
            float tmp[8];
            wasm_v128_store(tmp, sb_wasm_activate(act, acc[l][0]));
            wasm_v128_store(tmp + 4, sb_wasm_activate(act, acc[l][1]));
            for (size_t i = 0; i < out_w - ox; i++) o[i] = tmp[i];
          }
        }
      }
    }
  }
  return 1;
}

void sb_f32_conv_ukernel__wasmsimd_4x4(const sb_conv_shape* s, const float* weights, const float* bias,
                                       const float* input, float* output, const sb_activation* act,
                                       size_t oy_begin, size_t oy_end) {
  if (conv3x3s2_rows(s, weights, bias, input, output, act, oy_begin, oy_end)) return;
  const size_t groups = (size_t)s->groups, kk = (size_t)s->kh * s->kw;
  const size_t ipg = (size_t)s->in_c / groups, opg = (size_t)s->out_c / groups;
  const size_t in_plane = (size_t)s->in_h * s->in_w, out_plane = (size_t)s->out_h * s->out_w;
  for (size_t g = 0; g < groups; g++) {
    size_t oc = g * opg;
    const size_t oc_end = oc + opg;
    for (; oc < oc_end; oc += 4 <= oc_end - oc ? 4 : 1) {
      const size_t lanes = 4 <= oc_end - oc ? 4 : 1;
      float b[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      for (size_t l = 0; l < lanes; l++) b[l] = bias != NULL ? bias[oc + l] : 0.0f;
      const direct_conv_args a = {.s = s, .input = input + g * ipg * in_plane, .index = NULL, .sources = ipg,
                                  .weights = weights + oc * ipg * kk, .jstride = kk, .tstride = 1,
                                  .lstride = ipg * kk, .bias = b, .output = output + oc * out_plane,
                                  .lanes = lanes, .act = act};
      if (lanes == 4) {
        direct_conv_rows(4, (size_t)s->kh, (size_t)s->kw, &a, oy_begin, oy_end);
      } else {
        direct_conv_rows(1, (size_t)s->kh, (size_t)s->kw, &a, oy_begin, oy_end);
      }
    }
  }
}
