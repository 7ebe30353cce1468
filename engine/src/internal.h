/* Internal structures of the engine: the parsed model, its tensors and nodes, shared helpers. */
#ifndef SB_INTERNAL_H
#define SB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "registry.h"
#include "sb_kernels.h"
#include "sbn_layout.h" /* SB_NUM_ATTRS, SB_ALIGN, SB_DTYPE_*: the file layout */
#include "sparsebyte.h"

#define SB_MAX_NODE_INPUTS 64
#define SB_MAX_GRAPH_IO 16
#define SB_MAX_DIM (1 << 24)
#define SB_MAX_TENSOR_BYTES ((uint64_t)1 << 31)
#ifndef SB_MAX_ARENA_BYTES /* builds for small devices (and the fuzzer) may lower it with -DSB_MAX_ARENA_BYTES=... */
#define SB_MAX_ARENA_BYTES ((uint64_t)1 << 32)
#endif

/* Op codes (SB_OP_*), arity and attribute accessors: ops/op_spec.h, generated from converters/opspec.py, included
 * at the end of this file (its accessors need sb_node). */

typedef struct sb_tensor {
  const char* name; /* NUL-terminated copy owned by the model */
  int32_t dtype;
  int32_t rank;
  int32_t dims[SB_MAX_RANK];
  size_t count; /* elements */
  int is_constant;
  const void* const_data; /* constants: inside the model's aligned copy of the file */
  /* graph facts, filled by validate.c */
  int producer; /* node index, -1 for constants and graph inputs */
  int is_graph_input;
  int is_graph_output;
  /* storage, filled by plan.c */
  int storage; /* tensor whose arena block holds the data (itself unless aliased by RESHAPE) */
  size_t arena_offset;
  float* data; /* activations: arena + offset; NULL for constants */
} sb_tensor;

typedef struct sb_model sb_model;
typedef struct sb_node sb_node;

typedef struct sb_op_def {
  const char* name;
  int min_inputs, max_inputs;
  /* Checks shapes and attributes, picks the kernel, builds per-node state, counts MACs. */
  sb_status (*prepare)(sb_model* model, sb_node* node);
  void (*run)(sb_model* model, sb_node* node);
  int fuses_activation; /* 0: the executor applies act_kind to the output after run */
} sb_op_def;

struct sb_node {
  int32_t op;
  const sb_op_def* def;
  const char* name;
  int32_t num_inputs;
  int32_t* inputs; /* tensor indices */
  int32_t output;
  sb_activation act;
  int32_t attrs[SB_NUM_ATTRS];
  const char* kernel_name;
  void (*kernel_fn)(void); /* for ops whose state is just the kernel */
  void* state;    /* op-specific, freed with free() */
  void* owned[2]; /* buffers derived at load (zero bias, group_start), freed with free() */
  int aliases_input; /* RESHAPE whose output shares its input's storage */
  int64_t macs, dense_macs;
  double time_ms;
};

typedef struct sb_threadpool sb_threadpool;
typedef struct sb_mutex sb_mutex;

struct sb_model {
  uint8_t* bytes; /* 64-byte aligned copy of the file */
  size_t size;
  char* names;
  int32_t num_tensors;
  sb_tensor* tensors;
  int32_t num_nodes;
  sb_node* nodes;
  int32_t* node_io;
  int32_t num_inputs, num_outputs;
  int32_t inputs[SB_MAX_GRAPH_IO], outputs[SB_MAX_GRAPH_IO];
  size_t weight_bytes;
  const uint8_t* metadata; /* METADATA section inside bytes, NULL if absent (format.c) */
  size_t metadata_size;
  int32_t version_minor;
  /* execution */
  float* arena;
  size_t arena_bytes;
  int keep_intermediates;
  int profiling;
  int threads;
  sb_threadpool* pool;
  /* adaptive splitting (executor.c): what the runs learnt on the current pool, and the rule in force */
  struct sb_split_stat {
    float est_ns[2];     /* per mode (0 inline, 1 split): the run's wall time (warm-up: least; then EWMA) */
    uint16_t samples[2]; /* runs timed in each mode (saturating) */
    uint16_t interval;   /* runs between probes of the mode not chosen (doubles while the choice holds) */
    uint16_t until_probe;
    uint8_t seen;        /* the first run (not timed) is over */
    uint8_t best;        /* the chosen mode */
    uint8_t prev;        /* the mode of the run before (a run is timed only after one in the same mode) */
    uint8_t trace;       /* SPARSEBYTE_SPLIT_TRACE set: one stderr line per run */
    uint32_t runs;       /* runs since the reset (for the trace) */
  } split;
  int split_adaptive; /* SPARSEBYTE_SPLIT=adaptive (default) | cost */
  /* fused inverted residuals (fuse.c), planned for fuse_key = threads * 2 + keep_intermediates (0: not yet) */
  struct sb_fused* fused;
  int32_t num_fused;
  int32_t* fused_at; /* per node: the chain starting there, or -1 */
  float* fuse_scratch; /* one region of fuse_part_floats per part */
  size_t fuse_part_floats;
  int fuse_key;
  sb_mutex* lock; /* taken by every call that reads or writes run state (model.c, executor.c) */
};

/* error.c */
sb_status sb_fail(sb_status status, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void sb_clear_error(void);
/* Prepends "prefix: " to the current message (e.g. the file name). */
void sb_prefix_error(const char* prefix);

/* crc32.c */
uint32_t sb_crc32(const uint8_t* data, size_t size);

/* format.c: parses the aligned bytes into model->tensors/nodes/graph with every per-entry check. */
sb_status sb_format_parse(sb_model* model);
/* format.c: the checks that need only the 64-byte header (magic, version, header CRC, header_size), and that the
 * size it declares is actual_size: what the file loader reads before the rest of a file. */
sb_status sb_format_check_header(const uint8_t* header, uint64_t actual_size);
/* validate.c: graph checks (order, producers, graph io) then each op's prepare. */
sb_status sb_validate_graph(sb_model* model);
const sb_op_def* sb_op_def_for(int32_t op);
const char* sb_op_name(int32_t op);

/* plan.c: assigns arena offsets (no reuse when keep_intermediates) and allocates the arena. */
sb_status sb_plan_arena(sb_model* model);
/* executor.c: forgets what the adaptive split learnt and reads SPARSEBYTE_SPLIT (the model's pool changed). */
void sb_split_reset(sb_model* model);

/* fuse.c: finds the chains to fuse for the model's thread count (none with 1 thread, with keep_intermediates, with
 * SPARSEBYTE_FUSE=0, or when out of memory), runs one, frees them all. */
void sb_fuse_plan(sb_model* model);
int32_t sb_fuse_run(sb_model* model, int32_t chain); /* returns the chain's node count */
void sb_fuse_clear(sb_model* model);

/* dispatch.c: the kernel the architecture's choice table (engine/kernels/choice.h) picks for the node's shape;
 * NULL if none fits (error set). */
const sb_kernel_entry* sb_pick_kernel(sb_kernel_family family, sb_kernel_shape shape, const sb_node* node);

/* threadpool.c */
typedef void (*sb_range_fn)(void* ctx, size_t begin, size_t end);
sb_threadpool* sb_threadpool_create(int threads);
void sb_threadpool_destroy(sb_threadpool* pool);
/* Runs fn over [0, n) split into contiguous chunks whose boundaries are multiples of grain (up to 4 per thread,
 * claimed dynamically by the caller and the workers); every index is computed alike whatever the thread count. */
void sb_parallel_for(sb_threadpool* pool, size_t n, size_t grain, sb_range_fn fn, void* ctx);
/* The least cost (MACs, or elements read and written) worth a chunk of its own: a loop of cost below twice this runs
 * inline on the caller (a dispatch to spinning workers costs ~1-2 us, ~10k MACs of SIMD work). */
#define SB_CHUNK_MIN_COST 16384.0
/* sb_parallel_for for a loop whose whole cost is `cost`: at most cost / SB_CHUNK_MIN_COST chunks, inline if < 2. */
void sb_parallel_for_cost(sb_threadpool* pool, size_t n, size_t grain, double cost, sb_range_fn fn, void* ctx);
/* Threads of the pool, the caller included (1 for NULL). */
int sb_threadpool_threads(const sb_threadpool* pool);
/* on: a run starts (idle workers spin until it ends instead of sleeping; sleeping ones wake); off: it ended. */
void sb_threadpool_hold(sb_threadpool* pool, int on);
/* partition.c: chunks worth running for a loop of whole cost `cost` on the pool (1: run it inline): up to 4 per
 * thread, none below SB_CHUNK_MIN_COST, a multiple of the thread count when above it, at most `most`. */
size_t sb_target_chunks(const sb_threadpool* pool, double cost, size_t most);
/* cuts[0..blocks] (cuts[0] = 0, cuts[blocks] = groups): group boundaries where the kept weights (group_start, the
 * prefix sums of nnz) reach b / blocks of the total, so each block of output groups costs about the same. */
void sb_split_groups(const int32_t* group_start, size_t groups, size_t blocks, size_t* cuts);
/* A plain mutex (no-ops with SB_NO_THREADS). create returns NULL when out of memory; lock/unlock accept NULL. */
sb_mutex* sb_mutex_create(void);
void sb_mutex_destroy(sb_mutex* mutex);
void sb_mutex_lock(sb_mutex* mutex);
void sb_mutex_unlock(sb_mutex* mutex);

/* shape helpers (validate.c) */
int sb_same_shape(const sb_tensor* a, const sb_tensor* b);
/* Writes "[1,3,224,224]" into buf. */
const char* sb_shape_str(const sb_tensor* t, char* buf, size_t size);
void* sb_aligned_alloc(size_t size);

/* a * b for non-negative counts (MACs), saturating at INT64_MAX: a hostile file must not overflow the counters. */
static inline int64_t sb_mul_sat(int64_t a, int64_t b) {
  if (a <= 0 || b <= 0) return 0;
  return a > INT64_MAX / b ? INT64_MAX : a * b;
}

/* Error helpers for op prepare functions: messages name the node and op. */
#define SB_NODE_FAIL(status, node, fmt, ...) \
  sb_fail((status), "node '%s' (%s): " fmt, (node)->name, (node)->def->name, __VA_ARGS__)

#include "ops/op_spec.h"

#endif /* SB_INTERNAL_H */
