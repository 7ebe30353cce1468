/* Scalar reference for f32-spconv: kernel-level group-sparse conv (groups = 1), any kernel, stride, padding,
 * dilation, any G. See sb_kernels.h and docs/format.md ("Group-sparse weights"). */
#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_spconv_ukernel__scalar(const sb_conv_shape* s, const sb_sparse_weights* w, const float* input,
                                   float* output, const sb_activation* act, size_t oy_begin, size_t oy_end) {
  const size_t g_size = (size_t)w->group;
  const size_t kernel_size = (size_t)s->kh * s->kw;
  for (int32_t oc = 0; oc < s->out_c; oc++) {
    const size_t g = (size_t)oc / g_size;
    const size_t lane = (size_t)oc % g_size;
    const size_t begin = (size_t)w->group_start[g];
    const size_t end = (size_t)w->group_start[g + 1];
    for (size_t oy = oy_begin; oy < oy_end; oy++) {
      for (int32_t ox = 0; ox < s->out_w; ox++) {
        float acc = w->bias[oc];
        for (size_t j = begin; j < end; j++) {
          const float* in_plane = input + (size_t)w->index[j] * s->in_h * s->in_w;
          const float* w_j = w->values + j * kernel_size * g_size;
          for (int32_t ky = 0; ky < s->kh; ky++) {
            const int32_t iy = (int32_t)oy * s->stride_h - s->pad_top + ky * s->dil_h;
            if (iy < 0 || iy >= s->in_h) continue;
            for (int32_t kx = 0; kx < s->kw; kx++) {
              const int32_t ix = ox * s->stride_w - s->pad_left + kx * s->dil_w;
              if (ix < 0 || ix >= s->in_w) continue;
              const float weight = w_j[((size_t)ky * s->kw + kx) * g_size + lane];
              acc += weight * in_plane[(size_t)iy * s->in_w + ix];
            }
          }
        }
        output[((size_t)oc * s->out_h + oy) * s->out_w + ox] = sb_activate(act, acc);
      }
    }
  }
}
