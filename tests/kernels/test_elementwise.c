/* Tests for the elementwise families: f32-vadd, f32-vmul, f32-vaddc, f32-vmulc, f32-vact, f32-affine. Every size
 * runs with every test activation. */
#include <math.h>
#include <stdlib.h>

#include "oracle.h"

static const size_t lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 1000, 1027};
#define NUM_LENGTHS (sizeof lengths / sizeof lengths[0])

typedef struct plane_dims {
  size_t channels, pixels;
} plane_dims;

static const plane_dims plane_shapes[] = {{0, 5}, {2, 0},  {1, 1},  {3, 7},   {5, 16},
                                          {17, 9}, {8, 49}, {64, 3}, {16, 100}, {3, 1027}};
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

static void run_vbinaryc(const sb_kernel_entry* e, checker* c, const test_options* opt, int is_mul, uint64_t seed) {
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
        const double ref = is_mul ? (double)a[i] * bc : (double)a[i] + bc;
        const double mag = is_mul ? fabs(ref) : fabs((double)a[i]) + fabs(bc);
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
void test_f32_vaddc(const sb_kernel_entry* e, checker* c, const test_options* opt) { run_vbinaryc(e, c, opt, 0, 0xadc); }
void test_f32_vmulc(const sb_kernel_entry* e, checker* c, const test_options* opt) { run_vbinaryc(e, c, opt, 1, 0x31c); }

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
