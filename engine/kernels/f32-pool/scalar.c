/* Scalar reference for f32-maxpool and f32-avgpool. Windows are clipped to the input; padding never contributes to
 * a max. Average: sum over the clipped window divided by the clipped size, or with count_include_pad by the size of
 * the window clipped to the padded input (ONNX/onnxruntime/PyTorch: kh*kw except past the end padding in ceil mode).
 * A window with no input pixel (only possible with inconsistent shapes) gives 0. See sb_kernels.h. */
#include "sb_kernels.h"

#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "list.h"
#undef SB_UKERNEL

/* Clips the window [start, start + size) to [0, limit). */
static void clip_window(int32_t start, int32_t size, int32_t limit, int32_t* begin, int32_t* end) {
  *begin = start < 0 ? 0 : start;
  *end = start + size > limit ? limit : start + size;
}

void sb_f32_maxpool_ukernel__scalar(const sb_pool_shape* s, const float* input, float* output, size_t c_begin,
                                    size_t c_end) {
  for (size_t c = c_begin; c < c_end; c++) {
    const float* in_plane = input + c * s->in_h * s->in_w;
    float* out_plane = output + c * s->out_h * s->out_w;
    for (int32_t oy = 0; oy < s->out_h; oy++) {
      int32_t y0, y1;
      clip_window(oy * s->stride_h - s->pad_top, s->kh, s->in_h, &y0, &y1);
      for (int32_t ox = 0; ox < s->out_w; ox++) {
        int32_t x0, x1;
        clip_window(ox * s->stride_w - s->pad_left, s->kw, s->in_w, &x0, &x1);
        float best = -INFINITY;
        for (int32_t y = y0; y < y1; y++) {
          for (int32_t x = x0; x < x1; x++) {
            const float v = in_plane[(size_t)y * s->in_w + x];
            best = v > best ? v : best;
          }
        }
        out_plane[(size_t)oy * s->out_w + ox] = (y0 < y1 && x0 < x1) ? best : 0.0f;
      }
    }
  }
}

void sb_f32_avgpool_ukernel__scalar(const sb_pool_shape* s, const float* input, float* output, size_t c_begin,
                                    size_t c_end) {
  for (size_t c = c_begin; c < c_end; c++) {
    const float* in_plane = input + c * s->in_h * s->in_w;
    float* out_plane = output + c * s->out_h * s->out_w;
    for (int32_t oy = 0; oy < s->out_h; oy++) {
      int32_t y0, y1;
      clip_window(oy * s->stride_h - s->pad_top, s->kh, s->in_h, &y0, &y1);
      for (int32_t ox = 0; ox < s->out_w; ox++) {
        int32_t x0, x1;
        clip_window(ox * s->stride_w - s->pad_left, s->kw, s->in_w, &x0, &x1);
        float sum = 0.0f;
        int32_t count = 0;
        for (int32_t y = y0; y < y1; y++) {
          for (int32_t x = x0; x < x1; x++) {
            sum += in_plane[(size_t)y * s->in_w + x];
            count++;
          }
        }
        int32_t divisor = count;
        if (s->count_include_pad) { /* the window clipped to the padded input, in padded coordinates */
          int32_t py0, py1, px0, px1;
          clip_window(oy * s->stride_h, s->kh, s->in_h + s->pad_top + s->pad_bottom, &py0, &py1);
          clip_window(ox * s->stride_w, s->kw, s->in_w + s->pad_left + s->pad_right, &px0, &px1);
          divisor = (py1 - py0) * (px1 - px0);
        }
        out_plane[(size_t)oy * s->out_w + ox] = count > 0 ? sum / (float)divisor : 0.0f;
      }
    }
  }
}
