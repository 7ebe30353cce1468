/* One registry of every kernel this build has, per family (the families: families.inc), built from the list.h files
 * (see sb_kernels.h): the build architecture's lists first (kernels_arm/<dir>/list.h under SB_ARCH_NEON,
 * kernels_wasm/<dir>/list.h under SB_ARCH_WASMSIMD, kernels_x86/<dir>/list.h under SB_ARCH_X86), the scalar lists
 * (engine/kernels/<dir>/list.h) last.
 * The registry says what exists; which kernel a node runs is the architecture's choice table (choice.h).
 * Dispatch, kernel tests and benchmarks all walk this one registry. */
#ifndef SB_KERNEL_REGISTRY_H
#define SB_KERNEL_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "sb_kernels.h"

typedef enum sb_kernel_family {
#define SB_FAMILY(name, ENUM, dir, type, p1, r1, p2, r2) SB_FAMILY_##ENUM,
#include "families.inc"
#undef SB_FAMILY
  SB_FAMILY_COUNT
} sb_kernel_family;

/* How dispatch matches a node's param against a kernel's (families.inc's rule columns). */
typedef enum sb_param_rule {
  SB_PARAM_EXACT, /* the kernel's value must equal the node's */
  SB_PARAM_ANY0,  /* 0 = any, else equal */
  SB_PARAM_INFO   /* informative (a tile size): never restricts */
} sb_param_rule;

typedef struct sb_kernel_entry {
  const char* name; /* the function's name, e.g. "sb_f32_spmm_ukernel__neon_g4_16x" */
  const char* arch; /* "neon", "wasmsimd", "sse41", "avx2", "avx512", "tvm", "scalar" (x86: the ISA level) */
  void (*fn)(void); /* cast to the family's sb_<family>_ukernel* */
  int32_t param1, param2; /* as documented for the family in families.inc / sb_kernels.h; 0 = any */
} sb_kernel_entry;

/* What a node offers a kernel: the family's params (G, kernel size, stride as families.inc names them; -1 when the
 * node has none a kernel could match, e.g. kh != kw) and the sizes the choice tables read. */
typedef struct sb_kernel_shape {
  int32_t param1, param2;
  int64_t pixels;                  /* output pixels per image and call (spmm/gemm: plane size; FC: 1) */
  int32_t in_channels, out_channels;
  int32_t out_w;                   /* conv families: output row width */
  int64_t kept;                    /* spmm/spconv: kept (group, input channel) pairs T; dense: 0 */
} sb_kernel_shape;

/* A node with only params (elementwise, pooling), and a conv node (conv families, and 1x1 convs through spmm/gemm). */
static inline sb_kernel_shape sb_kernel_shape_params(int32_t param1, int32_t param2) {
  const sb_kernel_shape s = {param1, param2, 0, 0, 0, 0, 0};
  return s;
}
static inline sb_kernel_shape sb_kernel_shape_conv(int32_t param1, int32_t param2, const sb_conv_shape* c,
                                                   int64_t kept) {
  const sb_kernel_shape s = {param1, param2, (int64_t)c->out_h * c->out_w, c->in_c, c->out_c, c->out_w, kept};
  return s;
}
/* FC: one pixel per call. */
static inline sb_kernel_shape sb_kernel_shape_fc(int32_t param1, int32_t in_channels, int32_t out_channels,
                                                 int64_t kept) {
  const sb_kernel_shape s = {param1, 0, 1, in_channels, out_channels, 1, kept};
  return s;
}

/* Entries of one family in list order (architecture, then scalar); *count receives the number. Never NULL for a
 * valid family. */
const sb_kernel_entry* sb_kernel_registry(sb_kernel_family family, size_t* count);
const char* sb_kernel_family_name(sb_kernel_family family); /* "f32_spmm", ... */
const char* sb_kernel_family_param_name(sb_kernel_family family, int which); /* which = 1, 2: "G", "stride", ... */
/* Whether the kernel's params accept the node's (families.inc rules). */
int sb_kernel_params_fit(sb_kernel_family family, const sb_kernel_entry* e, int32_t param1, int32_t param2);

/* Runtime ISA levels. An x86-64 build carries every level's kernels (kernels_x86/: entries with arch "sse41",
 * "avx2", "avx512"); which may run is decided at load: the CPU's best level (cpuid), lowered by the environment
 * variable SPARSEBYTE_KERNELS = scalar | sse4.1 | avx2 | avx512 (unset, empty or "auto": the best). Every build
 * accepts SPARSEBYTE_KERNELS=scalar (the reference kernels alone, the oracle one switch away) and its own arch name
 * (neon, wasmsimd). Levels rank scalar 0 < the build's baseline arch (sse41, neon, wasmsimd, tvm) 1 < avx2 2 <
 * avx512 3; an entry runs when its rank is at most the active level (the choice walk skips the others). */
int sb_kernel_level(void);                           /* the active level (0: scalar forced) */
int sb_kernel_arch_rank(const char* arch);           /* an entry's arch as a level */
int sb_kernel_entry_usable(const sb_kernel_entry* e); /* its rank <= the active level */
const char* sb_kernel_backend(void);                 /* the active level's name: "x86-avx2", "neon", "scalar", ... */
/* NULL, or why SPARSEBYTE_KERNELS is refused (unknown name, or a level this CPU cannot run); the level then is the
 * CPU's best and model loading fails with this message (engine/src/dispatch.c). Points at a static buffer. */
const char* sb_kernel_level_error(void);

#endif /* SB_KERNEL_REGISTRY_H */
