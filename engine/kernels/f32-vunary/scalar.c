/* Scalar reference for f32-vunary: the activation alone (vact) and a per-channel affine map (affine).
 * See sb_kernels.h. */
#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_vact_ukernel__scalar(size_t n, const float* x, float* y, const sb_activation* act) {
  for (size_t i = 0; i < n; i++) {
    y[i] = sb_activate(act, x[i]);
  }
}

void sb_f32_affine_ukernel__scalar(size_t channels, size_t pixels, const float* x, const float* scale,
                                   const float* shift, float* y, const sb_activation* act) {
  for (size_t c = 0; c < channels; c++) {
    for (size_t p = 0; p < pixels; p++) {
      y[c * pixels + p] = sb_activate(act, x[c * pixels + p] * scale[c] + shift[c]);
    }
  }
}
