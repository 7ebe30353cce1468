/* Glue between the engine and TVM-generated kernels (docs/tvm.md).
 *
 * A TVM kernel object exports `int __tvm_ffi_<name>(void*, const TVMFFIAny* args, int32_t n, TVMFFIAny* result)`
 * (the tvm_ffi packed ABI); every argument is a DLTensor pointer (type index 7). The structs below are the
 * ABI-compatible subset of tvm_ffi/c_api.h and dlpack.h that the glue needs, so the engine needs no TVM headers
 * (tests/tvm checks the layouts against the real headers).
 *
 * The generator (sparsebyte.converters.tvm) writes one C file per model that defines sb_tvm_lookup(): a table from
 * node name to an adapter with the family's kernel signature, which checks the call matches the shapes the kernel was
 * generated for and otherwise runs the kernel dispatch chose (the `chosen` entry). */
#ifndef SB_TVM_H
#define SB_TVM_H

#include <stdint.h>

#include "registry.h"

typedef struct sb_dl_device {
  int32_t device_type; /* 1 = CPU */
  int32_t device_id;
} sb_dl_device;

typedef struct sb_dl_dtype {
  uint8_t code; /* 2 = float */
  uint8_t bits;
  uint16_t lanes;
} sb_dl_dtype;

typedef struct sb_dl_tensor {
  void* data;
  sb_dl_device device;
  int32_t ndim;
  sb_dl_dtype dtype;
  int64_t* shape;
  int64_t* strides; /* NULL: compact row-major */
  uint64_t byte_offset;
} sb_dl_tensor;

typedef struct sb_ffi_any {
  int32_t type_index; /* 7: DLTensor pointer */
  uint32_t zero_padding;
  union {
    int64_t v_int64;
    double v_float64;
    void* v_ptr;
  } v;
} sb_ffi_any;

typedef int sb_tvm_packed_fn(void* self, const sb_ffi_any* args, int32_t num_args, sb_ffi_any* result);

/* Calls a packed kernel with f32 tensors: data[i] with shape shapes[i] (ndims[i] dims). Returns the kernel's status
 * (0 = ok); on failure sb_tvm_last_error() holds TVM's message. */
int sb_tvm_call_f32(sb_tvm_packed_fn* fn, int count, void* const* data, const int64_t* const* shapes,
                    const int32_t* ndims);
/* A kernel needing i32 tensors (sparse index tables) marks them in is_i32[i]. */
int sb_tvm_call(sb_tvm_packed_fn* fn, int count, void* const* data, const int64_t* const* shapes, const int32_t* ndims,
                const uint8_t* is_i32);
const char* sb_tvm_last_error(void);

/* The hook dispatch calls once per node with the kernel it chose; a generated <model>_tvm.c defines it (engine
 * builds without TVM kernels leave the weak reference NULL). Returns a TVM entry to use instead, or NULL. */
const sb_kernel_entry* sb_tvm_lookup(const char* node_name, sb_kernel_family family, const sb_kernel_entry* chosen);

#endif /* SB_TVM_H */
