/* Scalar reference for f32-transpose (the oracle of the SIMD kernels): output rows one by one, each read with the
 * input's row stride. See sb_kernels.h. */
#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

void sb_f32_transpose_ukernel__scalar(size_t a_count, size_t b_count, const float* input, size_t in_stride,
                                      float* output, size_t out_stride) {
  for (size_t a = 0; a < a_count; a++) {
    float* dst = output + a * out_stride;
    for (size_t b = 0; b < b_count; b++) dst[b] = input[b * in_stride + a];
  }
}
