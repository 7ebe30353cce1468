/* Scalar reference for f32-maxpool and f32-avgpool: every output pixel through pool_pixel.h (its comment gives the
 * semantics; ONNX/onnxruntime/PyTorch's, count_include_pad past the end padding in ceil mode included). */
#include "f32-pool/pool_pixel.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

static void pool_planes(const sb_pool_shape* s, const float* input, float* output, size_t c_begin, size_t c_end,
                        int is_max) {
  for (size_t c = c_begin; c < c_end; c++) {
    const float* plane = input + c * s->in_h * s->in_w;
    float* out = output + c * s->out_h * s->out_w;
    for (int32_t oy = 0; oy < s->out_h; oy++, out += s->out_w) {
      int32_t y0, y1, py0, py1;
      sb_pool_clip(oy * s->stride_h - s->pad_top, s->kh, s->in_h, &y0, &y1);
      sb_pool_clip(oy * s->stride_h, s->kh, s->in_h + s->pad_top + s->pad_bottom, &py0, &py1);
      for (int32_t ox = 0; ox < s->out_w; ox++)
        out[ox] = is_max ? sb_pool_max_pixel(s, plane, y0, y1, ox) : sb_pool_avg_pixel(s, plane, y0, y1, py1 - py0, ox);
    }
  }
}

void sb_f32_maxpool_ukernel__scalar(const sb_pool_shape* s, const float* input, float* output, size_t c_begin,
                                    size_t c_end) {
  pool_planes(s, input, output, c_begin, c_end, 1);
}

void sb_f32_avgpool_ukernel__scalar(const sb_pool_shape* s, const float* input, float* output, size_t c_begin,
                                    size_t c_end) {
  pool_planes(s, input, output, c_begin, c_end, 0);
}
