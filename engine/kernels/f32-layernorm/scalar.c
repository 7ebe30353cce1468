/* Scalar reference for f32-layernorm (see sb_kernels.h): mean and variance in two passes, in double. */
#include <math.h>

#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_layernorm_ukernel__scalar(size_t rows, size_t len, const float* x, const float* scale, const float* bias,
                                      float eps, float* y) {
  for (size_t r = 0; r < rows; r++, x += len, y += len) {
    double sum = 0.0, sq = 0.0;
    for (size_t k = 0; k < len; k++) sum += x[k];
    const double mean = sum / (double)len;
    for (size_t k = 0; k < len; k++) sq += (x[k] - mean) * (x[k] - mean);
    const float mu = (float)mean, inv = (float)(1.0 / sqrt(sq / (double)len + (double)eps));
    for (size_t k = 0; k < len; k++) y[k] = (x[k] - mu) * inv * scale[k] + (bias ? bias[k] : 0.0f);
  }
}
