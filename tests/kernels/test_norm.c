/* Tests for the row-wise families: f32-layernorm and f32-softmax (against double-precision oracles). */
#include <math.h>
#include <stdlib.h>

#include "harness.h"

typedef struct norm_case {
  size_t rows, len;
  float offset, spread; /* x = offset + spread * U(-1, 1): a large offset checks the two-pass variance */
  int bias;
} norm_case;

static const norm_case norm_listed[] = {
    {1, 1, 0.0f, 1.0f, 1},    {3, 2, 0.0f, 1.0f, 0},   {2, 3, 5.0f, 1.0f, 1},    {1, 4, 0.0f, 1.0f, 1},
    {4, 7, 0.0f, 2.0f, 1},    {2, 8, 0.0f, 1.0f, 0},   {3, 15, 0.0f, 1.0f, 1},   {2, 16, -3.0f, 0.5f, 1},
    {5, 17, 0.0f, 1.0f, 1},   {64, 96, 0.0f, 4.0f, 1}, {16, 120, 0.0f, 1.0f, 0}, {8, 144, 100.0f, 0.01f, 1},
    {3, 1027, 0.0f, 1.0f, 1}, {2, 33, 0.0f, 0.0f, 1},  {0, 9, 0.0f, 1.0f, 1},
};

static void run_layernorm_case(const sb_kernel_entry* e, checker* c, rng* r, const norm_case* nc, float eps) {
  sb_f32_layernorm_ukernel* fn = (sb_f32_layernorm_ukernel*)e->fn;
  const size_t n = nc->rows * nc->len;
  float* x = xmalloc(n * sizeof(float));
  float* scale = xmalloc(nc->len * sizeof(float));
  float* bias = xmalloc(nc->len * sizeof(float));
  for (size_t i = 0; i < n; i++) x[i] = nc->offset + nc->spread * rng_float(r, -1.0f, 1.0f);
  rng_fill(r, scale, nc->len, -2.0f, 2.0f);
  rng_fill(r, bias, nc->len, -1.0f, 1.0f);
  float* y = alloc_output(n);
  const sb_activation none = {SB_ACT_NONE, 0.0f, 0.0f};
  check_begin_case(c, "rows %zu len %zu offset %g spread %g bias %d eps %g", nc->rows, nc->len, (double)nc->offset,
                   (double)nc->spread, nc->bias, (double)eps);
  fn(nc->rows, nc->len, x, scale, nc->bias ? bias : NULL, eps, y);
  for (size_t row = 0; row < nc->rows; row++) {
    const float* xr = x + row * nc->len;
    double mean = 0.0, var = 0.0;
    for (size_t k = 0; k < nc->len; k++) mean += xr[k];
    mean /= (double)nc->len;
    for (size_t k = 0; k < nc->len; k++) var += (xr[k] - mean) * (xr[k] - mean);
    const double rstd = 1.0 / sqrt(var / (double)nc->len + eps);
    for (size_t k = 0; k < nc->len; k++) {
      const double b = nc->bias ? bias[k] : 0.0;
      const double ref = (xr[k] - mean) * rstd * scale[k] + b;
      /* float rounding of x - mean is relative to |x| (the offset), scaled by rstd */
      const double mag = (fabs(xr[k] - mean) + fabs(mean)) * rstd * fabs(scale[k]) + fabs(b);
      check_value(c, &none, y[row * nc->len + k], ref, mag, "y", row * nc->len + k);
    }
  }
  check_untouched(c, y, n, n + GUARD_FLOATS, "y guard");
  check_end_case(c);
  free(y);
  free(bias);
  free(scale);
  free(x);
}

void test_f32_layernorm(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  rng r;
  rng_seed(&r, 0x1a7e2u);
  for (size_t i = 0; i < sizeof norm_listed / sizeof norm_listed[0]; i++)
    run_layernorm_case(e, c, &r, &norm_listed[i], i % 2 ? 1e-5f : 1e-2f);
  const int random_cases = opt->quick ? 8 : 30;
  for (int i = 0; i < random_cases; i++) {
    const norm_case nc = {(size_t)rng_int(&r, 1, 6), (size_t)rng_int(&r, 1, 300), rng_float(&r, -10.0f, 10.0f),
                          rng_float(&r, 0.1f, 5.0f), rng_chance(&r, 0.7)};
    run_layernorm_case(e, c, &r, &nc, 1e-5f);
  }
}

/* ---- f32-softmax ---- */

typedef struct softmax_case {
  size_t rows, len;
  float offset, spread; /* x = offset + spread * U(-1, 1): large offsets check the max subtraction */
} softmax_case;

static const softmax_case softmax_listed[] = {
    {1, 1, 0.0f, 1.0f},    {2, 2, 0.0f, 3.0f},     {3, 3, 50.0f, 1.0f},   {1, 4, 0.0f, 8.0f},
    {4, 5, -100.0f, 5.0f}, {2, 7, 0.0f, 20.0f},    {3, 16, 0.0f, 8.0f},   {2, 17, 88.0f, 2.0f},
    {5, 33, 0.0f, 40.0f},  {16, 256, 0.0f, 6.0f},  {16, 64, 0.0f, 6.0f},  {3, 1027, 0.0f, 4.0f},
    {1, 18710, 0.0f, 10.0f}, {2, 9, 0.0f, 0.0f},   {0, 5, 0.0f, 1.0f},
};

static void run_softmax_case(const sb_kernel_entry* e, checker* c, rng* r, const softmax_case* sc) {
  sb_f32_softmax_ukernel* fn = (sb_f32_softmax_ukernel*)e->fn;
  const size_t n = sc->rows * sc->len;
  float* x = xmalloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) x[i] = sc->offset + sc->spread * rng_float(r, -1.0f, 1.0f);
  float* y = alloc_output(n);
  const sb_activation none = {SB_ACT_NONE, 0.0f, 0.0f};
  check_begin_case(c, "rows %zu len %zu offset %g spread %g", sc->rows, sc->len, (double)sc->offset,
                   (double)sc->spread);
  fn(sc->rows, sc->len, x, y);
  for (size_t row = 0; row < sc->rows; row++) {
    const float* xr = x + row * sc->len;
    double max = xr[0], sum = 0.0;
    for (size_t k = 1; k < sc->len; k++) max = xr[k] > max ? xr[k] : max;
    for (size_t k = 0; k < sc->len; k++) sum += exp((double)xr[k] - max);
    for (size_t k = 0; k < sc->len; k++) {
      const double ref = exp((double)xr[k] - max) / sum;
      /* exp within ~1e-6 relative, and the rounding of x - max moves it by |x - max| ulps */
      const double mag = ref * (1.0 + 1e-2 * fabs((double)xr[k] - max));
      check_value(c, &none, y[row * sc->len + k], ref, mag, "y", row * sc->len + k);
    }
  }
  check_untouched(c, y, n, n + GUARD_FLOATS, "y guard");
  check_end_case(c);
  free(y);
  free(x);
}

void test_f32_softmax(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  rng r;
  rng_seed(&r, 0x50f7u);
  for (size_t i = 0; i < sizeof softmax_listed / sizeof softmax_listed[0]; i++)
    run_softmax_case(e, c, &r, &softmax_listed[i]);
  const int random_cases = opt->quick ? 8 : 30;
  for (int i = 0; i < random_cases; i++) {
    const softmax_case sc = {(size_t)rng_int(&r, 1, 5), (size_t)rng_int(&r, 1, 400), rng_float(&r, -20.0f, 20.0f),
                             rng_float(&r, 0.0f, 15.0f)};
    run_softmax_case(e, c, &r, &sc);
  }
}
