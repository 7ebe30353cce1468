/* Naive references for the kernel tests (see oracle.h). */
#include "oracle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void make_sparse(rng* r, int32_t cout, int32_t cin, int32_t kernel_size, int32_t group, double density,
                 double empty_group_prob, sparse_buffers* out) {
  const int32_t num_groups = (cout + group - 1) / group;
  out->nnz = xmalloc((size_t)num_groups * sizeof(int32_t));
  out->group_start = xmalloc(((size_t)num_groups + 1) * sizeof(int32_t));
  out->index = xmalloc((size_t)num_groups * (size_t)cin * sizeof(int32_t)); /* upper bound on T */
  out->bias = xmalloc((size_t)cout * sizeof(float));
  out->dense = xmalloc((size_t)cout * (size_t)cin * (size_t)kernel_size * sizeof(float));
  for (size_t i = 0; i < (size_t)cout * (size_t)cin * (size_t)kernel_size; i++) out->dense[i] = 0.0f;
  rng_fill(r, out->bias, (size_t)cout, -1.0f, 1.0f);

  int32_t total = 0;
  out->group_start[0] = 0;
  for (int32_t g = 0; g < num_groups; g++) {
    const int empty = rng_chance(r, empty_group_prob);
    int32_t kept = 0;
    for (int32_t i = 0; i < cin; i++) {
      if (!empty && rng_chance(r, density)) out->index[total + kept++] = i;
    }
    out->nnz[g] = kept;
    total += kept;
    out->group_start[g + 1] = total;
  }

  /* values[T][kernel_size][G]; lanes past cout stay zero (docs/format.md). Exact-size allocation so ASan sees
   * over-reads. */
  const size_t value_count = (size_t)total * (size_t)kernel_size * (size_t)group;
  out->values = xmalloc(value_count * sizeof(float));
  for (int32_t g = 0; g < num_groups; g++) {
    for (int32_t j = out->group_start[g]; j < out->group_start[g + 1]; j++) {
      for (int32_t k = 0; k < kernel_size; k++) {
        for (int32_t lane = 0; lane < group; lane++) {
          const int32_t o = g * group + lane;
          float v = 0.0f;
          if (o < cout) {
            v = rng_float(r, -1.0f, 1.0f);
            out->dense[((size_t)o * cin + out->index[j]) * kernel_size + k] = v;
          }
          out->values[((size_t)j * kernel_size + k) * group + lane] = v;
        }
      }
    }
  }

  out->w.out_channels = cout;
  out->w.in_channels = cin;
  out->w.kernel_size = kernel_size;
  out->w.group = group;
  out->w.num_groups = num_groups;
  out->w.nnz = out->nnz;
  out->w.group_start = out->group_start;
  out->w.index = out->index;
  out->w.values = out->values;
  out->w.bias = out->bias;
}

void free_sparse(sparse_buffers* b) {
  free(b->nnz);
  free(b->group_start);
  free(b->index);
  free(b->values);
  free(b->bias);
  free(b->dense);
}

void oracle_gemm(size_t pixels, size_t plane_stride, size_t cout, size_t cin, const float* w, const float* bias,
                 const float* input, double* ref, double* mag) {
  for (size_t c = 0; c < cout; c++) {
    for (size_t p = 0; p < pixels; p++) {
      double sum = bias[c], abs_sum = fabs((double)bias[c]);
      for (size_t i = 0; i < cin; i++) {
        const double term = (double)w[c * cin + i] * (double)input[i * plane_stride + p];
        sum += term;
        abs_sum += fabs(term);
      }
      ref[c * pixels + p] = sum;
      mag[c * pixels + p] = abs_sum;
    }
  }
}

void oracle_conv(const sb_conv_shape* s, const float* w, const float* bias, const float* input, double* ref,
                 double* mag) {
  const int32_t cin_g = s->in_c / s->groups, cout_g = s->out_c / s->groups;
  for (int32_t o = 0; o < s->out_c; o++) {
    const int32_t g = o / cout_g;
    for (int32_t oy = 0; oy < s->out_h; oy++) {
      for (int32_t ox = 0; ox < s->out_w; ox++) {
        double sum = bias[o], abs_sum = fabs((double)bias[o]);
        for (int32_t i = 0; i < cin_g; i++) {
          for (int32_t ky = 0; ky < s->kh; ky++) {
            for (int32_t kx = 0; kx < s->kw; kx++) {
              /* Position in the zero-padded input. */
              const int32_t y = oy * s->stride_h + ky * s->dil_h - s->pad_top;
              const int32_t x = ox * s->stride_w + kx * s->dil_w - s->pad_left;
              if (y < 0 || x < 0 || y >= s->in_h || x >= s->in_w) continue;
              const double wv = w[(((size_t)o * cin_g + i) * s->kh + ky) * s->kw + kx];
              const double term = wv * input[((size_t)(g * cin_g + i) * s->in_h + y) * s->in_w + x];
              sum += term;
              abs_sum += fabs(term);
            }
          }
        }
        ref[((size_t)o * s->out_h + oy) * s->out_w + ox] = sum;
        mag[((size_t)o * s->out_h + oy) * s->out_w + ox] = abs_sum;
      }
    }
  }
}

int conv_shape_finish(sb_conv_shape* s, int32_t pad_bottom, int32_t pad_right) {
  const int32_t span_h = s->in_h + s->pad_top + pad_bottom - s->dil_h * (s->kh - 1);
  const int32_t span_w = s->in_w + s->pad_left + pad_right - s->dil_w * (s->kw - 1);
  if (span_h < 1 || span_w < 1) return 0;
  s->out_h = (span_h - 1) / s->stride_h + 1;
  s->out_w = (span_w - 1) / s->stride_w + 1;
  return 1;
}

sb_conv_shape random_conv_shape(rng* r, int32_t k, int32_t stride, int depthwise, int allow_groups, int quick) {
  static const int32_t kernels[] = {1, 3, 3, 5, 7};
  for (;;) {
    sb_conv_shape s = {0};
    s.kh = s.kw = k > 0 ? k : kernels[rng_int(r, 0, 4)];
    if (k == 0 && rng_chance(r, 0.15)) s.kw = kernels[rng_int(r, 0, 4)];
    s.stride_h = s.stride_w = stride > 0 ? stride : rng_int(r, 1, 2);
    if (stride == 0 && rng_chance(r, 0.15)) s.stride_w = 3 - s.stride_h;
    s.dil_h = s.dil_w = rng_chance(r, 0.2) ? 2 : 1;
    s.pad_top = rng_int(r, 0, s.dil_h * (s.kh - 1) / 2);
    s.pad_left = rng_int(r, 0, s.dil_w * (s.kw - 1) / 2);
    const int32_t pad_bottom = rng_int(r, 0, s.dil_h * (s.kh - 1) / 2 + 1);
    const int32_t pad_right = rng_int(r, 0, s.dil_w * (s.kw - 1) / 2 + 1);
    const int32_t max_hw = quick ? 10 : 17;
    s.in_h = rng_int(r, 1, max_hw);
    s.in_w = rng_int(r, 1, max_hw);
    const int32_t max_c = quick ? 9 : 20;
    if (depthwise) {
      s.groups = s.in_c = s.out_c = rng_int(r, 1, max_c);
    } else {
      s.groups = allow_groups && rng_chance(r, 0.3) ? rng_int(r, 2, 4) : 1;
      s.in_c = s.groups * rng_int(r, 1, max_c / s.groups + 1);
      s.out_c = s.groups * rng_int(r, 1, max_c / s.groups + 1);
    }
    if (conv_shape_finish(&s, pad_bottom, pad_right)) return s;
  }
}

const char* conv_shape_label(const sb_conv_shape* s) {
  static char buf[200];
  snprintf(buf, sizeof buf, "in %dx%dx%d out %dx%dx%d k %dx%d s %d,%d pad %d,%d dil %d,%d groups %d", s->in_c,
           s->in_h, s->in_w, s->out_c, s->out_h, s->out_w, s->kh, s->kw, s->stride_h, s->stride_w, s->pad_top,
           s->pad_left, s->dil_h, s->dil_w, s->groups);
  return buf;
}

row_split make_row_split(rng* r, int mode, size_t out_h) {
  row_split split = {0};
  if (mode == 1 && out_h >= 3) { /* three uneven chunks covering every row, as threads would */
    const size_t a = (size_t)rng_int(r, 1, (int)out_h - 2);
    const size_t b = (size_t)rng_int(r, (int)a + 1, (int)out_h - 1);
    split.count = 3;
    split.begin[0] = 0, split.end[0] = a;
    split.begin[1] = a, split.end[1] = b;
    split.begin[2] = b, split.end[2] = out_h;
  } else if (mode == 2) { /* one sub-range, possibly empty */
    const size_t a = (size_t)rng_int(r, 0, (int)out_h);
    const size_t b = (size_t)rng_int(r, (int)a, (int)out_h);
    split.count = 1;
    split.begin[0] = a, split.end[0] = b;
  } else {
    split.count = 1;
    split.begin[0] = 0, split.end[0] = out_h;
  }
  return split;
}

static int row_covered(const row_split* split, size_t oy) {
  for (size_t i = 0; i < split->count; i++) {
    if (oy >= split->begin[i] && oy < split->end[i]) return 1;
  }
  return 0;
}

void check_conv_output(checker* c, const sb_conv_shape* s, const sb_activation* act, const float* out,
                       const double* ref, const double* mag, const row_split* split) {
  const size_t plane = (size_t)s->out_h * s->out_w;
  for (int32_t o = 0; o < s->out_c; o++) {
    for (int32_t oy = 0; oy < s->out_h; oy++) {
      const size_t row = (size_t)o * plane + (size_t)oy * s->out_w;
      if (row_covered(split, (size_t)oy)) {
        for (int32_t ox = 0; ox < s->out_w; ox++) {
          check_value(c, act, out[row + ox], act_ref(act, ref[row + ox]), mag[row + ox], "output", row + ox);
        }
      } else {
        check_untouched(c, out, row, row + s->out_w, "output");
      }
    }
  }
  check_untouched(c, out, (size_t)s->out_c * plane, (size_t)s->out_c * plane + GUARD_FLOATS, "output guard");
}

sb_conv_shape conv_case_shape(const conv_case* cc) {
  sb_conv_shape s = {0};
  s.in_c = cc->in_c, s.in_h = cc->in_h, s.in_w = cc->in_w, s.out_c = cc->out_c;
  s.kh = cc->kh, s.kw = cc->kw, s.stride_h = cc->stride_h, s.stride_w = cc->stride_w;
  s.pad_top = cc->pad_top, s.pad_left = cc->pad_left, s.dil_h = s.dil_w = cc->dil, s.groups = cc->groups;
  if (!conv_shape_finish(&s, cc->pad_bottom, cc->pad_right)) {
    fprintf(stderr, "kernel_test: listed conv case has an empty output: %s\n", conv_shape_label(&s));
    exit(2);
  }
  return s;
}

int conv_params_fit(const sb_conv_shape* s, int32_t kernel_size, int32_t stride) {
  if (kernel_size != 0 && (s->kh != kernel_size || s->kw != kernel_size)) return 0;
  if (stride != 0 && (s->stride_h != stride || s->stride_w != stride)) return 0;
  return 1;
}

void check_slice_output(checker* c, const sb_activation* act, const float* out, const double* ref, const double* mag,
                        size_t channels, size_t pixels, size_t plane_stride, size_t offset) {
  for (size_t ch = 0; ch < channels; ch++) {
    const float* plane = out + ch * plane_stride;
    check_untouched(c, plane, 0, offset, "output plane (before the slice)");
    for (size_t p = 0; p < pixels; p++) {
      const size_t i = ch * pixels + p;
      check_value(c, act, plane[offset + p], act_ref(act, ref[i]), mag[i], "output", ch * plane_stride + offset + p);
    }
    check_untouched(c, plane, offset + pixels, plane_stride, "output plane (after the slice)");
  }
  check_untouched(c, out, channels * plane_stride, channels * plane_stride + GUARD_FLOATS, "output guard");
}
