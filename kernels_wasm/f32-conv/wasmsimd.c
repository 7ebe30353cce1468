/* f32-conv on WASM SIMD128: dense conv with any kernel, stride, padding, dilation and groups. Within a group, output
 * channels go 4 at a time through the direct conv core (common/direct_conv.h: 4 channels x 4 pixels, each input
 * vector used 4 times), leftovers one at a time. */
#include "kernels_wasm/common/direct_conv.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_conv_ukernel__wasmsimd_4x4(const sb_conv_shape* s, const float* weights, const float* bias,
                                       const float* input, float* output, const sb_activation* act,
                                       size_t oy_begin, size_t oy_end) {
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
