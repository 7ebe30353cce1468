/* The kernel registry (registry.h): one static table per family, filled from every list.h of the build.
 * A list line is SB_UKERNEL(family, fn, p1, p2); for the table of family F, SB_PICK_F keeps the line and every other
 * SB_PICK_<family> drops it, so a list file may hold lines of several families. */
#include "registry.h"

#include <stddef.h>

/* Declare every kernel with its family's function type, so a mismatched signature fails to compile. */
#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;
#include "registry_lists.inc"
#undef SB_UKERNEL

#define SB_DROP(fn, p1, p2)
#define SB_KEEP(fn, p1, p2) {#fn, SB_LIST_ARCH, (void (*)(void))fn, p1, p2},
#define SB_UKERNEL(family, fn, p1, p2) SB_PICK_##family(fn, p1, p2)

#define SB_PICK_f32_spmm SB_DROP
#define SB_PICK_f32_gemm SB_DROP
#define SB_PICK_f32_conv SB_DROP
#define SB_PICK_f32_dwconv SB_DROP
#define SB_PICK_f32_spconv SB_DROP
#define SB_PICK_f32_maxpool SB_DROP
#define SB_PICK_f32_avgpool SB_DROP
#define SB_PICK_f32_gavgpool SB_DROP
#define SB_PICK_f32_vadd SB_DROP
#define SB_PICK_f32_vmul SB_DROP
#define SB_PICK_f32_vaddc SB_DROP
#define SB_PICK_f32_vmulc SB_DROP
#define SB_PICK_f32_vact SB_DROP
#define SB_PICK_f32_affine SB_DROP

#undef SB_PICK_f32_spmm
#define SB_PICK_f32_spmm SB_KEEP
static const sb_kernel_entry f32_spmm_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_spmm
#define SB_PICK_f32_spmm SB_DROP

#undef SB_PICK_f32_gemm
#define SB_PICK_f32_gemm SB_KEEP
static const sb_kernel_entry f32_gemm_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_gemm
#define SB_PICK_f32_gemm SB_DROP

#undef SB_PICK_f32_conv
#define SB_PICK_f32_conv SB_KEEP
static const sb_kernel_entry f32_conv_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_conv
#define SB_PICK_f32_conv SB_DROP

#undef SB_PICK_f32_dwconv
#define SB_PICK_f32_dwconv SB_KEEP
static const sb_kernel_entry f32_dwconv_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_dwconv
#define SB_PICK_f32_dwconv SB_DROP

#undef SB_PICK_f32_spconv
#define SB_PICK_f32_spconv SB_KEEP
static const sb_kernel_entry f32_spconv_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_spconv
#define SB_PICK_f32_spconv SB_DROP

#undef SB_PICK_f32_maxpool
#define SB_PICK_f32_maxpool SB_KEEP
static const sb_kernel_entry f32_maxpool_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_maxpool
#define SB_PICK_f32_maxpool SB_DROP

#undef SB_PICK_f32_avgpool
#define SB_PICK_f32_avgpool SB_KEEP
static const sb_kernel_entry f32_avgpool_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_avgpool
#define SB_PICK_f32_avgpool SB_DROP

#undef SB_PICK_f32_gavgpool
#define SB_PICK_f32_gavgpool SB_KEEP
static const sb_kernel_entry f32_gavgpool_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_gavgpool
#define SB_PICK_f32_gavgpool SB_DROP

#undef SB_PICK_f32_vadd
#define SB_PICK_f32_vadd SB_KEEP
static const sb_kernel_entry f32_vadd_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_vadd
#define SB_PICK_f32_vadd SB_DROP

#undef SB_PICK_f32_vmul
#define SB_PICK_f32_vmul SB_KEEP
static const sb_kernel_entry f32_vmul_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_vmul
#define SB_PICK_f32_vmul SB_DROP

#undef SB_PICK_f32_vaddc
#define SB_PICK_f32_vaddc SB_KEEP
static const sb_kernel_entry f32_vaddc_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_vaddc
#define SB_PICK_f32_vaddc SB_DROP

#undef SB_PICK_f32_vmulc
#define SB_PICK_f32_vmulc SB_KEEP
static const sb_kernel_entry f32_vmulc_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_vmulc
#define SB_PICK_f32_vmulc SB_DROP

#undef SB_PICK_f32_vact
#define SB_PICK_f32_vact SB_KEEP
static const sb_kernel_entry f32_vact_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_vact
#define SB_PICK_f32_vact SB_DROP

#undef SB_PICK_f32_affine
#define SB_PICK_f32_affine SB_KEEP
static const sb_kernel_entry f32_affine_entries[] = {
#include "registry_lists.inc"
};
#undef SB_PICK_f32_affine
#define SB_PICK_f32_affine SB_DROP

#undef SB_UKERNEL

typedef struct family_table {
  const char* name;
  const sb_kernel_entry* entries;
  size_t count;
} family_table;

#define SB_TABLE(family) {#family, family##_entries, sizeof(family##_entries) / sizeof(family##_entries[0])}

/* Indexed by sb_kernel_family. */
static const family_table tables[SB_FAMILY_COUNT] = {
    SB_TABLE(f32_spmm),    SB_TABLE(f32_gemm),  SB_TABLE(f32_conv),  SB_TABLE(f32_dwconv),   SB_TABLE(f32_spconv),
    SB_TABLE(f32_maxpool), SB_TABLE(f32_avgpool), SB_TABLE(f32_gavgpool), SB_TABLE(f32_vadd), SB_TABLE(f32_vmul),
    SB_TABLE(f32_vaddc),   SB_TABLE(f32_vmulc), SB_TABLE(f32_vact),  SB_TABLE(f32_affine),
};

const sb_kernel_entry* sb_kernel_registry(sb_kernel_family family, size_t* count) {
  if ((int)family < 0 || family >= SB_FAMILY_COUNT) {
    *count = 0;
    return NULL;
  }
  *count = tables[family].count;
  return tables[family].entries;
}

const char* sb_kernel_family_name(sb_kernel_family family) {
  if ((int)family < 0 || family >= SB_FAMILY_COUNT) return "unknown";
  return tables[family].name;
}
