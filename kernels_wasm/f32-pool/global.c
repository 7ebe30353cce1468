/* Average pooling whose one output pixel's window covers the whole unpadded input (TFLite models write global means
 * as AVERAGE_POOL_2D: selfie_segmentation's squeeze-excite blocks, 16x16 to 128x128 planes): each plane's mean through
 * f32-gavgpool's vector sum. Every other shape goes to sb_f32_avgpool_ukernel__wasmsimd. A kernel of its own, not a
 * branch in that one: growing a kernel function has slowed its other paths in V8 (kernels_wasm/README.md). */
#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "kernels_wasm/f32-gavgpool/list.h"
#include "list.h"
#undef SB_UKERNEL

void sb_f32_avgpool_ukernel__wasmsimd_global(const sb_pool_shape* s, const float* input, float* output,
                                             size_t c_begin, size_t c_end) {
  /* the window [0, kh) x [0, kw) clipped to the input is all of it; with count_include_pad the divisor is the window
   * clipped to the padded input, the same without end padding */
  if (s->out_h == 1 && s->out_w == 1 && s->pad_top == 0 && s->pad_left == 0 && s->in_h > 0 && s->in_w > 0 &&
      s->kh >= s->in_h && s->kw >= s->in_w && (!s->count_include_pad || (s->pad_bottom == 0 && s->pad_right == 0))) {
    const size_t plane = (size_t)s->in_h * (size_t)s->in_w;
    sb_f32_gavgpool_ukernel__wasmsimd_x8(c_end - c_begin, plane, input + c_begin * plane, output + c_begin);
    return;
  }
  sb_f32_avgpool_ukernel__wasmsimd(s, input, output, c_begin, c_end);
}
