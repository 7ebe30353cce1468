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

#define SB_DWCONV_KERNEL(name, K)                                                                              \
  void name(const sb_conv_shape* s, const float* weights, const float* bias, const float* input, float* output, \
            const sb_activation* act, size_t oy_begin, size_t oy_end) {                                         \
    dwconv(K, K, s, weights, bias, input, output, act, oy_begin, oy_end);                                      \
  }

SB_DWCONV_KERNEL(sb_f32_dwconv_ukernel__wasmsimd_3x3s1, 3)
SB_DWCONV_KERNEL(sb_f32_dwconv_ukernel__wasmsimd_3x3s2, 3)
SB_DWCONV_KERNEL(sb_f32_dwconv_ukernel__wasmsimd_5x5s1, 5)
SB_DWCONV_KERNEL(sb_f32_dwconv_ukernel__wasmsimd_5x5s2, 5)

void sb_f32_dwconv_ukernel__wasmsimd_any(const sb_conv_shape* s, const float* weights, const float* bias,
                                         const float* input, float* output, const sb_activation* act,
                                         size_t oy_begin, size_t oy_end) {
  dwconv((size_t)s->kh, (size_t)s->kw, s, weights, bias, input, output, act, oy_begin, oy_end);
}
