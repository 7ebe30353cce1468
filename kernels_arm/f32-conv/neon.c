/* NEON f32-conv: dense conv (any groups), stride 1 or 2, dilation 1. Weights of 4 output channels at a time are
 * packed into the G = 4 vector layout on the stack and run through the row-vectorised core shared with spconv
 * (kernels_arm/common/conv_rows.h). Other shapes, and groups too wide to pack, use the scalar reference. */
#include "kernels_arm/common/conv_rows.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_arm/f32-conv/list.h"
#undef SB_UKERNEL

sb_f32_conv_ukernel sb_f32_conv_ukernel__scalar;

#define PACK_FLOATS 8192 /* 32 KiB: in_c/groups * kh * kw * 4 must fit */

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

void sb_f32_conv_ukernel__neon(const sb_conv_shape* s, const float* weights, const float* bias, const float* input,
                               float* output, const sb_activation* act, size_t oy_begin, size_t oy_end) {
  if (!conv_rows_supported(s) || (size_t)(s->in_c / s->groups) * s->kh * s->kw * 4 > PACK_FLOATS) {
    sb_f32_conv_ukernel__scalar(s, weights, bias, input, output, act, oy_begin, oy_end);
    return;
  }
  const sb_neon_act na = sb_neon_act_init(act);
  if (s->stride_w == 2) conv_tiles(s, weights, bias, input, output, &na, oy_begin, oy_end, 2);
  else conv_tiles(s, weights, bias, input, output, &na, oy_begin, oy_end, 1);
}
