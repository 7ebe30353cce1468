/* Tests for f32-maxpool, f32-avgpool and f32-gavgpool. */
#include <math.h>
#include <stdlib.h>

#include "oracle.h"

typedef struct pool_case {
  int32_t channels, in_h, in_w, kh, kw, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right;
  int32_t ceil_mode, count_include_pad;
} pool_case;

static int32_t pool_out_size(int32_t in, int32_t k, int32_t stride, int32_t pad_begin, int32_t pad_end, int ceil_mode) {
  const int32_t span = in + pad_begin + pad_end - k;
  int32_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  /* As PyTorch and ONNX: the last window of ceil mode must start inside the input or the leading padding. */
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) out--;
  return out;
}

static sb_pool_shape pool_case_shape(const pool_case* pc) {
  sb_pool_shape s;
  s.channels = pc->channels, s.in_h = pc->in_h, s.in_w = pc->in_w;
  s.kh = pc->kh, s.kw = pc->kw, s.stride_h = pc->stride_h, s.stride_w = pc->stride_w;
  s.pad_top = pc->pad_top, s.pad_left = pc->pad_left, s.count_include_pad = pc->count_include_pad;
  s.pad_bottom = pc->pad_bottom, s.pad_right = pc->pad_right;
  s.out_h = pool_out_size(pc->in_h, pc->kh, pc->stride_h, pc->pad_top, pc->pad_bottom, pc->ceil_mode);
  s.out_w = pool_out_size(pc->in_w, pc->kw, pc->stride_w, pc->pad_left, pc->pad_right, pc->ceil_mode);
  return s;
}

/* ref/mag [channels][out_h][out_w]; windows clipped to the input, per docs/format.md. */
static void oracle_pool(const sb_pool_shape* s, int is_max, const float* input, double* ref, double* mag) {
  for (int32_t c = 0; c < s->channels; c++) {
    for (int32_t oy = 0; oy < s->out_h; oy++) {
      for (int32_t ox = 0; ox < s->out_w; ox++) {
        double best = -INFINITY, sum = 0.0, abs_sum = 0.0;
        int32_t count = 0, padded_count = 0;
        for (int32_t ky = 0; ky < s->kh; ky++) {
          for (int32_t kx = 0; kx < s->kw; kx++) {
            const int32_t y = oy * s->stride_h - s->pad_top + ky;
            const int32_t x = ox * s->stride_w - s->pad_left + kx;
            /* count_include_pad counts window positions inside the padded input (ONNX, onnxruntime, PyTorch). */
            if (y < s->in_h + s->pad_bottom && x < s->in_w + s->pad_right) padded_count++;
            if (y < 0 || x < 0 || y >= s->in_h || x >= s->in_w) continue;
            const double v = input[((size_t)c * s->in_h + y) * s->in_w + x];
            best = fmax(best, v);
            sum += v;
            abs_sum += fabs(v);
            count++;
          }
        }
        const size_t o = ((size_t)c * s->out_h + oy) * s->out_w + ox;
        if (count == 0) {
          ref[o] = 0.0, mag[o] = 0.0;
        } else if (is_max) {
          ref[o] = best, mag[o] = fabs(best);
        } else {
          const double divisor = s->count_include_pad ? (double)padded_count : (double)count;
          ref[o] = sum / divisor, mag[o] = abs_sum / divisor;
        }
      }
    }
  }
}

static void run_pool_case(const sb_kernel_entry* e, checker* c, rng* r, const sb_pool_shape* s, int is_max,
                          int split_mode) {
  sb_f32_pool_ukernel* fn = (sb_f32_pool_ukernel*)e->fn;
  const sb_activation none = {SB_ACT_NONE, 0.0f, 0.0f};
  const size_t plane = (size_t)s->out_h * s->out_w;
  const size_t in_size = (size_t)s->channels * s->in_h * s->in_w, out_size = (size_t)s->channels * plane;
  float* input = xmalloc(in_size * sizeof(float));
  rng_fill(r, input, in_size, -4.0f, 1.0f); /* mostly negative: a padding zero must never win a max */
  float* output = alloc_output(out_size);
  double* ref = xmalloc(out_size * sizeof(double));
  double* mag = xmalloc(out_size * sizeof(double));
  /* Planes: all in one call, in two calls, or a sub-range (others untouched). */
  size_t c_begin = 0, c_end = (size_t)s->channels, c_split = c_end;
  if (split_mode == 1) c_split = (size_t)rng_int(r, 0, s->channels);
  if (split_mode == 2) {
    c_begin = (size_t)rng_int(r, 0, s->channels);
    c_end = (size_t)rng_int(r, (int)c_begin, s->channels);
    c_split = c_end;
  }

  check_begin_case(c, "C %d in %dx%d out %dx%d k %dx%d s %d,%d pad %d,%d count_include_pad %d planes %zu-%zu (%s)",
                   s->channels, s->in_h, s->in_w, s->out_h, s->out_w, s->kh, s->kw, s->stride_h, s->stride_w,
                   s->pad_top, s->pad_left, s->count_include_pad, c_begin, c_end,
                   split_mode == 1 ? "two calls" : "one call");
  fn(s, input, output, c_begin, c_split);
  if (c_split < c_end) fn(s, input, output, c_split, c_end);
  oracle_pool(s, is_max, input, ref, mag);
  check_untouched(c, output, 0, c_begin * plane, "output (planes before the range)");
  for (size_t i = c_begin * plane; i < c_end * plane; i++) check_value(c, &none, output[i], ref[i], mag[i], "output", i);
  check_untouched(c, output, c_end * plane, out_size + GUARD_FLOATS, "output (planes after the range, guard)");
  check_end_case(c);

  free(ref);
  free(mag);
  free(output);
  free(input);
}

/* channels, in_h, in_w, kh, kw, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, ceil, count_include_pad */
static const pool_case pool_listed[] = {
    {8, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0},     {4, 13, 13, 3, 3, 2, 2, 0, 0, 0, 0, 1, 0},
    {3, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0},     {5, 9, 10, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1},
    {5, 9, 10, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},    {2, 7, 7, 7, 7, 1, 1, 0, 0, 0, 0, 0, 0},
    {3, 6, 5, 3, 2, 2, 1, 1, 0, 1, 1, 1, 1},     {1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
    {2, 5, 5, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1},     {3, 11, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0},
    {6, 12, 12, 2, 2, 2, 2, 0, 0, 0, 0, 0, 1},   {2, 4, 9, 3, 3, 3, 3, 1, 1, 1, 1, 1, 0},
    /* Rows wide enough for the SIMD kernels' vector range: BlazeFace's 2x2/2, odd widths, padding on both sides. */
    {3, 16, 64, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0},   {2, 9, 37, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
    {3, 7, 29, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1},    {2, 6, 33, 5, 5, 2, 2, 2, 2, 2, 2, 1, 0},
    {4, 5, 23, 2, 2, 1, 1, 0, 0, 1, 1, 0, 0},    {2, 5, 41, 3, 2, 1, 2, 1, 0, 1, 1, 1, 1},
};

static void run_pool_family(const sb_kernel_entry* e, checker* c, const test_options* opt, int is_max, uint64_t seed) {
  rng r;
  rng_seed(&r, seed);
  size_t case_index = 0;
  for (size_t i = 0; i < sizeof pool_listed / sizeof pool_listed[0]; i++) {
    const sb_pool_shape s = pool_case_shape(&pool_listed[i]);
    if (e->param1 != 0 && (s.kh != e->param1 || s.kw != e->param1)) continue;
    if (e->param2 != 0 && (s.stride_h != e->param2 || s.stride_w != e->param2)) continue;
    run_pool_case(e, c, &r, &s, is_max, (int)(case_index++ % 3));
  }
  const int random_cases = opt->quick ? 16 : 60;
  for (int i = 0; i < random_cases; i++) {
    pool_case pc;
    pc.channels = rng_int(&r, 1, 9);
    pc.kh = e->param1 != 0 ? e->param1 : rng_int(&r, 1, 5);
    pc.kw = e->param1 != 0 ? e->param1 : (rng_chance(&r, 0.7) ? pc.kh : rng_int(&r, 1, 5));
    pc.stride_h = e->param2 != 0 ? e->param2 : rng_int(&r, 1, 3);
    pc.stride_w = e->param2 != 0 ? e->param2 : (rng_chance(&r, 0.7) ? pc.stride_h : rng_int(&r, 1, 3));
    pc.pad_top = rng_int(&r, 0, pc.kh / 2), pc.pad_bottom = rng_int(&r, 0, pc.kh / 2);
    pc.pad_left = rng_int(&r, 0, pc.kw / 2), pc.pad_right = rng_int(&r, 0, pc.kw / 2);
    pc.in_h = rng_int(&r, 1, 15), pc.in_w = rng_int(&r, 1, 15);
    if (pc.in_h + pc.pad_top + pc.pad_bottom < pc.kh) pc.in_h = pc.kh;
    if (pc.in_w + pc.pad_left + pc.pad_right < pc.kw) pc.in_w = pc.kw;
    pc.ceil_mode = rng_int(&r, 0, 1), pc.count_include_pad = rng_int(&r, 0, 1);
    const sb_pool_shape s = pool_case_shape(&pc);
    run_pool_case(e, c, &r, &s, is_max, (int)(case_index++ % 3));
  }
}

void test_f32_maxpool(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  run_pool_family(e, c, opt, 1, 0x3a9u);
}

void test_f32_avgpool(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  run_pool_family(e, c, opt, 0, 0xa69u);
}

void test_f32_gavgpool(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  static const size_t channel_counts[] = {0, 1, 3, 17, 64};
  static const size_t pixel_counts[] = {0, 1, 3, 7, 49, 196, 1001};
  const sb_activation none = {SB_ACT_NONE, 0.0f, 0.0f};
  sb_f32_gavgpool_ukernel* fn = (sb_f32_gavgpool_ukernel*)e->fn;
  rng r;
  rng_seed(&r, 0x6a9u);
  for (size_t ci = 0; ci < sizeof channel_counts / sizeof channel_counts[0]; ci++) {
    for (size_t pi = 0; pi < sizeof pixel_counts / sizeof pixel_counts[0]; pi++) {
      const size_t channels = channel_counts[ci], pixels = pixel_counts[pi];
      if (opt->quick && channels * pixels > 5000) continue;
      float* input = xmalloc(channels * pixels * sizeof(float));
      rng_fill(&r, input, channels * pixels, -1.0f, 3.0f);
      float* output = alloc_output(channels);
      check_begin_case(c, "C %zu pixels %zu", channels, pixels);
      fn(channels, pixels, input, output);
      for (size_t ch = 0; ch < channels; ch++) {
        double sum = 0.0, abs_sum = 0.0;
        for (size_t p = 0; p < pixels; p++) {
          sum += input[ch * pixels + p];
          abs_sum += fabs((double)input[ch * pixels + p]);
        }
        const double ref = pixels > 0 ? sum / (double)pixels : 0.0;
        check_value(c, &none, output[ch], ref, pixels > 0 ? abs_sum / (double)pixels : 0.0, "output", ch);
      }
      check_untouched(c, output, channels, channels + GUARD_FLOATS, "output guard");
      check_end_case(c);
      free(output);
      free(input);
    }
  }
}
