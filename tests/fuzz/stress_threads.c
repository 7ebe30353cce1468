/* Thread stress test of the C API (docs/robustness.md, "Threads"), built with ASan+UBSan or TSan by
 * tests/fuzz/test_stress_threads.py.
 *
 * usage: stress_threads MODEL.sbn THREADS RUNS_PER_THREAD [TOLERANCE]
 *
 * Reference: one output per distinct input, from a fresh model with 1 engine thread, run by the main thread alone.
 * shared:   THREADS threads share one model (2 engine threads) and call sb_model_infer RUNS_PER_THREAD times each;
 *           thread 0 also changes the engine thread count (1..3) and toggles profiling every 16 runs, and every thread
 *           reads node profiles and the arena size in between, so every locked entry point races with runs.
 * separate: THREADS threads, one model each (2 engine threads), set_input / run / get_output.
 * counts:   one model, the main thread alone, every engine thread count 1..8 on every input (the pool's chunking
 *           changes with the count; RUNS_PER_THREAD 0 runs this mode only).
 * Every result must equal the reference bit for bit, or with TOLERANCE t > 0 to t (absolute and relative: models
 * whose inverted residuals engine/src/fuse.c fuses with 2-4 threads sum their projections in one part per thread).
 * Prints one line per mode:
 *   "<mode>: threads T, runs N, mismatches M, errors E"  and exits 1 if M or E is not 0. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sparsebyte.h"

#define MAX_IO 16

typedef struct job {
  const char* path;
  sb_model* shared; /* NULL: the worker loads its own model */
  int index, runs;
  long mismatches, errors;
} job;

static int num_inputs, num_outputs, distinct;
static size_t in_count[MAX_IO], out_count[MAX_IO];
static float** inputs;     /* [distinct * num_inputs] */
static float** references; /* [distinct * num_outputs] */

static float* alloc_floats(size_t n) { return malloc((n ? n : 1) * sizeof(float)); }

static void fill(float* data, size_t n, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    data[i] = (float)((s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
  }
}

/* One run on input set k into out[]: sb_model_infer when the model is shared, the three-call sequence otherwise. */
static sb_status run_once(sb_model* m, int k, int atomic, float** out) {
  const float* ins[MAX_IO];
  for (int i = 0; i < num_inputs; i++) ins[i] = inputs[k * num_inputs + i];
  if (atomic) return sb_model_infer(m, ins, in_count, out, out_count);
  for (int i = 0; i < num_inputs; i++) {
    sb_status st = sb_model_set_input(m, i, ins[i], in_count[i]);
    if (st != SB_OK) return st;
  }
  sb_status st = sb_model_run(m);
  for (int o = 0; st == SB_OK && o < num_outputs; o++) st = sb_model_get_output(m, o, out[o], out_count[o]);
  return st;
}

static double tolerance; /* 0: bit for bit */

static int same(const float* got, const float* want, size_t count) {
  if (tolerance <= 0.0) return memcmp(got, want, count * sizeof(float)) == 0;
  for (size_t i = 0; i < count; i++) {
    const double d = (double)got[i] - (double)want[i], bound = tolerance * (1.0 + fabs((double)want[i]));
    if (!(d <= bound && -d <= bound)) return 0; /* NaN fails too */
  }
  return 1;
}

static void* worker(void* arg) {
  job* j = arg;
  sb_model* m = j->shared;
  if (!m && (sb_model_load_file(j->path, &m) != SB_OK || sb_model_set_threads(m, 2) != SB_OK)) {
    fprintf(stderr, "worker %d: %s\n", j->index, sb_last_error());
    j->errors++;
    return NULL;
  }
  float* out[MAX_IO];
  for (int o = 0; o < num_outputs; o++) out[o] = alloc_floats(out_count[o]);
  for (int r = 0; r < j->runs; r++) {
    int k = (j->index + r) % distinct;
    if (j->shared && j->index == 0 && r % 16 == 0) {
      if (sb_model_set_threads(m, 1 + (r / 16) % 3) != SB_OK) j->errors++;
      if (sb_model_set_profiling(m, (r / 16) % 2) != SB_OK) j->errors++;
    }
    if (j->shared && r % 8 == 1) {
      sb_node_profile p;
      if (sb_model_node_profile(m, r % sb_model_num_nodes(m), &p) != SB_OK || p.time_ms < 0) j->errors++;
      if (sb_model_arena_bytes(m) == 0) j->errors++;
    }
    if (run_once(m, k, j->shared != NULL, out) != SB_OK) {
      fprintf(stderr, "worker %d run %d: %s\n", j->index, r, sb_last_error());
      j->errors++;
      continue;
    }
    for (int o = 0; o < num_outputs; o++)
      if (!same(out[o], references[k * num_outputs + o], out_count[o])) {
        j->mismatches++;
        break;
      }
  }
  for (int o = 0; o < num_outputs; o++) free(out[o]);
  if (!j->shared) sb_model_free(m);
  return NULL;
}

static int counts(const char* path) {
  sb_model* m = NULL;
  long runs = 0, mismatches = 0, errors = 0;
  if (sb_model_load_file(path, &m) != SB_OK) return 1;
  float* out[MAX_IO];
  for (int o = 0; o < num_outputs; o++) out[o] = alloc_floats(out_count[o]);
  for (int t = 1; t <= 8; t++) {
    if (sb_model_set_threads(m, t) != SB_OK) errors++;
    for (int k = 0; k < distinct; k++, runs++) {
      if (run_once(m, k, 1, out) != SB_OK) {
        fprintf(stderr, "counts: %d threads: %s\n", t, sb_last_error());
        errors++;
        continue;
      }
      for (int o = 0; o < num_outputs; o++)
        if (!same(out[o], references[k * num_outputs + o], out_count[o])) {
          fprintf(stderr, "counts: %d engine threads, input %d, output %d differs from 1 thread's\n", t, k, o);
          mismatches++;
          break;
        }
    }
  }
  for (int o = 0; o < num_outputs; o++) free(out[o]);
  sb_model_free(m);
  printf("counts: threads 8, runs %ld, mismatches %ld, errors %ld\n", runs, mismatches, errors);
  return mismatches || errors;
}

static int stress(const char* mode, const char* path, sb_model* shared, int threads, int runs) {
  pthread_t* tids = calloc((size_t)threads, sizeof *tids);
  job* jobs = calloc((size_t)threads, sizeof *jobs);
  for (int t = 0; t < threads; t++) {
    jobs[t] = (job){path, shared, t, runs, 0, 0};
    if (pthread_create(&tids[t], NULL, worker, &jobs[t]) != 0) {
      fprintf(stderr, "pthread_create failed\n");
      return 1;
    }
  }
  long mismatches = 0, errors = 0;
  for (int t = 0; t < threads; t++) {
    pthread_join(tids[t], NULL);
    mismatches += jobs[t].mismatches;
    errors += jobs[t].errors;
  }
  printf("%s: threads %d, runs %ld, mismatches %ld, errors %ld\n", mode, threads, (long)threads * runs, mismatches,
         errors);
  free(tids);
  free(jobs);
  return mismatches || errors;
}

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: %s MODEL.sbn THREADS RUNS_PER_THREAD [TOLERANCE]\n", argv[0]);
    return 2;
  }
  const char* path = argv[1];
  int threads = atoi(argv[2]), runs = atoi(argv[3]);
  tolerance = argc == 5 ? atof(argv[4]) : 0.0;
  if (threads < 1 || threads > 64 || runs < 0) return 2;
  sb_model* m = NULL;
  if (sb_model_load_file(path, &m) != SB_OK) {
    fprintf(stderr, "%s\n", sb_last_error());
    return 1;
  }
  num_inputs = sb_model_num_inputs(m);
  num_outputs = sb_model_num_outputs(m);
  if (num_inputs > MAX_IO || num_outputs > MAX_IO) return 1;
  for (int i = 0; i < num_inputs; i++) {
    sb_tensor_info info;
    sb_model_input_info(m, i, &info);
    in_count[i] = info.count;
  }
  for (int o = 0; o < num_outputs; o++) {
    sb_tensor_info info;
    sb_model_output_info(m, o, &info);
    out_count[o] = info.count;
  }
  distinct = threads + 3; /* so that threads run different inputs at the same moment */
  inputs = calloc((size_t)(distinct * num_inputs), sizeof *inputs);
  references = calloc((size_t)(distinct * num_outputs), sizeof *references);
  for (int k = 0; k < distinct; k++) {
    for (int i = 0; i < num_inputs; i++) {
      inputs[k * num_inputs + i] = alloc_floats(in_count[i]);
      fill(inputs[k * num_inputs + i], in_count[i], (uint32_t)(k * MAX_IO + i));
    }
    for (int o = 0; o < num_outputs; o++) references[k * num_outputs + o] = alloc_floats(out_count[o]);
    if (run_once(m, k, 0, &references[k * num_outputs]) != SB_OK) {
      fprintf(stderr, "reference run: %s\n", sb_last_error());
      return 1;
    }
  }
  sb_model_free(m);

  int failed = counts(path);
  if (runs > 0) {
    sb_model* shared = NULL;
    if (sb_model_load_file(path, &shared) != SB_OK || sb_model_set_threads(shared, 2) != SB_OK) return 1;
    failed |= stress("shared", path, shared, threads, runs);
    sb_model_free(shared);
    failed |= stress("separate", path, NULL, threads, runs);
  }

  for (int k = 0; k < distinct * num_inputs; k++) free(inputs[k]);
  for (int k = 0; k < distinct * num_outputs; k++) free(references[k]);
  free(inputs);
  free(references);
  return failed;
}
