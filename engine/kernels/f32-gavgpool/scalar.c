/* Scalar reference for f32-gavgpool: output[c] = mean of plane c (0 for an empty plane). See sb_kernels.h. */
#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_gavgpool_ukernel__scalar(size_t channels, size_t pixels, const float* input, float* output) {
  for (size_t c = 0; c < channels; c++) {
    double sum = 0.0;  /* a float sum drifts ~5e-6 over a 12x80 plane (PP-OCR's squeeze-excite means) */
    for (size_t p = 0; p < pixels; p++) {
      sum += input[c * pixels + p];
    }
    output[c] = pixels > 0 ? (float)sum / (float)pixels : 0.0f;
  }
}
