/* Scalar reference for f32-vbinary: elementwise add/mul of same-shape tensors (vadd, vmul) and with a per-channel
 * operand (vaddc, vmulc, vmaxc, vminc, vpreluc), with the fused activation. See sb_kernels.h. */
#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_vadd_ukernel__scalar(size_t n, const float* a, const float* b, float* y, const sb_activation* act) {
  for (size_t i = 0; i < n; i++) {
    y[i] = sb_activate(act, a[i] + b[i]);
  }
}

void sb_f32_vmul_ukernel__scalar(size_t n, const float* a, const float* b, float* y, const sb_activation* act) {
  for (size_t i = 0; i < n; i++) {
    y[i] = sb_activate(act, a[i] * b[i]);
  }
}

void sb_f32_vaddc_ukernel__scalar(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                  const sb_activation* act) {
  for (size_t c = 0; c < channels; c++) {
    for (size_t p = 0; p < pixels; p++) {
      y[c * pixels + p] = sb_activate(act, a[c * pixels + p] + b[c]);
    }
  }
}

void sb_f32_vmulc_ukernel__scalar(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                  const sb_activation* act) {
  for (size_t c = 0; c < channels; c++) {
    for (size_t p = 0; p < pixels; p++) {
      y[c * pixels + p] = sb_activate(act, a[c * pixels + p] * b[c]);
    }
  }
}

void sb_f32_vmaxc_ukernel__scalar(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                  const sb_activation* act) {
  for (size_t c = 0; c < channels; c++) {
    for (size_t p = 0; p < pixels; p++) {
      const float x = a[c * pixels + p];
      y[c * pixels + p] = sb_activate(act, x < b[c] ? b[c] : x);
    }
  }
}

void sb_f32_vminc_ukernel__scalar(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                  const sb_activation* act) {
  for (size_t c = 0; c < channels; c++) {
    for (size_t p = 0; p < pixels; p++) {
      const float x = a[c * pixels + p];
      y[c * pixels + p] = sb_activate(act, b[c] < x ? b[c] : x);
    }
  }
}

void sb_f32_vpreluc_ukernel__scalar(size_t channels, size_t pixels, const float* a, const float* b, float* y,
                                    const sb_activation* act) {
  for (size_t c = 0; c < channels; c++) {
    for (size_t p = 0; p < pixels; p++) {
      const float x = a[c * pixels + p];
      y[c * pixels + p] = sb_activate(act, x < 0.0f ? b[c] * x : x);
    }
  }
}
