/* Running the graph: inputs in, nodes in order (timed when profiling), outputs and kept tensors out. Each public
 * call holds the model's lock (the thread rule in sparsebyte.h); the static helpers expect it held. */
#define _POSIX_C_SOURCE 199309L
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

/* Adaptive inline-vs-split (docs/threads.md). Whether splitting a node across the pool pays depends on the machine
 * at the time (on a KVM guest a hand-over between cores costs 1x-3x what it does on one core, from minute to minute)
 * and on the kernels' speed, which the fixed cost rule (SB_CHUNK_MIN_COST) cannot know. So with a pool every node
 * is timed: its first run splits (the cost rule: one counted run under qemu is the cost rule's) and only finds out
 * whether the node dispatches at all (nodes that do not are left alone); then SPLIT_WARM runs of each mode
 * alternate for the whole graph (each mode timed with its neighbours in the same mode); then each node runs in the
 * cheaper mode and re-times the other one now and then (every `interval` runs, doubling while the choice holds,
 * back to SPLIT_PROBE_MIN when it flips; staggered over the nodes so that no one run probes them all). Inline runs
 * the node with no pool, exactly the 1-thread code, and chunks never split a reduction, so results are the same bits
 * either way. SPARSEBYTE_SPLIT=cost keeps the cost rule alone (deterministic chunks: tests, qemu instruction counts).
 * All of it is run state, under the model's lock. */
enum { SB_SPLIT_UNSEEN = 0, SB_SPLIT_NEVER, SB_SPLIT_TRACKED };
#define SPLIT_WARM 3
#define SPLIT_PROBE_MIN 8
#define SPLIT_PROBE_MAX 512
/* hysteresis: the other mode must be this much cheaper to take over (timing noise must not flip choices) */
#define SPLIT_MARGIN 0.93f

static void reset_split(sb_model* m) {
  for (int32_t i = 0; i < m->num_nodes; i++) memset(&m->nodes[i].split, 0, sizeof m->nodes[i].split);
  m->split_pool = m->pool;
  m->split_threads = sb_threadpool_threads(m->pool);
  const char* rule = getenv("SPARSEBYTE_SPLIT");
  m->split_adaptive = !(rule && !strcmp(rule, "cost"));
}

static int split_mode(const struct sb_split_stat* st) {
  if (st->state == SB_SPLIT_UNSEEN) return 1;
  if (st->samples[0] < SPLIT_WARM || st->samples[1] < SPLIT_WARM) return st->samples[0] < st->samples[1] ? 0 : 1;
  return st->until_probe == 0 ? !st->best : st->best;
}

static void split_learn(struct sb_split_stat* st, int mode, float ns, int32_t index) {
  const int warm = st->samples[0] < SPLIT_WARM || st->samples[1] < SPLIT_WARM;
  const int probe = !warm && mode != st->best;
  float* e = &st->est_ns[mode];
  if (st->samples[mode] == 0 || (warm && ns < *e))
    *e = ns; /* warm-up: the least of the samples (delays only add: preemption, a page fault, a late worker) */
  else if (!warm) {
    if (ns > 2.0f * *e) ns = 2.0f * *e; /* a preempted run must not swamp the estimate */
    *e += (ns - *e) * (probe ? 0.5f : 0.125f);
  }
  if (st->samples[mode] < UINT16_MAX) st->samples[mode]++;
  if (st->samples[0] < SPLIT_WARM || st->samples[1] < SPLIT_WARM) return;
  if (warm) { /* warm-up just ended: first choice; first probes staggered over the nodes */
    st->best = st->est_ns[1] < st->est_ns[0] * SPLIT_MARGIN;
    st->interval = SPLIT_PROBE_MIN;
    st->until_probe = (uint16_t)(SPLIT_PROBE_MIN + (uint32_t)index * 5u % SPLIT_PROBE_MIN);
    return;
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
}

static void run_nodes(sb_model* m) {
  sb_threadpool* const pool = m->pool;
  if (pool && (m->split_pool != pool || m->split_threads != sb_threadpool_threads(pool))) reset_split(m);
  const int adaptive = pool && m->split_adaptive;
  for (int32_t i = 0; i < m->num_nodes; i++) {
    sb_node* n = &m->nodes[i];
    struct sb_split_stat* st = &n->split;
    const int tracked = adaptive && st->state != SB_SPLIT_NEVER;
    const int mode = tracked ? split_mode(st) : 1;
    const size_t dispatched = tracked ? sb_threadpool_dispatches(pool) : 0;
    if (!mode) m->pool = NULL; /* the 1-thread code path */
    /* the same two clock reads serve the profile and the split stats (qemu's counts pair them per node) */
    double start = m->profiling || tracked ? now_ms() : 0.0;
    n->def->run(m, n);
    if (!n->def->fuses_activation) {
      sb_tensor* y = &m->tensors[n->output];
      if (n->act.kind != SB_ACT_NONE)
        for (size_t k = 0; k < y->count; k++) y->data[k] = sb_activate(&n->act, y->data[k]);
    }
    if (m->profiling || tracked) {
      const double ms = now_ms() - start;
      if (m->profiling) n->time_ms = ms;
      if (tracked) {
        if (st->state == SB_SPLIT_UNSEEN) /* the first run only finds out (its time has the arena's page faults) */
          st->state = sb_threadpool_dispatches(pool) != dispatched ? SB_SPLIT_TRACKED : SB_SPLIT_NEVER;
        else
          split_learn(st, mode, (float)(ms * 1e6), i);
      }
    }
    m->pool = pool;
  }
}

sb_status sb_model_run(sb_model* m) {
  if (!m) return sb_fail(SB_ERR_ARGUMENT, "model is NULL");
  sb_mutex_lock(m->lock);
  run_nodes(m);
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
  run_nodes(m);
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
  return SB_OK;
}

sb_status sb_model_set_keep_intermediates(sb_model* m, int enabled) {
  if (!m) return sb_fail(SB_ERR_ARGUMENT, "model is NULL");
  sb_mutex_lock(m->lock);
  sb_status st = set_keep_intermediates(m, enabled);
  sb_mutex_unlock(m->lock);
  return st;
}
