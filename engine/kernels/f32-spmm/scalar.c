/* Scalar reference for f32-spmm (group-sparse 1x1 stride-1 conv / FC), any G. See sb_kernels.h. */
#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_spmm_ukernel__scalar(size_t pixels, size_t plane_stride, const sb_sparse_weights* w,
                                 const float* input, float* output, const sb_activation* act) {
  const size_t g_size = (size_t)w->group;
  const size_t kernel_size = (size_t)w->kernel_size;
  for (size_t c = 0; c < (size_t)w->out_channels; c++) {
    const size_t g = c / g_size;
    const size_t lane = c % g_size;
    const size_t begin = (size_t)w->group_start[g];
    const size_t end = (size_t)w->group_start[g + 1];
    float* out_plane = output + c * plane_stride;
    for (size_t p = 0; p < pixels; p++) {
      float acc = w->bias[c];
      for (size_t j = begin; j < end; j++) {
        const float weight = w->values[j * kernel_size * g_size + lane];
        acc += weight * input[(size_t)w->index[j] * plane_stride + p];
      }
      out_plane[p] = sb_activate(act, acc);
    }
  }
}
