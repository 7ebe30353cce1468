/* Shared pieces of the kernel test harness (see harness.h). */
#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rng_seed(rng* r, uint64_t seed) { r->state = seed; }

uint32_t rng_u32(rng* r) {
  uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}

int rng_int(rng* r, int lo, int hi) { return lo + (int)(rng_u32(r) % (uint32_t)(hi - lo + 1)); }

float rng_float(rng* r, float lo, float hi) { return lo + (hi - lo) * (float)(rng_u32(r) >> 8) / 16777216.0f; }

int rng_chance(rng* r, double p) { return (double)rng_u32(r) < p * 4294967296.0; }

void rng_fill(rng* r, float* data, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) data[i] = rng_float(r, lo, hi);
}

static const uint32_t sentinel_bits = 0x7FC0DEADu; /* a quiet NaN no arithmetic produces */

static float sentinel(void) {
  float v;
  memcpy(&v, &sentinel_bits, sizeof v);
  return v;
}

int is_sentinel(float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  return bits == sentinel_bits;
}

void* xmalloc(size_t bytes) {
  void* p = malloc(bytes > 0 ? bytes : 1);
  if (p == NULL) {
    fprintf(stderr, "kernel_test: out of memory (%zu bytes)\n", bytes);
    exit(2);
  }
  return p;
}

float* alloc_output(size_t n) {
  float* p = xmalloc((n + GUARD_FLOATS) * sizeof(float));
  const float s = sentinel();
  for (size_t i = 0; i < n + GUARD_FLOATS; i++) p[i] = s;
  return p;
}

sb_activation test_activation(size_t i) {
  static const sb_activation table[NUM_TEST_ACTIVATIONS] = {
      {SB_ACT_NONE, 0.0f, 0.0f},
      {SB_ACT_CLIP, 0.0f, INFINITY},       /* Relu */
      {SB_ACT_CLIP, 0.0f, 6.0f},           /* Relu6 */
      {SB_ACT_CLIP, -0.5f, 0.25f},
      {SB_ACT_HARDSIGMOID, 0.2f, 0.5f},    /* ONNX default */
      {SB_ACT_HARDSIGMOID, 1.0f / 6.0f, 0.5f},
      {SB_ACT_HARDSWISH, 0.0f, 0.0f},
      {SB_ACT_SIGMOID, 0.0f, 0.0f},
      {SB_ACT_LEAKYRELU, 0.1f, 0.0f},
      {SB_ACT_ELU, 0.7f, 0.0f},
      {SB_ACT_SILU, 0.0f, 0.0f},
      {SB_ACT_GELU, 0.0f, 0.0f},
      {SB_ACT_GELU_TANH, 0.0f, 0.0f},
      {SB_ACT_TANH, 0.0f, 0.0f},
      {SB_ACT_ABS, 0.0f, 0.0f},
      {SB_ACT_NEG, 0.0f, 0.0f},
      {SB_ACT_ERF, 0.0f, 0.0f},
      {SB_ACT_SOFTPLUS, 0.0f, 0.0f},
      /* SQRT, EXP, RECIPROCAL, LOG: no bounded error growth on random data; the op cases (tests/ops) cover them */
  };
  return table[i % NUM_TEST_ACTIVATIONS];
}

const char* activation_label(const sb_activation* a) {
  static char buf[64];
  switch (a->kind) {
    case SB_ACT_NONE: return "none";
    case SB_ACT_CLIP: snprintf(buf, sizeof buf, "clip(%g,%g)", a->p0, a->p1); return buf;
    case SB_ACT_HARDSIGMOID: snprintf(buf, sizeof buf, "hardsigmoid(%g,%g)", a->p0, a->p1); return buf;
    case SB_ACT_HARDSWISH: return "hardswish";
    case SB_ACT_SIGMOID: return "sigmoid";
    case SB_ACT_LEAKYRELU: snprintf(buf, sizeof buf, "leakyrelu(%g)", a->p0); return buf;
    case SB_ACT_ELU: snprintf(buf, sizeof buf, "elu(%g)", a->p0); return buf;
    case SB_ACT_SILU: return "silu";
    case SB_ACT_GELU: return "gelu";
    case SB_ACT_GELU_TANH: return "gelu_tanh";
    case SB_ACT_TANH: return "tanh";
    case SB_ACT_ABS: return "abs";
    case SB_ACT_NEG: return "neg";
    case SB_ACT_ERF: return "erf";
    case SB_ACT_SOFTPLUS: return "softplus";
    case SB_ACT_SQRT: return "sqrt";
    case SB_ACT_EXP: return "exp";
    case SB_ACT_RECIPROCAL: return "reciprocal";
    case SB_ACT_LOG: return "log";
    default: return "unknown";
  }
}

/* Written from docs/format.md's activation table, independently of sb_activate. */
double act_ref(const sb_activation* a, double x) {
  switch (a->kind) {
    case SB_ACT_CLIP: return fmin(fmax(x, (double)a->p0), (double)a->p1);
    case SB_ACT_HARDSIGMOID: return fmax(0.0, fmin(1.0, (double)a->p0 * x + (double)a->p1));
    case SB_ACT_HARDSWISH: return x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5));
    case SB_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case SB_ACT_LEAKYRELU: return x < 0.0 ? (double)a->p0 * x : x;
    case SB_ACT_ELU: return x < 0.0 ? (double)a->p0 * expm1(x) : x;
    case SB_ACT_SILU: return x / (1.0 + exp(-x));
    case SB_ACT_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case SB_ACT_GELU_TANH:
      return 0.5 * x * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
    case SB_ACT_TANH: return tanh(x);
    case SB_ACT_ABS: return fabs(x);
    case SB_ACT_NEG: return -x;
    case SB_ACT_ERF: return erf(x);
    case SB_ACT_SOFTPLUS: return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x));
    default: return x;
  }
}

/* How much an error in the pre-activation value can grow through the activation. */
double act_lipschitz(const sb_activation* a) {
  switch (a->kind) {
    case SB_ACT_HARDSIGMOID: return fabs((double)a->p0) > 1.0 ? fabs((double)a->p0) : 1.0;
    case SB_ACT_HARDSWISH: return 1.5;
    case SB_ACT_SILU: case SB_ACT_GELU: case SB_ACT_GELU_TANH: case SB_ACT_ERF: return 1.2;
    default: return 1.0;
  }
}

void check_begin_case(checker* c, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->case_label, sizeof c->case_label, fmt, ap);
  va_end(ap);
  c->case_failed = 0;
}

void check_end_case(checker* c) {
  c->cases++;
  if (c->case_failed) c->failures++;
}

void check_fail(checker* c, const char* fmt, ...) {
  /* Print the first few problems of a case; one bad kernel must not flood the log. */
  if (c->case_failed < 3 && (c->failures < 5 || c->verbose)) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("    FAIL [%s]: %s\n", c->case_label, msg);
  }
  c->case_failed++;
}

void check_value(checker* c, const sb_activation* act, float got, double ref, double magnitude, const char* what,
                 size_t index) {
  const double tol = 1e-5 * magnitude * act_lipschitz(act) + 1e-6 * (1.0 + fabs(ref));
  if (is_sentinel(got)) {
    check_fail(c, "%s[%zu] was not written (expected %.9g)", what, index, ref);
  } else if (!(fabs((double)got - ref) <= tol)) {
    check_fail(c, "%s[%zu] = %.9g, expected %.9g (tolerance %.3g)", what, index, (double)got, ref, tol);
  }
}

void check_untouched(checker* c, const float* buf, size_t begin, size_t end, const char* what) {
  for (size_t i = begin; i < end; i++) {
    if (!is_sentinel(buf[i])) {
      check_fail(c, "%s[%zu] = %.9g was written but lies outside the kernel's range", what, i, (double)buf[i]);
      return;
    }
  }
}
