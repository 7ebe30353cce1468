/* Shared pieces of the kernel test harness: deterministic random numbers, guarded buffers, an independent activation
 * oracle in double precision, and the checker that compares kernel output with the oracle. */
#ifndef SB_KERNEL_HARNESS_H
#define SB_KERNEL_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "registry.h"

/* ---- deterministic random numbers (splitmix64) ---- */
typedef struct rng {
  uint64_t state;
} rng;

void rng_seed(rng* r, uint64_t seed);
uint32_t rng_u32(rng* r);
int rng_int(rng* r, int lo, int hi);  /* uniform in [lo, hi] */
float rng_float(rng* r, float lo, float hi);
int rng_chance(rng* r, double p);     /* 1 with probability p */
void rng_fill(rng* r, float* data, size_t n, float lo, float hi);

/* ---- guarded output buffers ----
 * Every output buffer is filled with a sentinel and followed by GUARD_FLOATS sentinel floats; positions a kernel must
 * not write (outside the slice, rows or planes it was given, or past the end) must still hold the sentinel. */
#define GUARD_FLOATS 64
float* alloc_output(size_t n); /* n floats + guard, all sentinel */
int is_sentinel(float v);
void* xmalloc(size_t bytes);   /* exits on failure; malloc(0) is made non-NULL */

/* ---- activations: every kind, with several parameter sets ---- */
#define NUM_TEST_ACTIVATIONS 18
sb_activation test_activation(size_t i); /* i modulo NUM_TEST_ACTIVATIONS */
const char* activation_label(const sb_activation* a);
double act_ref(const sb_activation* a, double x);
double act_lipschitz(const sb_activation* a);

/* ---- checking ---- */
typedef struct checker {
  size_t cases;
  size_t failures;       /* failing cases */
  int verbose;
  char case_label[256];  /* shape description of the current case */
  int case_failed;
} checker;

void check_begin_case(checker* c, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void check_end_case(checker* c);
/* got vs ref, with tolerance 1e-5 relative to magnitude (the sum of |terms| before the activation) scaled by the
 * activation's Lipschitz constant, plus a tiny absolute term. `where` names the element. */
void check_value(checker* c, const sb_activation* act, float got, double ref, double magnitude, const char* what,
                 size_t index);
void check_untouched(checker* c, const float* buf, size_t begin, size_t end, const char* what);
void check_fail(checker* c, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- per-family test drivers ---- */
typedef struct test_options {
  int quick;
} test_options;

typedef void family_test_fn(const sb_kernel_entry* entry, checker* c, const test_options* opt);

/* test_<family> for every line of families.inc */
#define SB_FAMILY(name, ENUM, dir, type, p1, r1, p2, r2) family_test_fn test_##name;
#include "families.inc"
#undef SB_FAMILY

#endif /* SB_KERNEL_HARNESS_H */
