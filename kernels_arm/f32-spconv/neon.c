/* NEON f32-spconv: kernel-level group-sparse kxk conv (the stem included), G = 1, 2, 4, 8, stride 1 or 2,
 * dilation 1; other shapes go to the scalar reference. See kernels_arm/common/conv_rows.h. */
#include "kernels_arm/common/conv_rows.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-spconv/list.h"
#undef SB_UKERNEL

sb_f32_spconv_ukernel sb_f32_spconv_ukernel__scalar;

static inline __attribute__((always_inline)) void spconv_groups(const sb_conv_shape* s, const sb_sparse_weights* w, const float* input, float* output,
                          const sb_neon_act* na, size_t oy_begin, size_t oy_end, const int G, const int stride) {
  const size_t ks = (size_t)s->kh * s->kw, plane = (size_t)s->out_h * s->out_w;
  for (size_t g = 0; g < (size_t)w->num_groups; g++) {
    const size_t c0 = g * (size_t)G, begin = (size_t)w->group_start[g];
    const size_t valid = (size_t)s->out_c - c0 < (size_t)G ? (size_t)s->out_c - c0 : (size_t)G;
    const conv_rows_args a = {s, (size_t)w->group_start[g + 1] - begin, w->index + begin, 0,
                              w->values + begin * ks * (size_t)G, w->bias + c0, input, output + c0 * plane,
                              valid, na, oy_begin, oy_end};
    conv_rows(&a, G, stride);
  }
}

void sb_f32_spconv_ukernel__neon(const sb_conv_shape* s, const sb_sparse_weights* w, const float* input,
                                 float* output, const sb_activation* act, size_t oy_begin, size_t oy_end) {
  if (!conv_rows_supported(s)) {
    sb_f32_spconv_ukernel__scalar(s, w, input, output, act, oy_begin, oy_end);
    return;
  }
  const sb_neon_act na = sb_neon_act_init(act);
  const int s2 = s->stride_w == 2;
  switch (w->group) {
    case 1: s2 ? spconv_groups(s, w, input, output, &na, oy_begin, oy_end, 1, 2)
               : spconv_groups(s, w, input, output, &na, oy_begin, oy_end, 1, 1); break;
    case 2: s2 ? spconv_groups(s, w, input, output, &na, oy_begin, oy_end, 2, 2)
               : spconv_groups(s, w, input, output, &na, oy_begin, oy_end, 2, 1); break;
    case 4: s2 ? spconv_groups(s, w, input, output, &na, oy_begin, oy_end, 4, 2)
               : spconv_groups(s, w, input, output, &na, oy_begin, oy_end, 4, 1); break;
    case 8: s2 ? spconv_groups(s, w, input, output, &na, oy_begin, oy_end, 8, 2)
               : spconv_groups(s, w, input, output, &na, oy_begin, oy_end, 8, 1); break;
    default: sb_f32_spconv_ukernel__scalar(s, w, input, output, act, oy_begin, oy_end);
  }
}
