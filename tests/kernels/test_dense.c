/* Tests for the dense compute families: f32-gemm, f32-conv, f32-dwconv. */
#include <stdlib.h>

#include "oracle.h"

/* ---- f32-gemm ---- */

typedef struct gemm_case {
  size_t cout, cin, pixels, extra, offset; /* plane_stride = pixels + extra; the slice starts at offset (<= extra) */
} gemm_case;

static const gemm_case gemm_listed[] = {
    {1, 1, 1, 0, 0},   {8, 16, 16, 0, 0},  {13, 7, 49, 0, 0},  {17, 33, 67, 5, 3}, {9, 5, 0, 0, 0},
    {9, 5, 0, 6, 2},   {3, 3, 7, 10, 7},   {64, 96, 37, 11, 4}, {16, 128, 1, 0, 0}, {100, 160, 1, 0, 0},
    {7, 1, 5, 0, 0},   {1, 200, 33, 0, 0}, {40, 24, 15, 17, 17}, {32, 32, 64, 0, 0},
};

static void run_gemm_case(const sb_kernel_entry* e, checker* c, rng* r, const gemm_case* gc, const sb_activation* act) {
  sb_f32_gemm_ukernel* fn = (sb_f32_gemm_ukernel*)e->fn;
  const size_t plane_stride = gc->pixels + gc->extra;
  float* weights = xmalloc(gc->cout * gc->cin * sizeof(float));
  float* bias = xmalloc(gc->cout * sizeof(float));
  float* input = xmalloc(gc->cin * plane_stride * sizeof(float));
  rng_fill(r, weights, gc->cout * gc->cin, -1.0f, 1.0f);
  rng_fill(r, bias, gc->cout, -1.0f, 1.0f);
  rng_fill(r, input, gc->cin * plane_stride, -1.0f, 1.0f);
  float* output = alloc_output(gc->cout * plane_stride);
  double* ref = xmalloc(gc->cout * gc->pixels * sizeof(double));
  double* mag = xmalloc(gc->cout * gc->pixels * sizeof(double));

  check_begin_case(c, "Cout %zu Cin %zu pixels %zu plane_stride %zu offset %zu act %s", gc->cout, gc->cin, gc->pixels,
                   plane_stride, gc->offset, activation_label(act));
  fn(gc->pixels, plane_stride, gc->cout, gc->cin, weights, bias, input + gc->offset, output + gc->offset, act);
  oracle_gemm(gc->pixels, plane_stride, gc->cout, gc->cin, weights, bias, input + gc->offset, ref, mag);
  check_slice_output(c, act, output, ref, mag, gc->cout, gc->pixels, plane_stride, gc->offset);
  check_end_case(c);

  free(ref);
  free(mag);
  free(output);
  free(input);
  free(bias);
  free(weights);
}

void test_f32_gemm(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  rng r;
  rng_seed(&r, 0x6e33u);
  size_t act_index = 0;
  for (size_t i = 0; i < sizeof gemm_listed / sizeof gemm_listed[0]; i++) {
    const sb_activation act = test_activation(act_index++);
    run_gemm_case(e, c, &r, &gemm_listed[i], &act);
  }
  const int random_cases = opt->quick ? 16 : 60;
  for (int i = 0; i < random_cases; i++) {
    gemm_case gc;
    gc.cout = (size_t)rng_int(&r, 1, 40);
    gc.cin = (size_t)rng_int(&r, 1, 40);
    gc.pixels = (size_t)rng_int(&r, 0, 70);
    gc.extra = rng_chance(&r, 0.5) ? (size_t)rng_int(&r, 1, 9) : 0;
    gc.offset = (size_t)rng_int(&r, 0, (int)gc.extra);
    const sb_activation act = test_activation(act_index++);
    run_gemm_case(e, c, &r, &gc, &act);
  }
}

/* ---- f32-conv and f32-dwconv (same signature) ---- */

static void run_conv_case(const sb_kernel_entry* e, checker* c, rng* r, const sb_conv_shape* s,
                          const sb_activation* act, int split_mode) {
  sb_f32_conv_ukernel* fn = (sb_f32_conv_ukernel*)e->fn;
  const size_t in_size = (size_t)s->in_c * s->in_h * s->in_w;
  const size_t out_size = (size_t)s->out_c * s->out_h * s->out_w;
  const size_t weight_size = (size_t)s->out_c * (s->in_c / s->groups) * s->kh * s->kw;
  float* weights = xmalloc(weight_size * sizeof(float));
  float* bias = xmalloc((size_t)s->out_c * sizeof(float));
  float* input = xmalloc(in_size * sizeof(float));
  rng_fill(r, weights, weight_size, -1.0f, 1.0f);
  rng_fill(r, bias, (size_t)s->out_c, -1.0f, 1.0f);
  rng_fill(r, input, in_size, -1.0f, 1.0f);
  float* output = alloc_output(out_size);
  double* ref = xmalloc(out_size * sizeof(double));
  double* mag = xmalloc(out_size * sizeof(double));
  const row_split split = make_row_split(r, split_mode, (size_t)s->out_h);

  check_begin_case(c, "%s rows %zu-%zu in %zu call(s) act %s", conv_shape_label(s), split.begin[0],
                   split.end[split.count - 1], split.count, activation_label(act));
  for (size_t i = 0; i < split.count; i++) fn(s, weights, bias, input, output, act, split.begin[i], split.end[i]);
  oracle_conv(s, weights, bias, input, ref, mag);
  check_conv_output(c, s, act, output, ref, mag, &split);
  check_end_case(c);

  free(ref);
  free(mag);
  free(output);
  free(input);
  free(bias);
  free(weights);
}

/* Runs the listed cases an entry's params accept, then random ones drawn within its params. */
static void run_conv_family(const sb_kernel_entry* e, checker* c, const test_options* opt, const conv_case* listed,
                            size_t listed_count, int depthwise, uint64_t seed) {
  rng r;
  rng_seed(&r, seed);
  size_t case_index = 0;
  for (size_t i = 0; i < listed_count; i++) {
    const sb_conv_shape s = conv_case_shape(&listed[i]);
    if (!conv_params_fit(&s, e->param1, e->param2)) continue;
    const sb_activation act = test_activation(case_index);
    run_conv_case(e, c, &r, &s, &act, (int)(case_index % 3));
    case_index++;
  }
  const int random_cases = opt->quick ? 16 : 60;
  for (int i = 0; i < random_cases; i++) {
    const sb_conv_shape s = random_conv_shape(&r, e->param1, e->param2, depthwise, 1, opt->quick);
    const sb_activation act = test_activation(case_index);
    run_conv_case(e, c, &r, &s, &act, (int)(case_index % 3));
    case_index++;
  }
}

/* in_c, in_h, in_w, out_c, kh, kw, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right, dil, groups */
static const conv_case conv_listed[] = {
    {3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    {3, 17, 17, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
    {3, 16, 16, 8, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1},  {4, 8, 8, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 2},
    {6, 9, 11, 9, 3, 3, 1, 2, 1, 0, 2, 1, 2, 3},   {2, 12, 10, 4, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1},
    {5, 6, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 5},    {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},
    {8, 6, 7, 16, 5, 3, 1, 1, 2, 1, 2, 1, 1, 4},   {3, 4, 4, 2, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1},
    {2, 1, 13, 3, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1},   {4, 10, 10, 4, 5, 5, 2, 2, 2, 2, 2, 2, 1, 2},
    {6, 8, 8, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 1},    {2, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    /* Few input channels (the NEON stem path): BlazeFace's 5x5/2 3->24 with TFLite SAME padding (1 before, 2 after),
     * odd widths, 7x7 and 3x3 at stride 1 and 2, non-square kernels, out_c not a multiple of 8, wide pads. */
    {3, 32, 64, 24, 5, 5, 2, 2, 1, 1, 2, 2, 1, 1}, {3, 17, 31, 10, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1},
    {4, 9, 13, 9, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1},   {1, 11, 37, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    {2, 15, 41, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1}, {3, 12, 12, 8, 3, 5, 2, 2, 0, 4, 1, 4, 1, 1},
    {3, 7, 5, 3, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1},    {3, 19, 19, 32, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1},
    {3, 6, 70, 5, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},   {2, 2, 2, 7, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1},
};

void test_f32_conv(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  run_conv_family(e, c, opt, conv_listed, sizeof conv_listed / sizeof conv_listed[0], 0, 0xc0a7u);
}

static const conv_case dwconv_listed[] = {
    {8, 10, 10, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8},      {8, 11, 11, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 8},
    {3, 12, 12, 3, 3, 3, 2, 2, 0, 0, 1, 1, 1, 3},      {17, 9, 7, 17, 5, 5, 1, 1, 2, 2, 2, 2, 1, 17},
    {5, 14, 13, 5, 5, 5, 2, 2, 2, 2, 2, 2, 1, 5},      {4, 16, 16, 4, 5, 5, 2, 2, 1, 1, 2, 2, 1, 4},
    {1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},        {2, 2, 3, 2, 5, 5, 1, 1, 2, 2, 2, 2, 1, 2},
    {6, 9, 9, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 6},        {7, 7, 7, 7, 3, 3, 1, 1, 0, 0, 0, 0, 1, 7},
    {32, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 32},   {3, 5, 19, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 3},
    {4, 8, 8, 4, 7, 7, 1, 1, 3, 3, 3, 3, 1, 4},
    /* 5x5 s1 rows of 1..8 vectors (the WASM kernel's whole-row passes), heights not a multiple of its rows per pass */
    {5, 14, 14, 5, 5, 5, 1, 1, 2, 2, 2, 2, 1, 5},      {3, 13, 28, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 3},
    {2, 7, 31, 2, 5, 5, 1, 1, 2, 2, 2, 2, 1, 2},       {3, 11, 11, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 3},
    {2, 5, 2, 2, 5, 5, 1, 1, 2, 2, 2, 2, 1, 2},        {4, 6, 27, 4, 5, 5, 1, 1, 1, 1, 3, 3, 1, 4},
    /* 3x3 s1 small planes (the WASM whole-plane path): rows of 1, 2, 4 vectors, asymmetric pads, too tall a plane */
    {3, 6, 5, 3, 3, 3, 1, 1, 0, 2, 1, 0, 1, 3},       {2, 9, 16, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2},
    {3, 3, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3},       {1, 40, 7, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    /* Rows wider than the padded-row stack buffers of the SIMD kernels (their in-place fallback path). */
    {2, 4, 1501, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2},     {2, 5, 1203, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 2},
    {1, 6, 1100, 1, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1},     {1, 7, 999, 1, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1},
    {2, 9, 1001, 2, 7, 7, 1, 1, 3, 3, 3, 3, 1, 2},     {3, 12, 23, 3, 7, 7, 1, 1, 2, 3, 4, 1, 1, 3},
    /* 4-channel interleaved WASM path (channels a multiple of 4): planes taller than its buffer go in strips of rows
     * (padding rows at the top and bottom strips, over rows an earlier strip filled); 7x7 and 14x14 planes */
    {8, 40, 40, 8, 5, 5, 1, 1, 2, 2, 2, 2, 1, 8},      {4, 50, 47, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 4},
    {12, 7, 7, 12, 5, 5, 1, 1, 2, 2, 2, 2, 1, 12},     {8, 14, 14, 8, 3, 3, 2, 2, 0, 0, 1, 1, 1, 8},
};

void test_f32_dwconv(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  run_conv_family(e, c, opt, dwconv_listed, sizeof dwconv_listed / sizeof dwconv_listed[0], 1, 0xd3c0u);
}
