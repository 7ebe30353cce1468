/* f32-spconv on WASM SIMD128: kernel-level group-sparse conv. Each group of G output channels runs the direct conv
 * core (common/direct_conv.h) over its kept input channels only, G lanes x 4 pixels, each input vector used G times.
 * Lanes of a last, partial group are computed (their weights are zero) but never stored. */
#include "kernels_wasm/common/direct_conv.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

SB_WASM_INLINE void spconv_group(const size_t G, const size_t KH, const size_t KW, const direct_conv_args* a,
                                 size_t oy_begin, size_t oy_end) {
  direct_conv_rows(G, KH, KW, a, oy_begin, oy_end);
}

SB_WASM_INLINE void spconv(const size_t KH, const size_t KW, const sb_conv_shape* s, const sb_sparse_weights* w,
                           const float* input, float* output, const sb_activation* act, size_t oy_begin,
                           size_t oy_end) {
  const size_t G = (size_t)w->group, kk = KH * KW, cout = (size_t)s->out_c;
  const size_t out_plane = (size_t)s->out_h * s->out_w;
  for (size_t g = 0; g < (size_t)w->num_groups; g++) {
    const size_t begin = (size_t)w->group_start[g], end = (size_t)w->group_start[g + 1];
    const size_t lanes = cout - g * G < G ? cout - g * G : G;
    float b[8] = {0};
    for (size_t l = 0; l < lanes; l++) b[l] = w->bias[g * G + l];
    const direct_conv_args a = {.s = s, .input = input, .index = w->index + begin, .sources = end - begin,
                                .weights = w->values + begin * kk * G, .jstride = kk * G, .tstride = G, .lstride = 1,
                                .bias = b, .output = output + g * G * out_plane, .lanes = lanes, .act = act};
    switch (G) {
      case 1: spconv_group(1, KH, KW, &a, oy_begin, oy_end); break;
      case 2: spconv_group(2, KH, KW, &a, oy_begin, oy_end); break;
      case 4: spconv_group(4, KH, KW, &a, oy_begin, oy_end); break;
      case 8: spconv_group(8, KH, KW, &a, oy_begin, oy_end); break;
      default: /* not a valid G (the loader refuses it); still correct, one lane at a time */
        for (size_t l = 0; l < lanes; l++) {
          direct_conv_args one = a;
          one.weights += l;
          one.bias += l;
          one.output += l * out_plane;
          one.lanes = 1;
          spconv_group(1, KH, KW, &one, oy_begin, oy_end);
        }
    }
  }
}

/* Kernel size at run time: a compile-time 3x3 instance was slower on the stem in node (benchmarks/kernels: 0.255
 * vs 0.198 ns/MAC) and was deleted. */
void sb_f32_spconv_ukernel__wasmsimd_any(const sb_conv_shape* s, const sb_sparse_weights* w, const float* input,
                                         float* output, const sb_activation* act, size_t oy_begin, size_t oy_end) {
  spconv((size_t)s->kh, (size_t)s->kw, s, w, input, output, act, oy_begin, oy_end);
}
