/* The choice walk over the build's table (choice.h), and the scalar configuration: scalar builds have no table, so
 * every node runs its family's scalar kernel. (This file is compiled into every build, like the scalar kernels.) */
#include "choice.h"

#include <string.h>

#if !defined(SB_ARCH_NEON) && !defined(SB_ARCH_WASMSIMD) && !defined(SB_ARCH_X86)
const sb_kernel_rule* const sb_kernel_rules = NULL;
const size_t sb_kernel_rule_count = 0;
const int32_t sb_conv_im2col_min_inputs = 0;
const int32_t sb_conv_im2col_max_direct_in_c = 0;
#endif

int64_t sb_kernel_inputs_per_output(sb_kernel_family family, const sb_kernel_shape* shape) {
  if (family != SB_FAMILY_F32_SPMM && family != SB_FAMILY_F32_SPCONV) return shape->in_channels;
  /* T / ceil(Cout / G), G = param1 of the sparse families */
  const int64_t g = shape->param1 > 0 ? shape->param1 : 1;
  const int64_t groups = ((int64_t)shape->out_channels + g - 1) / g;
  return groups > 0 ? shape->kept / groups : 0;
}

int sb_kernel_rule_matches(const sb_kernel_rule* r, const sb_kernel_shape* shape) {
  if (r->param1 != 0 && r->param1 != shape->param1) return 0;
  if (r->param2 != 0 && r->param2 != shape->param2) return 0;
  if (shape->pixels < r->min_pixels || (r->max_pixels > 0 && shape->pixels > r->max_pixels)) return 0;
  if (r->min_inputs > 0 || r->max_inputs > 0) {
    const int64_t in = sb_kernel_inputs_per_output(r->family, shape);
    if (in < r->min_inputs || (r->max_inputs > 0 && in > r->max_inputs)) return 0;
  }
  return 1;
}

const sb_kernel_entry* sb_kernel_lookup(sb_kernel_family family, void (*fn)(void)) {
  size_t count = 0;
  const sb_kernel_entry* entries = sb_kernel_registry(family, &count);
  for (size_t i = 0; i < count; i++)
    if (entries[i].fn == fn) return &entries[i];
  return NULL;
}

const sb_kernel_entry* sb_choose_kernel(sb_kernel_family family, const sb_kernel_shape* shape,
                                        const sb_kernel_rule** rule) {
  if (rule) *rule = NULL;
  const int level = sb_kernel_level(); /* runtime ISA level (registry.h): rules naming a higher one are skipped */
  for (size_t i = 0; i < sb_kernel_rule_count; i++) {
    const sb_kernel_rule* r = &sb_kernel_rules[i];
    if (r->family != family || !sb_kernel_rule_matches(r, shape)) continue;
    const sb_kernel_entry* e = sb_kernel_lookup(family, r->fn);
    /* a rule never overrides what the kernel accepts (the harness checks every rule names a registry kernel) */
    if (e && sb_kernel_arch_rank(e->arch) <= level && sb_kernel_params_fit(family, e, shape->param1, shape->param2)) {
      if (rule) *rule = r;
      return e;
    }
  }
  size_t count = 0;
  const sb_kernel_entry* entries = sb_kernel_registry(family, &count);
  for (size_t i = 0; i < count; i++) {
    const sb_kernel_entry* e = &entries[i];
    if (strcmp(e->arch, "scalar") == 0 && e->fn && sb_kernel_params_fit(family, e, shape->param1, shape->param2)) return e;
  }
  return NULL;
}
