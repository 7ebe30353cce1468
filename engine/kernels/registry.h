/* One registry of every kernel this build has, per family, built from the list.h files (see sb_kernels.h):
 * the build architecture's lists first (kernels_arm/<family>/list.h under SB_ARCH_NEON,
 * kernels_wasm/<family>/list.h under SB_ARCH_WASMSIMD), the scalar lists (engine/kernels/<family>/list.h) last.
 * Dispatch, kernel tests and benchmarks all walk this one registry. */
#ifndef SB_KERNEL_REGISTRY_H
#define SB_KERNEL_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "sb_kernels.h"

typedef enum sb_kernel_family {
  SB_FAMILY_F32_SPMM,
  SB_FAMILY_F32_GEMM,
  SB_FAMILY_F32_CONV,
  SB_FAMILY_F32_DWCONV,
  SB_FAMILY_F32_SPCONV,
  SB_FAMILY_F32_MAXPOOL,
  SB_FAMILY_F32_AVGPOOL,
  SB_FAMILY_F32_GAVGPOOL,
  SB_FAMILY_F32_VADD,
  SB_FAMILY_F32_VMUL,
  SB_FAMILY_F32_VADDC,
  SB_FAMILY_F32_VMULC,
  SB_FAMILY_F32_VACT,
  SB_FAMILY_F32_AFFINE,
  SB_FAMILY_COUNT
} sb_kernel_family;

typedef struct sb_kernel_entry {
  const char* name; /* the function's name, e.g. "sb_f32_spmm_ukernel__neon_g4_16x" */
  const char* arch; /* "neon", "wasmsimd", "tvm", "scalar" */
  void (*fn)(void); /* cast to the family's sb_<family>_ukernel* */
  int32_t param1, param2; /* as documented for the family in sb_kernels.h; 0 = any */
} sb_kernel_entry;

/* Entries of one family, best first; *count receives the number. Never NULL for a valid family. */
const sb_kernel_entry* sb_kernel_registry(sb_kernel_family family, size_t* count);
const char* sb_kernel_family_name(sb_kernel_family family); /* "f32_spmm", ... */

#endif /* SB_KERNEL_REGISTRY_H */
