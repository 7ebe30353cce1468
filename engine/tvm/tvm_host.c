/* The few backend symbols TVM-generated kernels reference, provided without libtvm_runtime:
 * TVMFFIErrorSetRaisedFromCStrParts (kernels report argument mismatches through it), and the workspace and
 * parallel-launch pointers (workspaces come from malloc; "parallel" loops run their tasks one after another, since
 * the engine's own thread pool already splits work across nodes' rows/pixels). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_tvm.h"

static _Thread_local char last_error[512];

void TVMFFIErrorSetRaisedFromCStrParts(const char* kind, const char** parts, int32_t num_parts);
void TVMFFIErrorSetRaisedFromCStrParts(const char* kind, const char** parts, int32_t num_parts) {
  size_t used = (size_t)snprintf(last_error, sizeof last_error, "%s: ", kind ? kind : "Error");
  for (int32_t i = 0; i < num_parts && used < sizeof last_error; i++)
    used += (size_t)snprintf(last_error + used, sizeof last_error - used, "%s", parts[i] ? parts[i] : "");
}

const char* sb_tvm_last_error(void) { return last_error; }

static void* alloc_workspace(int device_type, int device_id, uint64_t nbytes, int code_hint, int bits_hint) {
  (void)device_type, (void)device_id, (void)code_hint, (void)bits_hint;
  /* 64-byte alignment (TVM's buffer alignment); aligned_alloc wants a multiple of it */
  return aligned_alloc(64, ((size_t)nbytes + 63) / 64 * 64 + 64 * (nbytes == 0));
}

static int free_workspace(int device_type, int device_id, void* ptr) {
  (void)device_type, (void)device_id;
  free(ptr);
  return 0;
}

typedef struct sb_tvm_parallel_env {
  void* sync_handle;
  int32_t num_task;
} sb_tvm_parallel_env;
typedef int sb_tvm_parallel_lambda(int task_id, sb_tvm_parallel_env* env, void* cdata);

static int parallel_launch(sb_tvm_parallel_lambda* lambda, void* cdata, int num_task) {
  if (num_task <= 0) num_task = 1;
  sb_tvm_parallel_env env = {NULL, num_task};
  for (int t = 0; t < num_task; t++) {
    int status = lambda(t, &env, cdata);
    if (status != 0) return status;
  }
  return 0;
}

/* Strong definitions win over the kernels' weak (NULL) ones. */
void* (*__TVMBackendAllocWorkspace)(int, int, uint64_t, int, int) = alloc_workspace;
int (*__TVMBackendFreeWorkspace)(int, int, void*) = free_workspace;
int (*__TVMBackendParallelLaunch)(sb_tvm_parallel_lambda*, void*, int) = parallel_launch;

int sb_tvm_call(sb_tvm_packed_fn* fn, int count, void* const* data, const int64_t* const* shapes, const int32_t* ndims,
                const uint8_t* is_i32) {
  enum { MAX_ARGS = 8 };
  if (count > MAX_ARGS) {
    snprintf(last_error, sizeof last_error, "sb_tvm_call: %d arguments (at most %d)", count, MAX_ARGS);
    return -1;
  }
  sb_dl_tensor tensors[MAX_ARGS];
  sb_ffi_any args[MAX_ARGS];
  for (int i = 0; i < count; i++) {
    sb_dl_tensor t = {data[i], {1, 0}, ndims[i], {is_i32 && is_i32[i] ? 0 : 2, 32, 1}, (int64_t*)shapes[i], NULL, 0};
    tensors[i] = t;
    memset(&args[i], 0, sizeof args[i]);
    args[i].type_index = 7;
    args[i].v.v_ptr = &tensors[i];
  }
  sb_ffi_any result;
  memset(&result, 0, sizeof result);
  return fn(NULL, args, count, &result);
}

int sb_tvm_call_f32(sb_tvm_packed_fn* fn, int count, void* const* data, const int64_t* const* shapes,
                    const int32_t* ndims) {
  return sb_tvm_call(fn, count, data, shapes, ndims, NULL);
}
