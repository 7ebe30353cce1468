/* sparsebyte: inference engine for fine-grained group-sparse CNNs. Public C API.
 *
 * Every function that can fail returns an sb_status; on failure sb_last_error() returns a message
 * (per thread) that names the problem: the file, the section, the node or tensor, the shape.
 * No function aborts or reads outside the buffers it was given on bad input.
 *
 * Threads: a model may be shared by threads. Every call that reads or writes run state (inputs, run, outputs,
 * tensors, settings, profile times, arena size) holds the model's own lock, so calls on one model are serialised
 * and never race; separate models run in parallel. A sequence of calls (set_input, run, get_output) is not one
 * step: another thread may run in between. Use sb_model_infer, which sets the inputs, runs and reads the outputs
 * under one hold of the lock, or one model per thread. sb_model_free waits for a call in progress on another thread;
 * calling anything on a model after (or while another thread starts) sb_model_free is undefined: the bindings guard
 * their handle (Python raises ModelClosedError, JS "the model was freed"). */
#ifndef SPARSEBYTE_H
#define SPARSEBYTE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SB_VERSION_MAJOR 1
#define SB_VERSION_MINOR 0
#define SB_MAX_RANK 6
#define SB_MAX_THREADS 256

typedef enum sb_status {
  SB_OK = 0,
  SB_ERR_IO = 1,          /* file could not be opened or read */
  SB_ERR_FORMAT = 2,      /* the bytes are not a valid .sbn (truncated, bad magic/CRC/offsets, ...) */
  SB_ERR_VERSION = 3,     /* unsupported format version */
  SB_ERR_UNSUPPORTED = 4, /* valid file, but an operator/attribute this engine build cannot run */
  SB_ERR_NOMEM = 5,       /* allocation failed or a size cap was exceeded */
  SB_ERR_ARGUMENT = 6     /* bad argument from the caller (index, buffer size, NULL) */
} sb_status;

typedef struct sb_model sb_model;

typedef struct sb_tensor_info {
  const char* name; /* owned by the model */
  int32_t rank;
  int32_t dims[SB_MAX_RANK];
  size_t count; /* number of f32 elements */
} sb_tensor_info;

/* One node: every field but time_ms is decided at load, so it can be read before any run. */
typedef struct sb_node_profile {
  const char* name;   /* node name (from the source model) */
  const char* op;     /* "CONV", "CONV_SPARSE", ... */
  const char* kernel; /* the kernel dispatch chose, e.g. "sb_f32_spmm_ukernel__scalar" ("ref_concat" etc. for
                         built-in code outside the kernel registry) */
  double time_ms;     /* wall time of the last run with profiling on (0 before) */
  int64_t macs;       /* multiply-accumulates actually executed (sparse: kept weights only) */
  int64_t dense_macs; /* what the dense operator would execute */
  const char* kernel_family; /* registry family of kernel: "f32_spmm", "f32_gemm", ...; "" for built-in code */
} sb_node_profile;

/* Message of the last failed call on this thread ("" if none). */
const char* sb_last_error(void);
const char* sb_status_name(sb_status status);
const char* sb_version_string(void);
/* Which kernel set this build dispatches to: "scalar", "neon", "neon-simde", "wasm-simd128". */
const char* sb_backend_name(void);

/* Load and validate. load_memory copies the bytes, so the caller may free them at once. load_file refuses a path that
 * is not a regular file (directory, FIFO, device: SB_ERR_IO) without reading it, and checks the 64-byte header and
 * the file size it declares before reading the rest; files above 2^40 bytes are refused (SB_ERR_NOMEM). */
sb_status sb_model_load_file(const char* path, sb_model** out_model);
sb_status sb_model_load_memory(const void* data, size_t size, sb_model** out_model);
void sb_model_free(sb_model* model);

int sb_model_num_inputs(const sb_model* model);
int sb_model_num_outputs(const sb_model* model);
sb_status sb_model_input_info(const sb_model* model, int index, sb_tensor_info* info);
sb_status sb_model_output_info(const sb_model* model, int index, sb_tensor_info* info);

/* Threads used by run, 1..SB_MAX_THREADS (1 = no worker threads). Results do not depend on the thread count, but
 * for inverted-residual blocks (expand 1x1, depthwise, project 1x1), which with 2-4 threads sum their projection in one
 * part per thread: rounding differences (docs/threads.md; every run with the same count gives the same bits, and
 * SPARSEBYTE_FUSE=0 gives 1 thread's). */
sb_status sb_model_set_threads(sb_model* model, int threads);

/* count must equal the tensor's element count. */
sb_status sb_model_set_input(sb_model* model, int index, const float* data, size_t count);
sb_status sb_model_run(sb_model* model);
sb_status sb_model_get_output(const sb_model* model, int index, float* data, size_t count);
/* set_input for every input, run, get_output for every output, as one step under the model's lock: the call for
 * threads sharing a model. inputs[i] has input_counts[i] elements (inputs NULL: keep the current inputs); outputs[i]
 * receives output_counts[i] (outputs NULL: read none). Every count is checked before any input is written, so an
 * error leaves the model's inputs as they were. */
sb_status sb_model_infer(sb_model* model, const float* const* inputs, const size_t* input_counts,
                         float* const* outputs, const size_t* output_counts);

/* Profiling: when on, run() times every node. */
sb_status sb_model_set_profiling(sb_model* model, int enabled);
int sb_model_num_nodes(const sb_model* model);
/* Node `node` (execution order, as in the file): its op, chosen kernel, MACs, and the time of the last profiled run. */
sb_status sb_model_node_profile(const sb_model* model, int node, sb_node_profile* out);

/* The file's METADATA section (UTF-8 JSON from the converter, not NUL-terminated; the engine checks only its CRC):
 * a pointer into the model, valid until sb_model_free, and its byte count in *size. NULL and *size = 0 when the file
 * has none. */
const char* sb_model_metadata(const sb_model* model, size_t* size);
/* The .sbn format version the file declares (SB_VERSION_MAJOR, and a minor <= SB_VERSION_MINOR). */
sb_status sb_model_format_version(const sb_model* model, int* major, int* minor);

/* Keep every intermediate tensor (no arena reuse), so sb_model_get_tensor can read any of them after run.
 * For per-layer accuracy checks; costs memory. */
sb_status sb_model_set_keep_intermediates(sb_model* model, int enabled);
int sb_model_num_tensors(const sb_model* model);
/* Index of the tensor with this name, or -1. */
int sb_model_find_tensor(const sb_model* model, const char* name);
sb_status sb_model_tensor_info(const sb_model* model, int tensor, sb_tensor_info* info);
sb_status sb_model_get_tensor(const sb_model* model, int tensor, float* data, size_t count);

/* Peak bytes of the planned activation arena, and bytes of the constant weights. */
size_t sb_model_arena_bytes(const sb_model* model);
size_t sb_model_weight_bytes(const sb_model* model);

#ifdef __cplusplus
}
#endif
#endif /* SPARSEBYTE_H */
