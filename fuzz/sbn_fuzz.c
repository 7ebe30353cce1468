/* libFuzzer target: load + validate an arbitrary byte string as a .sbn model, then (when the validated model is small
 * enough to run quickly) query every info function, feed deterministic inputs, run it and read every output.
 * Any crash, sanitizer report or leak is a bug: the engine must turn every input into SB_OK or an error status.
 * Built by `make fuzz` (clang -fsanitize=fuzzer,address,undefined) and by `make asan` users through sbn_replay.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/src/internal.h"
#include "fuzz/sbn_fuzz.h"

/* Skip run() above this much estimated work, so one input costs milliseconds, not minutes (a valid hostile file may
 * describe a legitimately huge network; that is not a bug, only slow). */
#define FUZZ_MAX_WORK ((uint64_t)1 << 22)
#define FUZZ_MAX_ARENA ((size_t)64 << 20)

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Upper bound on the scalar work of one run: MACs for conv/fc, window size times outputs for pools, and the element
 * counts that every other operator touches. */
uint64_t sb_fuzz_estimated_work(const sb_model* m) {
  uint64_t work = 0;
  for (int32_t i = 0; i < m->num_nodes; i++) {
    const sb_node* n = &m->nodes[i];
    const sb_tensor* y = &m->tensors[n->output];
    uint64_t node_work = (uint64_t)(n->dense_macs > 0 ? n->dense_macs : 0);
    if (n->op == SB_OP_AVG_POOL || n->op == SB_OP_MAX_POOL) {
      const sb_tensor* x = &m->tensors[n->inputs[0]];
      node_work = (uint64_t)y->count * min_u64((uint64_t)sb_attr_pool_kh(n), (uint64_t)x->dims[2]) *
                  min_u64((uint64_t)sb_attr_pool_kw(n), (uint64_t)x->dims[3]);
    }
    for (int32_t k = 0; k < n->num_inputs; k++) node_work += m->tensors[n->inputs[k]].count;
    work += node_work + y->count;
  }
  return work;
}

static volatile unsigned metadata_sink; /* keeps the METADATA read loop from being optimised away */

/* The whole public API on one model, with deterministic inputs. Returns 0; crashes are what the fuzzer looks for. */
static void exercise(sb_model* model, int keep_intermediates) {
  sb_tensor_info info;
  sb_node_profile profile;
  for (int i = 0; i < sb_model_num_inputs(model); i++) (void)sb_model_input_info(model, i, &info);
  for (int i = 0; i < sb_model_num_nodes(model); i++) (void)sb_model_node_profile(model, i, &profile);
  size_t meta_size = 0;
  const char* meta = sb_model_metadata(model, &meta_size);
  unsigned sum = 0; /* touch every METADATA byte: ASan sees a pointer or size past the buffer */
  for (size_t k = 0; meta && k < meta_size; k++) sum += (unsigned char)meta[k];
  metadata_sink = sum;
  int major, minor;
  (void)sb_model_format_version(model, &major, &minor);
  for (int i = 0; i < sb_model_num_tensors(model); i++) {
    (void)sb_model_tensor_info(model, i, &info);
    (void)sb_model_find_tensor(model, info.name);
  }
  if (sb_fuzz_estimated_work(model) > FUZZ_MAX_WORK || sb_model_arena_bytes(model) > FUZZ_MAX_ARENA) return;
  if (keep_intermediates && sb_model_set_keep_intermediates(model, 1) != SB_OK) return;
  (void)sb_model_set_profiling(model, 1);
  for (int i = 0; i < sb_model_num_inputs(model); i++) {
    if (sb_model_input_info(model, i, &info) != SB_OK) continue;
    float* data = malloc((info.count ? info.count : 1) * sizeof *data);
    if (!data) return;
    /* Values in [-2, 2) with a few exact zeros, deterministic so a reproducer replays identically. */
    for (size_t k = 0; k < info.count; k++) data[k] = (float)((int)((k * 2654435761u) >> 7) % 64 - 32) / 16.0f;
    (void)sb_model_set_input(model, i, data, info.count);
    free(data);
  }
  if (sb_model_run(model) != SB_OK) return;
  for (int i = 0; i < sb_model_num_outputs(model); i++) {
    if (sb_model_output_info(model, i, &info) != SB_OK) continue;
    float* data = malloc((info.count ? info.count : 1) * sizeof *data);
    if (!data) return;
    (void)sb_model_get_output(model, i, data, info.count);
    free(data);
  }
  for (int i = 0; keep_intermediates && i < sb_model_num_tensors(model); i++) {
    if (sb_model_tensor_info(model, i, &info) != SB_OK) continue;
    float* data = malloc((info.count ? info.count : 1) * sizeof *data);
    if (!data) return;
    (void)sb_model_get_tensor(model, i, data, info.count); /* i32 constants are refused with an error: fine */
    free(data);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sb_model* model = NULL;
  sb_status status = sb_model_load_memory(data, size, &model);
  if (status != SB_OK) {
    /* Every failure must leave a message and no model. */
    if (model != NULL || sb_last_error()[0] == '\0') abort();
    return 0;
  }
  /* One bit of the header CRC picks the keep_intermediates path (a second arena plan): pseudo-random, replayable. */
  exercise(model, size >= 64 && (data[60] & 1));
  sb_model_free(model);
  return 0;
}
