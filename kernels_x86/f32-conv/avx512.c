/* kernels_x86/f32-conv/conv.inc at the AVX-512F level (common/vec.h). */
#define SB_X86_LEVEL SB_X86_AVX512
#include "kernels_x86/common/vec.h"
#include <stdlib.h>

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "engine/kernels/f32-conv/list.h"
#include "kernels_x86/f32-conv/list.h"
#undef SB_UKERNEL

#include "kernels_x86/f32-conv/conv.inc"

void sb_f32_conv_ukernel__avx512(const sb_conv_shape* s, const float* weights, const float* bias, const float* input,
                             float* output, const sb_activation* act, size_t oy_begin, size_t oy_end) {
  conv(s, weights, bias, input, output, act, oy_begin, oy_end);
}
