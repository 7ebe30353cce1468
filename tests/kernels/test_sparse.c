/* Tests for the group-sparse families, f32-spmm and f32-spconv, against dense references computed from the
 * densified weights. */
#include <stdlib.h>

#include "oracle.h"

static const int32_t all_groups[] = {1, 2, 4, 8};

/* The G values an entry accepts: param1 (0 = any). */
static size_t entry_groups(const sb_kernel_entry* e, int32_t* out) {
  if (e->param1 != 0) {
    out[0] = e->param1;
    return 1;
  }
  for (size_t i = 0; i < 4; i++) out[i] = all_groups[i];
  return 4;
}

/* ---- f32-spmm ---- */

typedef struct spmm_case {
  int32_t cout, cin;
  size_t pixels, extra, offset; /* plane_stride = pixels + extra; the slice starts at offset (<= extra) */
  double density, empty_group_prob;
} spmm_case;

static const spmm_case spmm_listed[] = {
    {1, 1, 1, 0, 0, 1.0, 0.0},     {8, 16, 16, 0, 0, 0.5, 0.0},    {13, 7, 49, 0, 0, 0.3, 0.2},
    {17, 33, 67, 5, 3, 0.5, 0.2},  {24, 32, 64, 0, 0, 0.0, 0.0},   {24, 32, 64, 0, 0, 1.0, 0.0},
    {9, 5, 0, 0, 0, 0.5, 0.0},     {9, 5, 0, 6, 2, 0.5, 0.0},      {32, 64, 196, 0, 0, 0.1, 0.1},
    {3, 3, 7, 10, 7, 0.7, 0.0},    {64, 96, 37, 11, 4, 0.25, 0.3}, {16, 128, 1, 0, 0, 0.2, 0.0},
    {100, 160, 1, 0, 0, 0.3, 0.1}, {7, 1, 5, 0, 0, 1.0, 0.5},      {5, 9, 3, 0, 0, 1.0, 1.0},
    {40, 24, 15, 17, 17, 0.6, 0.2}, {1, 200, 33, 0, 0, 0.05, 0.0},
};

static void run_spmm_case(const sb_kernel_entry* e, checker* c, rng* r, const spmm_case* sc, int32_t group,
                          const sb_activation* act, int split) {
  sb_f32_spmm_ukernel* fn = (sb_f32_spmm_ukernel*)e->fn;
  const size_t plane_stride = sc->pixels + sc->extra;
  sparse_buffers sw;
  make_sparse(r, sc->cout, sc->cin, 1, group, sc->density, sc->empty_group_prob, &sw);
  float* input = xmalloc((size_t)sc->cin * plane_stride * sizeof(float));
  rng_fill(r, input, (size_t)sc->cin * plane_stride, -1.0f, 1.0f);
  float* output = alloc_output((size_t)sc->cout * plane_stride);
  double* ref = xmalloc((size_t)sc->cout * sc->pixels * sizeof(double));
  double* mag = xmalloc((size_t)sc->cout * sc->pixels * sizeof(double));

  const size_t cut = split ? (size_t)sw.w.num_groups / 2 : 0;
  check_begin_case(c, "Cout %d Cin %d G %d T %d pixels %zu plane_stride %zu offset %zu act %s groups split at %zu",
                   sc->cout, sc->cin, group, sw.group_start[sw.w.num_groups], sc->pixels, plane_stride, sc->offset,
                   activation_label(act), cut);
  if (cut == 0) {
    fn(sc->pixels, plane_stride, &sw.w, input + sc->offset, output + sc->offset, act);
  } else {
    /* two calls over slices of the groups, as the engine's threads make them: group_start[] stays absolute */
    for (int part = 0; part < 2; part++) {
      const size_t g0 = part ? cut : 0, g1 = part ? (size_t)sw.w.num_groups : cut, g = (size_t)group;
      const size_t first = g0 * g, last = g1 * g < (size_t)sc->cout ? g1 * g : (size_t)sc->cout;
      sb_sparse_weights w = sw.w;
      w.num_groups = (int32_t)(g1 - g0);
      w.out_channels = (int32_t)(last - first);
      w.nnz += g0;
      w.group_start += g0;
      w.bias += first;
      fn(sc->pixels, plane_stride, &w, input + sc->offset, output + first * plane_stride + sc->offset, act);
    }
  }
  oracle_gemm(sc->pixels, plane_stride, (size_t)sc->cout, (size_t)sc->cin, sw.dense, sw.bias, input + sc->offset, ref,
              mag);
  check_slice_output(c, act, output, ref, mag, (size_t)sc->cout, sc->pixels, plane_stride, sc->offset);
  check_end_case(c);

  free(ref);
  free(mag);
  free(output);
  free(input);
  free_sparse(&sw);
}

void test_f32_spmm(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  static const double densities[] = {0.0, 0.1, 0.3, 0.5, 0.9, 1.0};
  int32_t groups[4];
  const size_t group_count = entry_groups(e, groups);
  rng r;
  rng_seed(&r, 0x5b1u);
  size_t act_index = 0;
  for (size_t gi = 0; gi < group_count; gi++) {
    for (size_t i = 0; i < sizeof spmm_listed / sizeof spmm_listed[0]; i++) {
      if (opt->quick && i % 2 == 1) continue;
      const sb_activation act = test_activation(act_index++);
      run_spmm_case(e, c, &r, &spmm_listed[i], groups[gi], &act, (int)(i % 2));
    }
    const int random_cases = opt->quick ? 10 : 40;
    for (int i = 0; i < random_cases; i++) {
      spmm_case sc;
      sc.cout = rng_int(&r, 1, 40);
      sc.cin = rng_int(&r, 1, 40);
      sc.pixels = (size_t)rng_int(&r, 0, 70);
      sc.extra = rng_chance(&r, 0.5) ? (size_t)rng_int(&r, 1, 9) : 0;
      sc.offset = (size_t)rng_int(&r, 0, (int)sc.extra);
      sc.density = densities[rng_int(&r, 0, 5)];
      sc.empty_group_prob = rng_chance(&r, 0.5) ? 0.2 : 0.0;
      const sb_activation act = test_activation(act_index++);
      run_spmm_case(e, c, &r, &sc, groups[gi], &act, i % 2);
    }
  }
}

/* ---- f32-spconv ---- */

typedef struct spconv_case {
  conv_case geometry; /* groups must be 1 */
  double density, empty_group_prob;
} spconv_case;

static const spconv_case spconv_listed[] = {
    {{3, 17, 17, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, 0.7, 0.0},   /* stem: 3x3 s2, odd input */
    {{3, 16, 16, 13, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1}, 0.5, 0.2},   /* TF-style "same" s2 padding */
    {{7, 9, 11, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 0.5, 0.2},    /* Cin odd, Cout not a multiple of G */
    {{8, 14, 14, 12, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1}, 0.5, 0.0},   /* 1x1 stride-2 downsample */
    {{5, 6, 7, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.6, 0.0},      /* padded 1x1 */
    {{4, 12, 10, 6, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1}, 0.5, 0.0},    /* 7x7 s2 */
    {{6, 11, 9, 8, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1}, 1.0, 0.0},     /* 100% kept */
    {{6, 11, 9, 8, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1}, 0.0, 0.0},     /* every group empty */
    {{4, 9, 9, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 1}, 0.5, 0.0},      /* dilation 2 */
    {{2, 1, 1, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 1.0, 0.0},      /* 1x1 input, 3x3 kernel */
    {{16, 7, 7, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 0.25, 0.25},
};

static void run_spconv_case(const sb_kernel_entry* e, checker* c, rng* r, const sb_conv_shape* s, double density,
                            double empty_group_prob, int32_t group, const sb_activation* act, int split_mode) {
  sb_f32_spconv_ukernel* fn = (sb_f32_spconv_ukernel*)e->fn;
  const size_t in_size = (size_t)s->in_c * s->in_h * s->in_w;
  const size_t out_size = (size_t)s->out_c * s->out_h * s->out_w;
  sparse_buffers sw;
  make_sparse(r, s->out_c, s->in_c, s->kh * s->kw, group, density, empty_group_prob, &sw);
  float* input = xmalloc(in_size * sizeof(float));
  rng_fill(r, input, in_size, -1.0f, 1.0f);
  float* output = alloc_output(out_size);
  double* ref = xmalloc(out_size * sizeof(double));
  double* mag = xmalloc(out_size * sizeof(double));
  const row_split split = make_row_split(r, split_mode, (size_t)s->out_h);

  check_begin_case(c, "%s G %d T %d rows %zu-%zu in %zu call(s) act %s", conv_shape_label(s), group,
                   sw.group_start[sw.w.num_groups], split.begin[0], split.end[split.count - 1], split.count,
                   activation_label(act));
  for (size_t i = 0; i < split.count; i++) fn(s, &sw.w, input, output, act, split.begin[i], split.end[i]);
  oracle_conv(s, sw.dense, sw.bias, input, ref, mag);
  check_conv_output(c, s, act, output, ref, mag, &split);
  check_end_case(c);

  free(ref);
  free(mag);
  free(output);
  free(input);
  free_sparse(&sw);
}

void test_f32_spconv(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  static const double densities[] = {0.0, 0.2, 0.5, 0.8, 1.0};
  int32_t groups[4];
  const size_t group_count = entry_groups(e, groups);
  rng r;
  rng_seed(&r, 0x5bc0u);
  size_t case_index = 0;
  for (size_t gi = 0; gi < group_count; gi++) {
    for (size_t i = 0; i < sizeof spconv_listed / sizeof spconv_listed[0]; i++) {
      const sb_conv_shape s = conv_case_shape(&spconv_listed[i].geometry);
      if (!conv_params_fit(&s, e->param2, 0) || (opt->quick && i % 2 == 1)) continue;
      const sb_activation act = test_activation(case_index);
      run_spconv_case(e, c, &r, &s, spconv_listed[i].density, spconv_listed[i].empty_group_prob, groups[gi], &act,
                      (int)(case_index % 3));
      case_index++;
    }
    const int random_cases = opt->quick ? 6 : 20;
    for (int i = 0; i < random_cases; i++) {
      const sb_conv_shape s = random_conv_shape(&r, e->param2, 0, 0, 0, opt->quick);
      const sb_activation act = test_activation(case_index);
      run_spconv_case(e, c, &r, &s, densities[rng_int(&r, 0, 4)], rng_chance(&r, 0.5) ? 0.2 : 0.0, groups[gi], &act,
                      (int)(case_index % 3));
      case_index++;
    }
  }
}
