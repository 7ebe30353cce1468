/* kernels_x86/f32-spconv/spconv.inc at the AVX2+FMA level (common/vec.h). */
#define SB_X86_LEVEL SB_X86_AVX2
#include "kernels_x86/common/vec.h"
#include <stdlib.h>

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "engine/kernels/f32-spconv/list.h"
#include "kernels_x86/f32-spconv/list.h"
#undef SB_UKERNEL

#include "kernels_x86/f32-spconv/spconv.inc"

void sb_f32_spconv_ukernel__avx2(const sb_conv_shape* s, const sb_sparse_weights* w, const float* input, float* output,
                               const sb_activation* act, size_t oy_begin, size_t oy_end) {
  spconv(s, w, input, output, act, oy_begin, oy_end);
}
