/* The kernel registry (registry.h): one static table per family (families.inc), filled from every list.h of the
 * build by the generated registry_lists.inc. */
#include "registry.h"

#include <stddef.h>

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
