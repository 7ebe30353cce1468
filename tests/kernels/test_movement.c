/* Tests for the data-movement families: f32-resize-nearest, f32-resize-bilinear, f32-transpose. The index/weight
 * tables are built here (not by engine/src/ops/resize.c): floor/half-pixel maps, random tables within the families'
 * contract (sb_kernels.h), repeated rows, factor-2 tables for x_scale 2 kernels, rows wider than the SIMD kernels'
 * row buffer; row ranges split as threads split them, rows outside a range untouched. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

typedef struct resize_case {
  int32_t in_h, in_w, out_h, out_w;
} resize_case;

static const resize_case resize_cases[] = {
    {1, 1, 1, 1},   {1, 1, 3, 5},   {2, 3, 4, 6},    {3, 5, 6, 10},  {7, 9, 14, 18}, {5, 17, 10, 34},
    {4, 33, 8, 66}, {8, 8, 4, 4},   {9, 13, 5, 7},   {3, 4, 7, 11},  {16, 16, 32, 32}, {6, 2, 12, 4},
    {1, 100, 1, 200}, {2, 4100, 3, 4101}, {5, 1, 2, 1}, {2, 7, 2, 14}};
#define NUM_RESIZE_CASES (sizeof resize_cases / sizeof resize_cases[0])

typedef struct resize_tables {
  int32_t *y_lo, *y_hi, *x_lo, *x_hi;
  float *wy_lo, *wy_hi, *wx_lo, *wx_hi;
} resize_tables;

/* One axis. style 0: floor(i * in / out) (nearest asymmetric; bilinear half-pixel positions), 1: random within the
 * contract, 2: i / 2 (factor 2), 3: every output on source 0 (in == 1 or an align-corners map of one output). */
static void make_axis(rng* r, int style, int32_t in, int32_t out, int32_t* lo, int32_t* hi, float* wlo, float* whi) {
  for (int32_t i = 0; i < out; i++) {
    int32_t l;
    float w;
    if (style == 0) {
      double pos = ((double)i + 0.5) * in / out - 0.5;
      pos = pos < 0 ? 0 : (pos > in - 1 ? in - 1 : pos);
      l = (int32_t)floor(pos);
      w = (float)(pos - l);
    } else if (style == 1) {
      l = rng_int(r, 0, in - 1);
      w = rng_float(r, 0.0f, 1.0f);
    } else if (style == 2) {
      l = i / 2 < in ? i / 2 : in - 1;
      w = 0.25f + 0.5f * (float)(i % 2);
    } else {
      l = 0;
      w = 0.0f;
    }
    lo[i] = l;
    hi[i] = l + 1 < in ? l + 1 : in - 1;
    whi[i] = w;
    wlo[i] = 1.0f - w;
  }
}

static void run_resize(const sb_kernel_entry* e, checker* c, const test_options* opt, int bilinear) {
  sb_f32_resize_ukernel* fn = (sb_f32_resize_ukernel*)e->fn;
  const int32_t x_scale = bilinear ? 0 : e->param1; /* a nearest kernel for factor-k tables gets only those */
  rng r;
  rng_seed(&r, bilinear ? 0xb11eu : 0x4ea7u);
  for (size_t ci = 0; ci < NUM_RESIZE_CASES; ci++) {
    resize_case rc = resize_cases[ci];
    if (x_scale == 2) rc.out_w = 2 * rc.in_w;
    for (int style = 0; style < 4; style++) {
      for (int split = 0; split < 3; split++) {
        if (opt->quick && (style + split) % 2 == 1) continue;
        const int xs = x_scale == 2 ? 2 : style, ys = style == 2 ? 0 : style;
        resize_tables t;
        t.y_lo = xmalloc(sizeof(int32_t) * (size_t)rc.out_h);
        t.y_hi = xmalloc(sizeof(int32_t) * (size_t)rc.out_h);
        t.wy_lo = xmalloc(sizeof(float) * (size_t)rc.out_h);
        t.wy_hi = xmalloc(sizeof(float) * (size_t)rc.out_h);
        t.x_lo = xmalloc(sizeof(int32_t) * (size_t)rc.out_w);
        t.x_hi = xmalloc(sizeof(int32_t) * (size_t)rc.out_w);
        t.wx_lo = xmalloc(sizeof(float) * (size_t)rc.out_w);
        t.wx_hi = xmalloc(sizeof(float) * (size_t)rc.out_w);
        make_axis(&r, ys, rc.in_h, rc.out_h, t.y_lo, t.y_hi, t.wy_lo, t.wy_hi);
        make_axis(&r, xs, rc.in_w, rc.out_w, t.x_lo, t.x_hi, t.wx_lo, t.wx_hi);
        const sb_resize_plan plan = {rc.in_h, rc.in_w, rc.out_h, rc.out_w, t.y_lo, t.y_hi, t.x_lo, t.x_hi,
                                     t.wy_lo, t.wy_hi, t.wx_lo, t.wx_hi};
        const size_t in_n = (size_t)rc.in_h * (size_t)rc.in_w, out_n = (size_t)rc.out_h * (size_t)rc.out_w;
        float* in = xmalloc(in_n * sizeof(float));
        rng_fill(&r, in, in_n, -4.0f, 4.0f);
        float* out = alloc_output(out_n);
        const row_split rs = make_row_split(&r, split, (size_t)rc.out_h);
        check_begin_case(c, "%dx%d -> %dx%d tables %d/%d split %d", rc.in_h, rc.in_w, rc.out_h, rc.out_w, ys, xs,
                         split);
        for (size_t k = 0; k < rs.count; k++) fn(&plan, in, out, rs.begin[k], rs.end[k]);
        const sb_activation none = {SB_ACT_NONE, 0.0f, 0.0f};
        for (size_t oy = 0; oy < (size_t)rc.out_h; oy++) {
          int inside = 0;
          for (size_t k = 0; k < rs.count; k++) inside |= oy >= rs.begin[k] && oy < rs.end[k];
          const float* row = out + oy * (size_t)rc.out_w;
          if (!inside) {
            check_untouched(c, row, 0, (size_t)rc.out_w, "row outside the range");
            continue;
          }
          for (size_t ox = 0; ox < (size_t)rc.out_w; ox++) {
            const size_t i = oy * (size_t)rc.out_w + ox;
            if (!bilinear) {
              const float want = in[(size_t)t.y_lo[oy] * (size_t)rc.in_w + (size_t)t.x_lo[ox]];
              if (memcmp(&want, &out[i], sizeof want) != 0)
                check_fail(c, "y[%zu] = %.9g, expected input[%d][%d] = %.9g", i, (double)out[i], t.y_lo[oy],
                           t.x_lo[ox], (double)want);
              continue;
            }
            const int32_t ys2[2] = {t.y_lo[oy], t.y_hi[oy]}, xs2[2] = {t.x_lo[ox], t.x_hi[ox]};
            const double wy[2] = {t.wy_lo[oy], t.wy_hi[oy]}, wx[2] = {t.wx_lo[ox], t.wx_hi[ox]};
            double ref = 0.0, mag = 0.0;
            for (int a = 0; a < 2; a++)
              for (int b = 0; b < 2; b++) {
                const double term = wy[a] * wx[b] * in[(size_t)ys2[a] * (size_t)rc.in_w + (size_t)xs2[b]];
                ref += term;
                mag += fabs(term);
              }
            check_value(c, &none, out[i], ref, mag, "y", i);
          }
        }
        check_untouched(c, out, out_n, out_n + GUARD_FLOATS, "y guard");
        check_end_case(c);
        free(out);
        free(in);
        free(t.y_lo), free(t.y_hi), free(t.wy_lo), free(t.wy_hi);
        free(t.x_lo), free(t.x_hi), free(t.wx_lo), free(t.wx_hi);
      }
    }
  }
}

void test_f32_resize_nearest(const sb_kernel_entry* e, checker* c, const test_options* opt) { run_resize(e, c, opt, 0); }
void test_f32_resize_bilinear(const sb_kernel_entry* e, checker* c, const test_options* opt) { run_resize(e, c, opt, 1); }

void test_f32_transpose(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  sb_f32_transpose_ukernel* fn = (sb_f32_transpose_ukernel*)e->fn;
  static const size_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33};
  const size_t ns = sizeof sizes / sizeof sizes[0];
  rng r;
  rng_seed(&r, 0x7a05u);
  for (size_t ai = 0; ai < ns; ai++) {
    for (size_t bi = 0; bi < ns; bi++) {
      for (int pad = 0; pad < 4; pad++) {
        if (opt->quick && (ai + bi + (size_t)pad) % 3 != 0) continue;
        const size_t A = sizes[ai], B = sizes[bi];
        /* pad bit 0: rows of the input longer than A; bit 1: gaps between output rows */
        const size_t is = A + (pad & 1 ? 3 : 0), os = B + (pad & 2 ? 1 : 0);
        float* in = xmalloc(B * is * sizeof(float));
        rng_fill(&r, in, B * is, -9.0f, 9.0f);
        float* out = alloc_output(A * os);
        check_begin_case(c, "a %zu b %zu in_stride %zu out_stride %zu", A, B, is, os);
        fn(A, B, in, is, out, os);
        for (size_t a = 0; a < A; a++) {
          for (size_t b = 0; b < B; b++) {
            const float want = in[b * is + a], got = out[a * os + b];
            if (memcmp(&want, &got, sizeof want) != 0)
              check_fail(c, "y[%zu][%zu] = %.9g, expected x[%zu][%zu] = %.9g", a, b, (double)got, b, a, (double)want);
          }
          check_untouched(c, out + a * os, B, os, "gap between output rows");
        }
        check_untouched(c, out, A * os, A * os + GUARD_FLOATS, "y guard");
        check_end_case(c);
        free(out);
        free(in);
      }
    }
  }
}
