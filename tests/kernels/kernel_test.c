/* Kernel test harness: runs every registry entry of every family (the build's NEON/WASM lists and the scalar list)
 * on awkward shapes and compares with the naive references in this directory.
 *
 *   kernel_test [--family f32_spmm] [--kernel SUBSTRING] [--arch NAME] [--quick] [--verbose]
 *
 * --arch keeps the entries of one arch (x86 builds: one ISA level, "sse41", "avx2", "avx512"). Entries of a level
 * above the active one (engine/kernels/registry.h: the CPU's best, or SPARSEBYTE_KERNELS) are not run.
 *
 * Prints one line per family + kernel and ends with "N passed, N failed" (counting those lines); exits 1 on any
 * failure, 2 on a usage error. Deterministic: the same cases on every run and every architecture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "choice.h"
#include "harness.h"

static family_test_fn* const family_tests[SB_FAMILY_COUNT] = {
#define SB_FAMILY(name, ENUM, dir, type, p1, r1, p2, r2) [SB_FAMILY_##ENUM] = test_##name,
#include "families.inc"
#undef SB_FAMILY
};

/* Dispatch relies on every family having scalar kernels that accept any shape: an entry whose params accept
 * anything, for f32_spmm (G matched exactly) one entry per G. */
static int scalar_fallback_ok(int family, const sb_kernel_entry* entries, size_t count) {
  if (family == SB_FAMILY_F32_SPMM) {
    int covered = 0; /* bit G for each G in 1, 2, 4, 8 served by a scalar entry */
    for (size_t i = 0; i < count; i++) {
      if (strcmp(entries[i].arch, "scalar") == 0 && entries[i].param1 > 0 && entries[i].param1 <= 8) {
        covered |= 1 << entries[i].param1;
      }
    }
    return covered == ((1 << 1) | (1 << 2) | (1 << 4) | (1 << 8));
  }
  for (size_t i = 0; i < count; i++) {
    const sb_kernel_entry* e = &entries[i];
    if (strcmp(e->arch, "scalar") == 0 && sb_kernel_params_fit((sb_kernel_family)family, e, 12345, 12345)) return 1;
  }
  return 0;
}

/* The choice table and the registry agree: every rule names a kernel of its family's registry, and every kernel
 * of the build's architecture is chosen by some rule (a kernel no rule picks would never run: delete it). */
static int check_choice_table(void) {
  int ok = 1;
  for (size_t i = 0; i < sb_kernel_rule_count; i++) {
    const sb_kernel_rule* r = &sb_kernel_rules[i];
    if ((int)r->family < 0 || r->family >= SB_FAMILY_COUNT || sb_kernel_lookup(r->family, r->fn) == NULL) {
      printf("    choice: rule %zu names no registry kernel of its family\n", i);
      ok = 0;
    }
  }
  for (int f = 0; f < SB_FAMILY_COUNT; f++) {
    size_t count = 0;
    const sb_kernel_entry* entries = sb_kernel_registry((sb_kernel_family)f, &count);
    for (size_t i = 0; i < count; i++) {
      if (strcmp(entries[i].arch, "scalar") == 0) continue;
      int chosen = 0;
      for (size_t j = 0; j < sb_kernel_rule_count; j++) chosen |= sb_kernel_rules[j].fn == entries[i].fn;
      if (!chosen) {
        printf("    choice: %s (%s) is in the registry but no rule chooses it\n", entries[i].name,
               sb_kernel_family_name((sb_kernel_family)f));
        ok = 0;
      }
    }
  }
  printf("%s choice table (%zu rules, every architecture kernel chosen)\n", ok ? "PASS" : "FAIL", sb_kernel_rule_count);
  return ok;
}

static int check_registry(void) {
  int ok = 1;
  for (int f = 0; f < SB_FAMILY_COUNT; f++) {
    size_t count = 0;
    const sb_kernel_entry* entries = sb_kernel_registry((sb_kernel_family)f, &count);
    const char* family = sb_kernel_family_name((sb_kernel_family)f);
    if (entries == NULL || count == 0) {
      printf("    registry: family %s has no kernels\n", family);
      ok = 0;
      continue;
    }
    for (size_t i = 0; i < count; i++) {
      if (entries[i].fn == NULL || entries[i].name == NULL || entries[i].arch == NULL) {
        printf("    registry: entry %zu of %s is incomplete\n", i, family);
        ok = 0;
      }
    }
    if (!scalar_fallback_ok(f, entries, count)) {
      printf("    registry: %s does not end with scalar kernels that accept any shape\n", family);
      ok = 0;
    }
  }
  size_t count = 1;
  if (sb_kernel_registry(SB_FAMILY_COUNT, &count) != NULL || count != 0) {
    printf("    registry: an invalid family must give NULL and count 0\n");
    ok = 0;
  }
  printf("%s registry (%d families, scalar fallback)\n", ok ? "PASS" : "FAIL", SB_FAMILY_COUNT);
  return ok;
}

static void usage(void) {
  fprintf(stderr, "usage: kernel_test [--family NAME] [--kernel SUBSTRING] [--arch NAME] [--quick] [--verbose]\n  families:");
  for (int f = 0; f < SB_FAMILY_COUNT; f++) fprintf(stderr, " %s", sb_kernel_family_name((sb_kernel_family)f));
  fprintf(stderr, " registry\n");
}

int main(int argc, char** argv) {
  const char* family_filter = NULL;
  const char* kernel_filter = NULL;
  const char* arch_filter = NULL;
  test_options opt = {0};
  int verbose = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--family") == 0 && i + 1 < argc) {
      family_filter = argv[++i];
    } else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc) {
      kernel_filter = argv[++i];
    } else if (strcmp(argv[i], "--arch") == 0 && i + 1 < argc) {
      arch_filter = argv[++i];
    } else if (strcmp(argv[i], "--quick") == 0) {
      opt.quick = 1;
    } else if (strcmp(argv[i], "--verbose") == 0) {
      verbose = 1;
    } else {
      usage();
      return 2;
    }
  }
  if (family_filter != NULL && strcmp(family_filter, "registry") != 0) {
    int known = 0;
    for (int f = 0; f < SB_FAMILY_COUNT; f++) known |= strcmp(family_filter, sb_kernel_family_name((sb_kernel_family)f)) == 0;
    if (!known) {
      fprintf(stderr, "kernel_test: unknown family '%s'\n", family_filter);
      usage();
      return 2;
    }
  }

  size_t passed = 0, failed = 0;
  const char* level_error = sb_kernel_level_error();
  if (level_error != NULL) {
    fprintf(stderr, "kernel_test: %s\n", level_error);
    return 2;
  }
  if ((family_filter == NULL && kernel_filter == NULL) ||
      (family_filter != NULL && strcmp(family_filter, "registry") == 0)) {
    if (check_registry()) passed++; else failed++;
    if (check_choice_table()) passed++; else failed++;
  }
  for (int f = 0; f < SB_FAMILY_COUNT; f++) {
    const char* family = sb_kernel_family_name((sb_kernel_family)f);
    if (family_filter != NULL && strcmp(family_filter, family) != 0) continue;
    size_t count = 0;
    const sb_kernel_entry* entries = sb_kernel_registry((sb_kernel_family)f, &count);
    for (size_t i = 0; i < count; i++) {
      const sb_kernel_entry* e = &entries[i];
      if (kernel_filter != NULL && strstr(e->name, kernel_filter) == NULL) continue;
      if (arch_filter != NULL && strcmp(e->arch, arch_filter) != 0) continue;
      if (!sb_kernel_entry_usable(e)) continue; /* an ISA level this CPU (or SPARSEBYTE_KERNELS) does not run */
      checker c = {0};
      c.verbose = verbose;
      family_tests[f](e, &c, &opt);
      const int ok = c.failures == 0 && c.cases > 0;
      printf("%s %s %s [%s, params %d,%d]: %zu cases, %zu failed\n", ok ? "PASS" : "FAIL", family, e->name, e->arch,
             e->param1, e->param2, c.cases, c.failures);
      fflush(stdout);
      if (ok) passed++; else failed++;
    }
  }
  if (passed + failed == 0) {
    fprintf(stderr, "kernel_test: no kernel matches the filters\n");
    return 2;
  }
  printf("%zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
