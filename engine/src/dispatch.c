/* Kernel choice at load time: the first registry entry of a family whose params fit the node (registry lists are
 * best first: architecture kernels, then the scalar reference). See sb_kernels.h for each family's params. */
#include "internal.h"

static int param_fits(int32_t wanted_by_kernel, int32_t have) { return wanted_by_kernel == 0 || wanted_by_kernel == have; }

static int entry_fits(sb_kernel_family family, const sb_kernel_entry* e, int32_t p1, int32_t p2) {
  switch (family) {
    case SB_FAMILY_F32_GEMM: return 1;                 /* channel/pixel tiles are informative */
    case SB_FAMILY_F32_SPMM: return e->param1 == p1;   /* G must match; pixel_tile is informative */
    default: return param_fits(e->param1, p1) && param_fits(e->param2, p2);
  }
}

/* Per-model kernel overrides (TVM-generated, engine/tvm/sb_tvm.h): defined only by a runner that links a generated
 * <model>_tvm.c; it gets the registry's choice and returns a replacement or NULL. */
extern const sb_kernel_entry* sb_tvm_lookup(const char* node_name, sb_kernel_family family,
                                            const sb_kernel_entry* chosen) __attribute__((weak));

const sb_kernel_entry* sb_pick_kernel(sb_kernel_family family, int32_t param1, int32_t param2, const sb_node* node) {
  size_t count = 0;
  const sb_kernel_entry* entries = sb_kernel_registry(family, &count);
  for (size_t i = 0; entries && i < count; i++)
    if (entries[i].fn && entry_fits(family, &entries[i], param1, param2)) {
      const sb_kernel_entry* override = sb_tvm_lookup ? sb_tvm_lookup(node->name, family, &entries[i]) : NULL;
      return override ? override : &entries[i];
    }
  sb_fail(SB_ERR_UNSUPPORTED, "node '%s' (%s): no %s kernel in this build fits (params %d, %d)", node->name,
          node->def->name, sb_kernel_family_name(family), param1, param2);
  return NULL;
}

const char* sb_backend_name(void) {
#if defined(SB_ARCH_NEON) && defined(SB_NEON_SIMDE)
  return "neon-simde";
#elif defined(SB_ARCH_NEON)
  return "neon";
#elif defined(SB_ARCH_WASMSIMD)
  return "wasm-simd128";
#else
  return "scalar";
#endif
}
