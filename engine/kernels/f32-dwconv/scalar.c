/* Scalar reference for f32-dwconv: depthwise conv (groups == in_c == out_c), any kernel, stride, padding, dilation.
 * See sb_kernels.h. */
#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_dwconv_ukernel__scalar(const sb_conv_shape* s, const float* weights, const float* bias,
                                   const float* input, float* output, const sb_activation* act,
                                   size_t oy_begin, size_t oy_end) {
  for (int32_t c = 0; c < s->out_c; c++) {
    const float* w_c = weights + (size_t)c * s->kh * s->kw;
    const float* in_plane = input + (size_t)c * s->in_h * s->in_w;
    for (size_t oy = oy_begin; oy < oy_end; oy++) {
      for (int32_t ox = 0; ox < s->out_w; ox++) {
        float acc = bias != NULL ? bias[c] : 0.0f;
        for (int32_t ky = 0; ky < s->kh; ky++) {
          const int32_t iy = (int32_t)oy * s->stride_h - s->pad_top + ky * s->dil_h;
          if (iy < 0 || iy >= s->in_h) continue;
          for (int32_t kx = 0; kx < s->kw; kx++) {
            const int32_t ix = ox * s->stride_w - s->pad_left + kx * s->dil_w;
            if (ix < 0 || ix >= s->in_w) continue;
            acc += w_c[(size_t)ky * s->kw + kx] * in_plane[(size_t)iy * s->in_w + ix];
          }
        }
        output[((size_t)c * s->out_h + oy) * s->out_w + ox] = sb_activate(act, acc);
      }
    }
  }
}
