/* Scalar reference for f32-gemm (dense 1x1 stride-1 conv / FC). See sb_kernels.h. */
#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_gemm_ukernel__scalar(size_t pixels, size_t plane_stride, size_t out_channels, size_t in_channels,
                                 const float* weights, const float* bias, const float* input, float* output,
                                 const sb_activation* act) {
  for (size_t c = 0; c < out_channels; c++) {
    const float* w_row = weights + c * in_channels;
    for (size_t p = 0; p < pixels; p++) {
      float acc = bias != NULL ? bias[c] : 0.0f;
      for (size_t i = 0; i < in_channels; i++) {
        acc += w_row[i] * input[i * plane_stride + p];
      }
      output[c * plane_stride + p] = sb_activate(act, acc);
    }
  }
}
