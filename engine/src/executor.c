/* Running the graph: inputs in, nodes in order (timed when profiling), outputs and kept tensors out. Each public
 * call holds the model's lock (the thread rule in sparsebyte.h); the static helpers expect it held. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static sb_status check_input(const sb_model* m, int index, const float* data, size_t count) {
  if (!data && count) return sb_fail(SB_ERR_ARGUMENT, "input data is NULL");
  if (index < 0 || index >= m->num_inputs)
    return sb_fail(SB_ERR_ARGUMENT, "input index %d out of range (%d inputs)", index, m->num_inputs);
  const sb_tensor* t = &m->tensors[m->inputs[index]];
  if (count != t->count)
    return sb_fail(SB_ERR_ARGUMENT, "input '%s': got %zu elements, the tensor has %zu", t->name, count, t->count);
  return SB_OK;
}

static void put_input(sb_model* m, int index, const float* data) {
  sb_tensor* t = &m->tensors[m->inputs[index]];
  if (t->count) memcpy(t->data, data, t->count * sizeof(float));
}

sb_status sb_model_set_input(sb_model* m, int index, const float* data, size_t count) {
  if (!m) return sb_fail(SB_ERR_ARGUMENT, "model is NULL");
  sb_mutex_lock(m->lock);
  sb_status st = check_input(m, index, data, count);
  if (st == SB_OK) put_input(m, index, data);
  sb_mutex_unlock(m->lock);
  return st;
}

/* Adaptive inline-vs-split (docs/threads.md). Whether splitting pays depends on the machine at the time (on this KVM
 * guest a hand-over between cores costs 1x-3x what it does on one core, from minute to minute) and on the kernels'
 * speed, which the fixed cost rule (SB_CHUNK_MIN_COST) cannot know. So with a pool the executor times whole runs:
 * the first run splits (the cost rule: one counted run under qemu is the cost rule's) and is not timed (the arena's
 * page faults); then SPLIT_WARM timed runs of each mode, taken in pairs (split split, inline inline, ...); then every
 * run takes the cheaper mode and the other one is re-timed now and then (every `interval` runs, doubling while the
 * choice holds, back to SPLIT_PROBE_MIN when it flips). A run is timed only when the run before it ran in the same
 * mode: a run inherits the caches the run before left (after an inline run the weights and activations sit in the
 * caller's core, and a split run pays for moving the worker's half; after a split run an inline run finds half of
 * them on the other core), so the first run after a switch is run but not counted (idle machine, SPARSEBYTE_SPLIT_
 * TRACE: MobileNetV2 dense split after inline 16.7 ms, split after split 14.4; MobileNet-v1 90 % 5.3 / 4.6 ms).
 * Inline runs every node with no pool, exactly the 1-thread code, and chunks never split a reduction, so results
 * are the same bits either way.
 * Per node it does not work here (tried first): a node's time depends on where its input was written, so a node
 * run inline between split ones reads half its input from the other core's cache and its inline time grows 1.5-2x
 * over the one measured in an all-inline run (MobileNetV2 dense, 2 threads: the per-node choice put 24 of 55 nodes
 * inline and then moved them back to split one by one over 20 runs). Whole runs have no such cross-talk.
 * SPARSEBYTE_SPLIT=cost keeps the cost rule alone (deterministic chunks: tests, qemu instruction counts). All of it
 * is run state, under the model's lock. */
#define SPLIT_WARM 3
#define SPLIT_PROBE_MIN 16
#define SPLIT_PROBE_MAX 1024
/* hysteresis: the other mode must be this much cheaper to take over (timing noise must not flip choices); ties go
 * to inline, which leaves the other cores to other work */
#define SPLIT_MARGIN 0.93f

void sb_split_reset(sb_model* m) {
  memset(&m->split, 0, sizeof m->split);
  const char* rule = getenv("SPARSEBYTE_SPLIT");
  m->split_adaptive = !(rule && !strcmp(rule, "cost"));
  const char* trace = getenv("SPARSEBYTE_SPLIT_TRACE");
  m->split.trace = trace && *trace && strcmp(trace, "0");
}

static int split_warm(const struct sb_split_stat* st) {
  return st->samples[0] < SPLIT_WARM || st->samples[1] < SPLIT_WARM;
}

/* The mode of the next run. Warm-up: the mode with fewer timed runs (split on ties), so after an untimed first run
 * of a pair (the mode changed) the same mode runs again and is timed. Then the chosen mode; a probe runs the other
 * mode until one probe run is timed (two runs). */
static int split_mode(const struct sb_split_stat* st) {
  if (!st->seen) return 1;
  if (split_warm(st)) return st->samples[0] < st->samples[1] ? 0 : 1;
  return st->until_probe == 0 ? !st->best : st->best;
}

/* Learns from a run in `mode` that took ns; returns 0 when the run was not counted (the first run, or the mode
 * differs from the run before's). */
static int split_learn(struct sb_split_stat* st, int mode, float ns) {
  const int after = st->prev;
  st->prev = (uint8_t)mode;
  if (!st->seen) {
    st->seen = 1;
    return 0;
  }
  if (mode != after) return 0; /* the caches as the other mode left them: not this mode's time */
  const int warm = split_warm(st);
  const int probe = !warm && mode != st->best;
  float* e = &st->est_ns[mode];
  if (st->samples[mode] == 0 || (warm && ns < *e))
    *e = ns; /* warm-up: the least of the samples (delays only add: preemption, a late worker) */
  else if (!warm) {
    if (ns > 2.0f * *e) ns = 2.0f * *e; /* a preempted run must not swamp the estimate */
    *e += (ns - *e) * (probe ? 0.5f : 0.125f);
  }
  if (st->samples[mode] < UINT16_MAX) st->samples[mode]++;
  if (split_warm(st)) return 1;
  if (warm) { /* warm-up just ended: the first choice */
    st->best = st->est_ns[1] < st->est_ns[0] * SPLIT_MARGIN;
    st->interval = st->until_probe = SPLIT_PROBE_MIN;
    return 1;
  }
  if (probe) {
    const int other = !st->best;
    if (st->est_ns[other] < st->est_ns[st->best] * SPLIT_MARGIN) {
      st->best = (uint8_t)other;
      st->interval = SPLIT_PROBE_MIN;
    } else if (st->interval < SPLIT_PROBE_MAX) {
      st->interval = (uint16_t)(st->interval * 2);
    }
    st->until_probe = st->interval;
  } else if (st->until_probe) {
    st->until_probe--;
  }
  return 1;
}

/* The adaptive split's clock, out of line: qemu's counting marks the clock reads inside run_nodes as the profile's
 * node boundaries (python/sparsebyte/devices/qemu.py pairs them), so these must not be there. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static double split_clock_ms(void) {
  return now_ms();
}

static void run_nodes(sb_model* m) {
  if (m->fuse_key != m->threads * 2 + m->keep_intermediates) sb_fuse_plan(m); /* not planned yet (a new model) */
  for (int32_t i = 0; i < m->num_nodes; i++) {
    sb_node* n = &m->nodes[i];
    double start = m->profiling ? now_ms() : 0.0;
    if (m->fused_at && m->fused_at[i] >= 0) {
      /* a fused chain: its time is its first node's; the others keep a (near zero) clock pair of their own, since
       * the qemu profile pairs clock reads with nodes */
      const int32_t count = sb_fuse_run(m, m->fused_at[i]);
      if (m->profiling) {
        n->time_ms = now_ms() - start;
        for (int32_t k = 1; k < count; k++) {
          start = now_ms();
          m->nodes[i + k].time_ms = now_ms() - start;
        }
      }
      i += count - 1;
      continue;
    }
    n->def->run(m, n);
    if (!n->def->fuses_activation) {
      sb_tensor* y = &m->tensors[n->output];
      if (n->act.kind != SB_ACT_NONE)
        for (size_t k = 0; k < y->count; k++) y->data[k] = sb_activate(&n->act, y->data[k]);
    }
    if (m->profiling) n->time_ms = now_ms() - start;
  }
}

/* run_nodes in the mode the adaptive split picks (split with the pool held, or inline with no pool), timed. */
static void run_graph(sb_model* m) {
  sb_threadpool* const pool = m->pool;
  if (!pool || !m->split_adaptive) {
    run_nodes(m);
    return;
  }
  const int mode = split_mode(&m->split);
  double start = m->profiling ? 0.0 : split_clock_ms();
  if (mode) {
    sb_threadpool_hold(pool, 1);
    run_nodes(m);
    sb_threadpool_hold(pool, 0);
  } else {
    m->pool = NULL; /* the 1-thread code path; the workers sleep */
    run_nodes(m);
    m->pool = pool;
  }
  double ms = 0.0;
  if (m->profiling) /* the profile's own clock reads: nothing added inside run_nodes */
    for (int32_t i = 0; i < m->num_nodes; i++) ms += m->nodes[i].time_ms;
  else
    ms = split_clock_ms() - start;
  const int counted = split_learn(&m->split, mode, (float)(ms * 1e6));
  if (m->split.trace)
    fprintf(stderr, "sb split: run %u %s %.3f ms%s; estimates inline %.3f split %.3f ms, best %s\n", m->split.runs,
            mode ? "split" : "inline", ms, counted ? "" : " (not counted)", m->split.est_ns[0] * 1e-6,
            m->split.est_ns[1] * 1e-6, split_warm(&m->split) ? "-" : m->split.best ? "split" : "inline");
  m->split.runs++;
}

sb_status sb_model_run(sb_model* m) {
  if (!m) return sb_fail(SB_ERR_ARGUMENT, "model is NULL");
  sb_mutex_lock(m->lock);
  run_graph(m);
  sb_mutex_unlock(m->lock);
  return SB_OK;
}

static sb_status copy_out(const sb_tensor* t, float* data, size_t count) {
  if (!data && count) return sb_fail(SB_ERR_ARGUMENT, "data is NULL");
  if (count != t->count)
    return sb_fail(SB_ERR_ARGUMENT, "tensor '%s': buffer of %zu elements, the tensor has %zu", t->name, count,
                   t->count);
  if (count) memcpy(data, t->is_constant ? t->const_data : t->data, count * sizeof(float));
  return SB_OK;
}

static sb_status check_output(const sb_model* m, int index) {
  if (index < 0 || index >= m->num_outputs)
    return sb_fail(SB_ERR_ARGUMENT, "output index %d out of range (%d outputs)", index, m->num_outputs);
  return SB_OK;
}

sb_status sb_model_get_output(const sb_model* m, int index, float* data, size_t count) {
  if (!m) return sb_fail(SB_ERR_ARGUMENT, "model is NULL");
  sb_status st = check_output(m, index);
  if (st != SB_OK) return st;
  sb_mutex_lock(m->lock);
  st = copy_out(&m->tensors[m->outputs[index]], data, count);
  sb_mutex_unlock(m->lock);
  return st;
}

sb_status sb_model_infer(sb_model* m, const float* const* inputs, const size_t* input_counts, float* const* outputs,
                         const size_t* output_counts) {
  if (!m) return sb_fail(SB_ERR_ARGUMENT, "model is NULL");
  if ((inputs && !input_counts) || (outputs && !output_counts))
    return sb_fail(SB_ERR_ARGUMENT, "inputs or outputs given without their counts");
  /* Every input and output buffer is checked before any input is written: a bad one leaves the model as it was. */
  for (int i = 0; inputs && i < m->num_inputs; i++) {
    sb_status st = check_input(m, i, inputs[i], input_counts[i]);
    if (st != SB_OK) return st;
  }
  for (int i = 0; outputs && i < m->num_outputs; i++) {
    const sb_tensor* t = &m->tensors[m->outputs[i]];
    if ((!outputs[i] && output_counts[i]) || output_counts[i] != t->count)
      return sb_fail(SB_ERR_ARGUMENT, "output '%s': buffer of %zu elements%s, the tensor has %zu", t->name,
                     output_counts[i], outputs[i] ? "" : " (NULL)", t->count);
  }
  sb_mutex_lock(m->lock);
  for (int i = 0; inputs && i < m->num_inputs; i++) put_input(m, i, inputs[i]);
  run_graph(m);
  for (int i = 0; outputs && i < m->num_outputs; i++) copy_out(&m->tensors[m->outputs[i]], outputs[i], output_counts[i]);
  sb_mutex_unlock(m->lock);
  return SB_OK;
}

sb_status sb_model_get_tensor(const sb_model* m, int tensor, float* data, size_t count) {
  if (!m) return sb_fail(SB_ERR_ARGUMENT, "model is NULL");
  if (tensor < 0 || tensor >= m->num_tensors)
    return sb_fail(SB_ERR_ARGUMENT, "tensor index %d out of range (%d tensors)", tensor, m->num_tensors);
  const sb_tensor* t = &m->tensors[tensor];
  if (t->dtype != SB_DTYPE_F32) return sb_fail(SB_ERR_ARGUMENT, "tensor '%s' is i32, not f32", t->name);
  sb_mutex_lock(m->lock);
  sb_status st;
  if (!t->is_constant && !t->is_graph_input && !t->is_graph_output && !m->keep_intermediates)
    st = sb_fail(SB_ERR_ARGUMENT,
                 "tensor '%s' is an intermediate whose memory is reused; call sb_model_set_keep_intermediates first",
                 t->name);
  else
    st = copy_out(t, data, count);
  sb_mutex_unlock(m->lock);
  return st;
}

static sb_status set_keep_intermediates(sb_model* m, int enabled) {
  enabled = enabled != 0;
  if (enabled == m->keep_intermediates) return SB_OK;
  /* Re-planning moves every tensor; carry the graph inputs over so set_input need not be repeated. */
  size_t total = 0;
  for (int32_t i = 0; i < m->num_inputs; i++) total += m->tensors[m->inputs[i]].count;
  float* saved = malloc((total ? total : 1) * sizeof(float));
  if (!saved) return sb_fail(SB_ERR_NOMEM, "out of memory saving the inputs");
  size_t at = 0;
  for (int32_t i = 0; i < m->num_inputs; i++) {
    const sb_tensor* t = &m->tensors[m->inputs[i]];
    memcpy(saved + at, t->data, t->count * sizeof(float));
    at += t->count;
  }
  int previous = m->keep_intermediates;
  m->keep_intermediates = enabled;
  sb_status st = sb_plan_arena(m);
  if (st != SB_OK) {
    m->keep_intermediates = previous;
    free(saved);
    return st; /* the old arena is still in place: sb_plan_arena only swaps on success */
  }
  at = 0;
  for (int32_t i = 0; i < m->num_inputs; i++) {
    sb_tensor* t = &m->tensors[m->inputs[i]];
    memcpy(t->data, saved + at, t->count * sizeof(float));
    at += t->count;
  }
  free(saved);
  sb_fuse_plan(m); /* keep_intermediates turns fusion off (every tensor must exist), and back on */
  return SB_OK;
}

sb_status sb_model_set_keep_intermediates(sb_model* m, int enabled) {
  if (!m) return sb_fail(SB_ERR_ARGUMENT, "model is NULL");
  sb_mutex_lock(m->lock);
  sb_status st = set_keep_intermediates(m, enabled);
  sb_mutex_unlock(m->lock);
  return st;
}
