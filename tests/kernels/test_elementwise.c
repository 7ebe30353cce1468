/* Tests for the elementwise families: f32-vadd, f32-vmul, f32-vaddc, f32-vmulc, f32-vmaxc, f32-vminc, f32-vpreluc
 * (per-channel; channels 1 is the scalar-operand case), f32-vact, f32-affine. Every size runs with every test
 * activation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

static const size_t lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 1000, 1027};
#define NUM_LENGTHS (sizeof lengths / sizeof lengths[0])

typedef struct plane_dims {
  size_t channels, pixels;
} plane_dims;

static const plane_dims plane_shapes[] = {{0, 5},  {2, 0},  {1, 1},   {3, 7},    {5, 16},   {17, 9},
                                          {8, 49}, {64, 3}, {16, 100}, {3, 1027}, {1, 1031}, {1, 6}};
#define NUM_PLANE_SHAPES (sizeof plane_shapes / sizeof plane_shapes[0])

/* Random values in [-8, 8] with the activations' corner points mixed in. */
static void fill_activation_inputs(rng* r, float* x, size_t n) {
  static const float corners[] = {0.0f, -3.0f, 3.0f, 6.0f, -6.0f, 2.5f, -2.5f, 100.0f, -100.0f, 0.25f, -0.5f};
  rng_fill(r, x, n, -8.0f, 8.0f);
  for (size_t i = 0; i < n; i++) {
    if (rng_chance(r, 0.15)) x[i] = corners[rng_int(r, 0, (int)(sizeof corners / sizeof corners[0]) - 1)];
  }
}

static void run_vbinary(const sb_kernel_entry* e, checker* c, const test_options* opt, int is_mul, uint64_t seed) {
  sb_f32_vbinary_ukernel* fn = (sb_f32_vbinary_ukernel*)e->fn;
  rng r;
  rng_seed(&r, seed);
  for (size_t li = 0; li < NUM_LENGTHS; li++) {
    for (size_t ai = 0; ai < NUM_TEST_ACTIVATIONS; ai++) {
      if (opt->quick && (li + ai) % 2 == 1) continue;
      const size_t n = lengths[li];
      const sb_activation act = test_activation(ai);
      float* a = xmalloc(n * sizeof(float));
      float* b = xmalloc(n * sizeof(float));
      fill_activation_inputs(&r, a, n);
      fill_activation_inputs(&r, b, n);
      float* y = alloc_output(n);
      check_begin_case(c, "n %zu act %s", n, activation_label(&act));
      fn(n, a, b, y, &act);
      for (size_t i = 0; i < n; i++) {
        const double ref = is_mul ? (double)a[i] * b[i] : (double)a[i] + b[i];
        const double mag = is_mul ? fabs(ref) : fabs((double)a[i]) + fabs((double)b[i]);
        check_value(c, &act, y[i], act_ref(&act, ref), mag, "y", i);
      }
      check_untouched(c, y, n, n + GUARD_FLOATS, "y guard");
      check_end_case(c);
      free(y);
      free(b);
      free(a);
    }
  }
}

enum { OPC_ADD, OPC_MUL, OPC_MAX, OPC_MIN, OPC_PRELU };

/* a op b for the per-channel families, in double */
static double opc_ref(int op, double a, double b) {
  switch (op) {
    case OPC_MUL: return a * b;
    case OPC_MAX: return a < b ? b : a;
    case OPC_MIN: return b < a ? b : a;
    case OPC_PRELU: return a < 0.0 ? a * b : a;
    default: return a + b;
  }
}

static void run_vbinaryc(const sb_kernel_entry* e, checker* c, const test_options* opt, int op, uint64_t seed) {
  sb_f32_vbinaryc_ukernel* fn = (sb_f32_vbinaryc_ukernel*)e->fn;
  rng r;
  rng_seed(&r, seed);
  for (size_t si = 0; si < NUM_PLANE_SHAPES; si++) {
    for (size_t ai = 0; ai < NUM_TEST_ACTIVATIONS; ai++) {
      if (opt->quick && (si + ai) % 2 == 1) continue;
      const size_t channels = plane_shapes[si].channels, pixels = plane_shapes[si].pixels, n = channels * pixels;
      const sb_activation act = test_activation(ai);
      float* a = xmalloc(n * sizeof(float));
      float* b = xmalloc(channels * sizeof(float));
      fill_activation_inputs(&r, a, n);
      fill_activation_inputs(&r, b, channels);
      float* y = alloc_output(n);
      check_begin_case(c, "C %zu pixels %zu act %s", channels, pixels, activation_label(&act));
      fn(channels, pixels, a, b, y, &act);
      for (size_t i = 0; i < n; i++) {
        const double bc = b[i / pixels];
        const double ref = opc_ref(op, a[i], bc);
        const double mag = op == OPC_ADD ? fabs((double)a[i]) + fabs(bc) : fabs(ref);
        check_value(c, &act, y[i], act_ref(&act, ref), mag, "y", i);
      }
      check_untouched(c, y, n, n + GUARD_FLOATS, "y guard");
      check_end_case(c);
      free(y);
      free(b);
      free(a);
    }
  }
}

void test_f32_vadd(const sb_kernel_entry* e, checker* c, const test_options* opt) { run_vbinary(e, c, opt, 0, 0xadd); }
void test_f32_vmul(const sb_kernel_entry* e, checker* c, const test_options* opt) { run_vbinary(e, c, opt, 1, 0x3a1); }
void test_f32_vaddc(const sb_kernel_entry* e, checker* c, const test_options* opt) { run_vbinaryc(e, c, opt, OPC_ADD, 0xadc); }
void test_f32_vmulc(const sb_kernel_entry* e, checker* c, const test_options* opt) { run_vbinaryc(e, c, opt, OPC_MUL, 0x31c); }
void test_f32_vmaxc(const sb_kernel_entry* e, checker* c, const test_options* opt) { run_vbinaryc(e, c, opt, OPC_MAX, 0x3ac); }
void test_f32_vminc(const sb_kernel_entry* e, checker* c, const test_options* opt) { run_vbinaryc(e, c, opt, OPC_MIN, 0x31ec); }
void test_f32_vpreluc(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  run_vbinaryc(e, c, opt, OPC_PRELU, 0x9e1c);
}

static void vact_extremes(const sb_kernel_entry* e, checker* c);

void test_f32_vact(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  sb_f32_vunary_ukernel* fn = (sb_f32_vunary_ukernel*)e->fn;
  rng r;
  rng_seed(&r, 0xac7u);
  for (size_t li = 0; li < NUM_LENGTHS; li++) {
    for (size_t ai = 0; ai < NUM_TEST_ACTIVATIONS; ai++) {
      if (opt->quick && (li + ai) % 2 == 1 && ai != 0) continue;
      const size_t n = lengths[li];
      const sb_activation act = test_activation(ai);
      float* x = xmalloc(n * sizeof(float));
      fill_activation_inputs(&r, x, n);
      float* y = alloc_output(n);
      check_begin_case(c, "n %zu act %s", n, activation_label(&act));
      fn(n, x, y, &act);
      for (size_t i = 0; i < n; i++) check_value(c, &act, y[i], act_ref(&act, x[i]), fabs((double)x[i]), "y", i);
      check_untouched(c, y, n, n + GUARD_FLOATS, "y guard");
      check_end_case(c);
      free(y);
      free(x);
    }
  }
  vact_extremes(e, c);
}

void test_f32_affine(const sb_kernel_entry* e, checker* c, const test_options* opt) {
  sb_f32_affine_ukernel* fn = (sb_f32_affine_ukernel*)e->fn;
  rng r;
  rng_seed(&r, 0xaff1u);
  for (size_t si = 0; si < NUM_PLANE_SHAPES; si++) {
    for (size_t ai = 0; ai < NUM_TEST_ACTIVATIONS; ai++) {
      if (opt->quick && (si + ai) % 2 == 1) continue;
      const size_t channels = plane_shapes[si].channels, pixels = plane_shapes[si].pixels, n = channels * pixels;
      const sb_activation act = test_activation(ai);
      float* x = xmalloc(n * sizeof(float));
      float* scale = xmalloc(channels * sizeof(float));
      float* shift = xmalloc(channels * sizeof(float));
      fill_activation_inputs(&r, x, n);
      rng_fill(&r, scale, channels, -2.0f, 2.0f);
      rng_fill(&r, shift, channels, -3.0f, 3.0f);
      float* y = alloc_output(n);
      check_begin_case(c, "C %zu pixels %zu act %s", channels, pixels, activation_label(&act));
      fn(channels, pixels, x, scale, shift, y, &act);
      for (size_t i = 0; i < n; i++) {
        const double term = (double)x[i] * scale[i / pixels], sh = shift[i / pixels];
        check_value(c, &act, y[i], act_ref(&act, term + sh), fabs(term) + fabs(sh), "y", i);
      }
      check_untouched(c, y, n, n + GUARD_FLOATS, "y guard");
      check_end_case(c);
      free(y);
      free(shift);
      free(scale);
      free(x);
    }
  }
}

/* ---- f32-vact on extreme values: every kind, including those test_activation leaves out ---- */

/* Double-precision definitions of every kind (docs/format.md's activation table). */
static double extreme_ref(const sb_activation* a, double x) {
  switch (a->kind) {
    case SB_ACT_SQRT: return sqrt(x);
    case SB_ACT_EXP: return exp(x);
    case SB_ACT_RECIPROCAL: return 1.0 / x;
    case SB_ACT_LOG: return log(x);
    case SB_ACT_GELU_TANH: /* 0.5 (1 + tanh u) = 1 / (1 + exp(-2u)): exact in double where 1 + tanh(u) cancels */
      return x / (1.0 + exp(-2.0 * sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
    case SB_ACT_GELU: return 0.5 * x * erfc(-x / sqrt(2.0));
    default: return act_ref(a, x);
  }
}

/* Inputs: the float range on a log scale, a fine linear sweep of [-12, 12], and the points where the vector forms
 * switch branches, clamp or overflow. */
static size_t extreme_inputs(float* x) {
  static const float special[] = {0.0f, -0.0f, 1.17549435e-38f, 1.40129846e-45f, 3.40282347e38f, INFINITY, NAN,
                                  0.5f, 0.625f, 0.70710678f, 0.7071068f, 87.3f, 88.0f, 88.37f, 88.72f, 88.73f,
                                  89.0f, 100.0f, 103.9f, 104.0f, 105.0f, 3e-8f, 1e-20f, 1e19f, 2e19f};
  size_t n = 0;
  for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
    x[n++] = special[i];
    x[n++] = -special[i];
  }
  static const float mant[] = {1.0f, 1.5f, 2.7f, 5.3f, 9.1f};
  for (int e = -45; e <= 38; e++)
    for (size_t m = 0; m < 5; m++) {
      const float v = (float)(mant[m] * pow(10.0, e));
      if (v != 0.0f && isfinite(v)) {
        x[n++] = v;
        x[n++] = -v;
      }
    }
  for (int i = -1200; i <= 1200; i++) x[n++] = (float)i * 0.01f + 0.001f;
  return n;
}
#define MAX_EXTREME 4096

static void vact_extremes(const sb_kernel_entry* e, checker* c) {
  sb_f32_vunary_ukernel* fn = (sb_f32_vunary_ukernel*)e->fn;
  static const sb_activation kinds[] = {
      {SB_ACT_NONE, 0, 0},       {SB_ACT_CLIP, 0.0f, 6.0f},  {SB_ACT_HARDSIGMOID, 0.2f, 0.5f},
      {SB_ACT_HARDSWISH, 0, 0},  {SB_ACT_SIGMOID, 0, 0},     {SB_ACT_LEAKYRELU, 0.1f, 0},
      {SB_ACT_ELU, 0.7f, 0},     {SB_ACT_SILU, 0, 0},        {SB_ACT_GELU, 0, 0},
      {SB_ACT_GELU_TANH, 0, 0},  {SB_ACT_SQRT, 0, 0},        {SB_ACT_EXP, 0, 0},
      {SB_ACT_TANH, 0, 0},       {SB_ACT_ABS, 0, 0},         {SB_ACT_NEG, 0, 0},
      {SB_ACT_RECIPROCAL, 0, 0}, {SB_ACT_ERF, 0, 0},         {SB_ACT_LOG, 0, 0},
      {SB_ACT_SOFTPLUS, 0, 0}};
  float* x = xmalloc(MAX_EXTREME * sizeof(float));
  const size_t n = extreme_inputs(x);
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    const sb_activation* act = &kinds[k];
    float* y = alloc_output(n);
    float* part = alloc_output(n);
    check_begin_case(c, "extremes kind %d (%s), %zu values", act->kind, activation_label(act), n);
    fn(n, x, y, act);
    double worst = 0.0;
    size_t worst_i = 0;
    for (size_t i = 0; i < n; i++) {
      const float want = sb_activate(act, x[i]); /* the scalar path: NaN and inf must agree with it */
      const double ref = extreme_ref(act, (double)x[i]);
      if (isnan(want) || isinf(want)) {
        if (!(isnan(want) ? isnan(y[i]) : y[i] == want))
          check_fail(c, "x = %.9g: got %.9g, the scalar path gives %.9g", (double)x[i], (double)y[i], (double)want);
        continue;
      }
      /* within 2e-6 relative (1e-37 absolute for subnormal results), or no further off than the scalar path */
      const double err = fabs((double)y[i] - ref), tol = 2e-6 * fabs(ref) + 1e-37;
      if (!(err <= tol || err <= fabs((double)want - ref) * (1.0 + 1e-6)))
        check_fail(c, "x = %.9g: got %.9g, expected %.9g (scalar path %.9g)", (double)x[i], (double)y[i], ref,
                   (double)want);
      if (fabs(ref) > 1e-30 && err / fabs(ref) > worst) worst = err / fabs(ref), worst_i = i;
    }
    /* a thread's range may start anywhere: every suffix gives the same bits */
    for (size_t start = 1; start < 9 && start < n; start++) {
      fn(n - start, x + start, part + start, act);
      for (size_t i = start; i < n; i++)
        if (memcmp(&part[i], &y[i], sizeof(float)) != 0 && !(isnan(part[i]) && isnan(y[i]))) {
          check_fail(c, "x = %.9g: %.9g from offset %zu, %.9g from 0", (double)x[i], (double)part[i], start,
                     (double)y[i]);
          break;
        }
    }
    if (c->verbose)
      printf("    %s: max relative error %.3g at x = %.9g\n", activation_label(act), worst, (double)x[worst_i]);
    check_end_case(c);
    free(part);
    free(y);
  }
  free(x);
}
