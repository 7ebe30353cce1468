/* Kernel choice at load time: the build architecture's choice table picks a registry kernel for the node's shape,
 * falling back to the family's scalar kernel (engine/kernels/choice.h); a TVM override may then replace it. */
#include "choice.h"
#include "internal.h"

/* Per-model kernel overrides (TVM-generated, engine/tvm/sb_tvm.h): defined only by a runner that links a generated
 * <model>_tvm.c; it gets the table's choice and returns a replacement or NULL. */
extern const sb_kernel_entry* sb_tvm_lookup(const char* node_name, sb_kernel_family family,
                                            const sb_kernel_entry* chosen) __attribute__((weak));

const sb_kernel_entry* sb_pick_kernel(sb_kernel_family family, sb_kernel_shape shape, const sb_node* node) {
  const sb_kernel_entry* chosen = sb_choose_kernel(family, &shape, NULL);
  if (!chosen) {
    sb_fail(SB_ERR_UNSUPPORTED, "node '%s' (%s): no %s kernel in this build fits (%s %d, %s %d)", node->name,
            node->def->name, sb_kernel_family_name(family), sb_kernel_family_param_name(family, 1), shape.param1,
            sb_kernel_family_param_name(family, 2), shape.param2);
    return NULL;
  }
  const sb_kernel_entry* override = sb_tvm_lookup ? sb_tvm_lookup(node->name, family, chosen) : NULL;
  return override ? override : chosen;
}

/* The active kernel level's name (registry.h): "x86-avx2", "neon", "scalar" (also when SPARSEBYTE_KERNELS=scalar). */
const char* sb_backend_name(void) { return sb_kernel_backend(); }
