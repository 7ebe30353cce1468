/* The kernel registry (registry.h): one static table per family (families.inc), filled from every list.h of the
 * build by the generated registry_lists.inc. */
#include "registry.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_DROP(fn, p1, p2)
#define SB_KEEP(fn, p1, p2) {#fn, SB_LIST_ARCH, (void (*)(void))fn, p1, p2},
#include "registry_lists.inc"
#undef SB_KEEP
#undef SB_DROP

typedef struct family_table {
  const char* name;
  const sb_kernel_entry* entries;
  size_t count;
  const char* param_names[2];
  sb_param_rule rules[2];
} family_table;

/* Indexed by sb_kernel_family. */
static const family_table tables[SB_FAMILY_COUNT] = {
#define SB_FAMILY(name, ENUM, dir, type, p1, r1, p2, r2)                                                      \
  [SB_FAMILY_##ENUM] = {#name, name##_entries, sizeof(name##_entries) / sizeof(name##_entries[0]), {#p1, #p2}, \
                        {SB_PARAM_##r1, SB_PARAM_##r2}},
#include "families.inc"
#undef SB_FAMILY
};

static int valid(sb_kernel_family family) { return (int)family >= 0 && family < SB_FAMILY_COUNT; }

const sb_kernel_entry* sb_kernel_registry(sb_kernel_family family, size_t* count) {
  if (!valid(family)) {
    *count = 0;
    return NULL;
  }
  *count = tables[family].count;
  return tables[family].entries;
}

const char* sb_kernel_family_name(sb_kernel_family family) { return valid(family) ? tables[family].name : "unknown"; }

const char* sb_kernel_family_param_name(sb_kernel_family family, int which) {
  return valid(family) && (which == 1 || which == 2) ? tables[family].param_names[which - 1] : "unknown";
}

static int param_fits(sb_param_rule rule, int32_t kernel, int32_t node) {
  switch (rule) {
    case SB_PARAM_EXACT: return kernel == node;
    case SB_PARAM_ANY0: return kernel == 0 || kernel == node;
    default: return 1;
  }
}

int sb_kernel_params_fit(sb_kernel_family family, const sb_kernel_entry* e, int32_t param1, int32_t param2) {
  if (!valid(family)) return 0;
  return param_fits(tables[family].rules[0], e->param1, param1) && param_fits(tables[family].rules[1], e->param2, param2);
}

/* ---- runtime ISA levels (registry.h) ---- */
enum { LEVEL_SCALAR = 0, LEVEL_BASE = 1, LEVEL_AVX2 = 2, LEVEL_AVX512 = 3 };

#if defined(SB_ARCH_X86)
static const char* const level_names[] = {"scalar", "sse4.1", "avx2", "avx512"};
static const char* const backend_names[] = {"scalar", "x86-sse4.1", "x86-avx2", "x86-avx512"};
#elif defined(SB_ARCH_NEON) && defined(SB_NEON_SIMDE)
static const char* const level_names[] = {"scalar", "neon"};
static const char* const backend_names[] = {"scalar", "neon-simde"};
#elif defined(SB_ARCH_NEON)
static const char* const level_names[] = {"scalar", "neon"};
static const char* const backend_names[] = {"scalar", "neon"};
#elif defined(SB_ARCH_WASMSIMD)
static const char* const level_names[] = {"scalar", "wasmsimd"};
static const char* const backend_names[] = {"scalar", "wasm-simd128"};
#else
static const char* const level_names[] = {"scalar"};
static const char* const backend_names[] = {"scalar"};
#endif
#define LEVEL_COUNT ((int)(sizeof level_names / sizeof level_names[0]))

/* The best level this CPU runs (x86: cpuid through the compiler's builtins, which also check that the OS saves the
 * AVX/AVX-512 registers); other builds: their one arch level. */
static int cpu_level(void) {
#if defined(SB_ARCH_X86)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("sse4.1")) return LEVEL_SCALAR;
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return LEVEL_BASE;
  return __builtin_cpu_supports("avx512f") ? LEVEL_AVX512 : LEVEL_AVX2;
#else
  return LEVEL_COUNT - 1;
#endif
}

/* The level SPARSEBYTE_KERNELS asks for, or the CPU's best; *error receives why a request is refused (or NULL). The
 * variable is read at each call (model loads), so a process may switch levels between loads (tests do). */
static int requested_level(const char** error) {
  static char message[200];
  const int best = cpu_level();
  const char* want = getenv("SPARSEBYTE_KERNELS");
  *error = NULL;
  if (want == NULL || want[0] == '\0' || strcmp(want, "auto") == 0) return best;
  for (int i = 0; i < LEVEL_COUNT; i++) {
    if (strcmp(want, level_names[i]) == 0 || (i == 1 && strcmp(want, "sse41") == 0 && LEVEL_COUNT == 4)) {
      if (i <= best) return i;
      snprintf(message, sizeof message, "SPARSEBYTE_KERNELS=%s: this CPU does not run that level (best: %s)", want,
               level_names[best]);
      *error = message;
      return best;
    }
  }
  int n = snprintf(message, sizeof message, "SPARSEBYTE_KERNELS=%.40s: unknown level (this build: auto", want);
  for (int i = 0; i < LEVEL_COUNT && n > 0 && (size_t)n < sizeof message; i++)
    n += snprintf(message + n, sizeof message - (size_t)n, ", %s", level_names[i]);
  if (n > 0 && (size_t)n < sizeof message - 1) snprintf(message + n, sizeof message - (size_t)n, ")");
  *error = message;
  return best;
}

int sb_kernel_level(void) {
  const char* error;
  return requested_level(&error);
}

const char* sb_kernel_level_error(void) {
  const char* error;
  (void)requested_level(&error);
  return error;
}

int sb_kernel_arch_rank(const char* arch) {
  if (strcmp(arch, "scalar") == 0) return LEVEL_SCALAR;
  if (strcmp(arch, "avx2") == 0) return LEVEL_AVX2;
  if (strcmp(arch, "avx512") == 0) return LEVEL_AVX512;
  return LEVEL_BASE;
}

int sb_kernel_entry_usable(const sb_kernel_entry* e) { return sb_kernel_arch_rank(e->arch) <= sb_kernel_level(); }

const char* sb_kernel_backend(void) { return backend_names[sb_kernel_level()]; }
