/* Scalar reference for f32-softmax (see sb_kernels.h): libm expf, the sum in double (a float sum over a wide axis, a
 * CTC head's 18710 classes, drifts by ~1e-4 of the largest term). */
#include <math.h>

#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_softmax_ukernel__scalar(size_t rows, size_t len, const float* x, float* y) {
  for (size_t r = 0; r < rows; r++, x += len, y += len) {
    float max = x[0];
    for (size_t k = 1; k < len; k++) max = x[k] > max ? x[k] : max;
    double sum = 0.0;
    for (size_t k = 0; k < len; k++) {
      y[k] = expf(x[k] - max);
      sum += y[k];
    }
    const float scale = (float)(1.0 / sum);
    for (size_t k = 0; k < len; k++) y[k] *= scale;
  }
}
