/* A small fixed pthread pool (one per model, created by sb_model_set_threads and reused by every run).
 *
 * sb_parallel_for cuts [0, n) into chunks of whole grains, sizes within one grain of each other (a few per thread, a
 * multiple of the thread count when the cost allows, so a slow or descheduled thread does not hold the others up
 * and equal chunks end in whole rounds); the caller and the workers claim them one at a time, the caller from the
 * first chunk up and (odd-numbered) workers from the last one down, so each thread keeps the same part of every
 * operator and finds its inputs in its own cache (see JOB_FRONT). Chunks never split a
 * reduction and each index is computed the same way whichever thread runs it, so results do not depend on the
 * thread count. sb_parallel_for_cost also takes the loop's whole cost (MACs or elements touched): a loop too small
 * to amortise a dispatch runs inline on the caller, and no chunk is cheaper than SB_CHUNK_MIN_COST.
 *
 * Claims are tagged with the job (see JOB_ID): the caller waits only for chunks that were claimed, never for a
 * worker that has not woken up yet (on a loaded machine it may not get a CPU for milliseconds).
 *
 * Waiting: a worker that has finished a job spins (pause instructions, a sched_yield now and then) for SB_SPIN_NS
 * looking for the next one, then sleeps on a condition variable; the caller likewise spins for SB_SPIN_NS for the
 * last chunks, then sleeps. Operators of one inference follow each other within microseconds, so inside a run
 * nobody pays a futex wake-up (tens of microseconds each, two per operator, was the cost of the previous pool), and
 * an idle pool never spins for longer than SB_SPIN_NS. The sleep/wake hand-over is a Dekker pair on seq_cst atomics:
 * the waker stores the new state and then reads the sleeper count; the sleeper raises the count (under the mutex)
 * and then re-reads the state, so one of the two always sees the other.
 *
 * With SB_NO_THREADS (the single-thread wasm build) everything runs on the calling thread. One job at a time per
 * pool: the model's lock (model.c) keeps two runs of one model, and so two callers of its pool, from overlapping. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

#include "internal.h"

#if defined(SB_NO_THREADS)

struct sb_threadpool {
  int threads;
};

sb_threadpool* sb_threadpool_create(int threads) {
  (void)threads;
  return NULL;
}
void sb_threadpool_destroy(sb_threadpool* pool) { (void)pool; }
int sb_threadpool_threads(const sb_threadpool* pool) {
  (void)pool;
  return 1;
}
void sb_threadpool_hold(sb_threadpool* pool, int on) {
  (void)pool;
  (void)on;
}
void sb_parallel_for(sb_threadpool* pool, size_t n, size_t grain, sb_range_fn fn, void* ctx) {
  (void)pool;
  (void)grain;
  if (n) fn(ctx, 0, n);
}
void sb_parallel_for_cost(sb_threadpool* pool, size_t n, size_t grain, double cost, sb_range_fn fn, void* ctx) {
  (void)pool;
  (void)grain;
  (void)cost;
  if (n) fn(ctx, 0, n);
}

struct sb_mutex {
  int unused;
};
static sb_mutex the_mutex;
sb_mutex* sb_mutex_create(void) { return &the_mutex; }
void sb_mutex_destroy(sb_mutex* mutex) { (void)mutex; }
void sb_mutex_lock(sb_mutex* mutex) { (void)mutex; }
void sb_mutex_unlock(sb_mutex* mutex) { (void)mutex; }

#else
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

/* How long an idle worker (or a waiting caller) spins before it sleeps. */
#define SB_SPIN_NS 200000
/* Chunks per thread when the cost allows: enough to even out chunks of different cost and a thread that starts
 * late, few enough that per-chunk overheads (weights re-read per pixel chunk, one atomic per chunk) stay small. */
#define SB_CHUNKS_PER_THREAD 4

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#endif
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

struct sb_mutex {
  pthread_mutex_t mutex;
};

sb_mutex* sb_mutex_create(void) {
  sb_mutex* m = malloc(sizeof *m);
  if (m && pthread_mutex_init(&m->mutex, NULL) != 0) {
    free(m);
    return NULL;
  }
  return m;
}
void sb_mutex_destroy(sb_mutex* m) {
  if (!m) return;
  pthread_mutex_destroy(&m->mutex);
  free(m);
}
void sb_mutex_lock(sb_mutex* m) {
  if (m) pthread_mutex_lock(&m->mutex);
}
void sb_mutex_unlock(sb_mutex* m) {
  if (m) pthread_mutex_unlock(&m->mutex);
}

/* The job word: job id (32 bits) | next chunk from the front (16) | end of the unclaimed chunks (16). The caller (and
 * every even-numbered worker) claims from the front, odd-numbered workers from the back, so on 2 threads the caller
 * runs the first chunks and the worker the last ones of every operator: consecutive operators split alike (channel
 * blocks, pixel chunks) find their inputs in the cache of the core that wrote them (MobileNet-v1 90 %: 2 threads did
 * 1.38x the 1-thread CPU work with first-come claims, 1.29x with these and conv_common.c's channel blocks). A claim is
 * a CAS that checks the id, so a worker that wakes late (after its job ended, even while the next one is being
 * written) never runs a chunk of a job that is not current, and the caller never waits for a worker that did not
 * claim anything. */
#define JOB_ID(v) ((uint32_t)((v) >> 32))
#define JOB_FRONT(v) ((size_t)(((v) >> 16) & 0xFFFFu))
#define JOB_BACK(v) ((size_t)((v)&0xFFFFu))
#define SB_MAX_CHUNKS 0xFFFFu

struct sb_threadpool {
  int threads; /* including the caller */
  pthread_t* workers;
  pthread_mutex_t lock;
  pthread_cond_t work_ready, work_done;
  atomic_uint_fast64_t job;    /* see JOB_ID */
  atomic_size_t done;          /* chunks of the current job finished */
  atomic_int stopping;
  atomic_int sleeping_workers; /* workers in (or about to enter) cond_wait on work_ready */
  atomic_int caller_sleeping;  /* the caller in (or about to enter) cond_wait on work_done */
  atomic_int holding;          /* a run is in progress: idle workers keep spinning (sb_threadpool_hold) */
  /* the current job: written by the caller before it publishes the job word, read only by chunk owners */
  sb_range_fn fn;
  void* ctx;
  size_t n, grain, units, chunks; /* chunk c: grains [units * c / chunks, units * (c + 1) / chunks) */
};

typedef struct worker_arg {
  sb_threadpool* pool;
  int index; /* 1.. */
} worker_arg;

/* Spins for the predicate for up to SB_SPIN_NS (yielding the CPU now and then: on a loaded machine the thread we
 * wait for may need it); returns whether it became true. */
#define SPIN_UNTIL(cond)                                                   \
  do {                                                                     \
    const uint64_t start_ = now_ns();                                      \
    for (unsigned i_ = 1; !(cond); i_++) {                                 \
      cpu_relax();                                                         \
      if ((i_ & 63) == 0) {                                                \
        if (now_ns() - start_ > SB_SPIN_NS) break;                         \
        if ((i_ & 1023) == 0) sched_yield();                               \
      }                                                                    \
    }                                                                      \
  } while (0)

/* Claims and runs chunks of job `id` until none is left (or the job word has moved on): from the front, or from the
 * back (odd-numbered workers). */
static void run_chunks(sb_threadpool* p, uint32_t id, int from_back) {
  uint64_t v = atomic_load(&p->job);
  while (JOB_ID(v) == id && JOB_FRONT(v) < JOB_BACK(v)) {
    if (!atomic_compare_exchange_weak(&p->job, &v, from_back ? v - 1 : v + (1u << 16))) continue;
    const size_t c = from_back ? JOB_BACK(v) - 1 : JOB_FRONT(v), chunks = p->chunks;
    const size_t begin = p->units * c / chunks * p->grain, end = p->units * (c + 1) / chunks * p->grain;
    p->fn(p->ctx, begin, end < p->n ? end : p->n);
    /* after this increment the caller may return and write the next job: touch no job field past it */
    if (atomic_fetch_add(&p->done, 1) + 1 == chunks && atomic_load(&p->caller_sleeping)) {
      pthread_mutex_lock(&p->lock);
      pthread_cond_signal(&p->work_done);
      pthread_mutex_unlock(&p->lock);
    }
    v = atomic_load(&p->job);
  }
}

/* Waits until the job id differs from seen: spins for SB_SPIN_NS (for as long as the pool is held), then sleeps
 * until a new job or a hold. Returns the job id then (still `seen` when woken by a hold). */
static uint32_t wait_for_job(sb_threadpool* p, uint32_t seen) {
  do
    SPIN_UNTIL(JOB_ID(atomic_load_explicit(&p->job, memory_order_acquire)) != seen);
  while (JOB_ID(atomic_load(&p->job)) == seen && atomic_load_explicit(&p->holding, memory_order_relaxed));
  if (JOB_ID(atomic_load(&p->job)) == seen) {
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->sleeping_workers, 1);
    while (JOB_ID(atomic_load(&p->job)) == seen && !atomic_load(&p->holding))
      pthread_cond_wait(&p->work_ready, &p->lock);
    atomic_fetch_sub(&p->sleeping_workers, 1);
    pthread_mutex_unlock(&p->lock);
  }
  return JOB_ID(atomic_load(&p->job));
}

static void* worker_main(void* arg) {
  worker_arg* w = arg;
  sb_threadpool* p = w->pool;
  const int from_back = w->index & 1;
  free(w);
  uint32_t seen = 0;
  for (;;) {
    seen = wait_for_job(p, seen);
    if (atomic_load(&p->stopping)) break;
    run_chunks(p, seen, from_back);
  }
  return NULL;
}

sb_threadpool* sb_threadpool_create(int threads) {
  if (threads <= 1) return NULL;
  sb_threadpool* p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->workers = calloc((size_t)threads, sizeof *p->workers);
  if (!p->workers) {
    free(p);
    return NULL;
  }
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->work_ready, NULL);
  pthread_cond_init(&p->work_done, NULL);
  atomic_init(&p->job, 0);
  atomic_init(&p->done, 0);
  atomic_init(&p->stopping, 0);
  atomic_init(&p->sleeping_workers, 0);
  atomic_init(&p->caller_sleeping, 0);
  atomic_init(&p->holding, 0);
  p->threads = 1;
  for (int i = 1; i < threads; i++) {
    worker_arg* w = malloc(sizeof *w);
    if (!w) break;
    w->pool = p;
    w->index = i;
    if (pthread_create(&p->workers[i], NULL, worker_main, w) != 0) {
      free(w);
      break;
    }
    p->threads++;
  }
  return p;
}

static void wake_workers(sb_threadpool* p) {
  if (atomic_load(&p->sleeping_workers) == 0) return;
  pthread_mutex_lock(&p->lock);
  pthread_cond_broadcast(&p->work_ready);
  pthread_mutex_unlock(&p->lock);
}

/* A run that splits holds the pool (executor.c, around the whole run): idle workers spin between its nodes instead
 * of sleeping after SB_SPIN_NS, and sleeping ones are woken at its start, so neither its first node nor one after a
 * long serial stretch pays a futex wake-up (~0.1 ms on this KVM guest; the adaptive split would blame splitting for
 * it). Released, workers sleep SB_SPIN_NS after their last job, as before. The Dekker pair of
 * wake_workers/wait_for_job covers `holding` too. */
void sb_threadpool_hold(sb_threadpool* p, int on) {
  if (!p) return;
  atomic_store(&p->holding, on != 0);
  if (on) wake_workers(p);
}

/* Publishes a new job word (the next id) and wakes sleeping workers. */
static void publish(sb_threadpool* p, size_t chunks) {
  const uint64_t id = (uint64_t)(JOB_ID(atomic_load(&p->job)) + 1u);
  atomic_store(&p->job, id << 32 | (uint64_t)chunks);
  wake_workers(p);
}

void sb_threadpool_destroy(sb_threadpool* p) {
  if (!p) return;
  atomic_store(&p->stopping, 1);
  publish(p, 0);
  pthread_mutex_lock(&p->lock); /* unconditionally: a worker may be between its count and its wait */
  pthread_cond_broadcast(&p->work_ready);
  pthread_mutex_unlock(&p->lock);
  for (int i = 1; i < p->threads; i++) pthread_join(p->workers[i], NULL);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->work_ready);
  pthread_cond_destroy(&p->work_done);
  free(p->workers);
  free(p);
}

int sb_threadpool_threads(const sb_threadpool* p) { return p ? p->threads : 1; }

/* Runs fn over [0, n) in `chunks` (<= the grains) chunks of whole grains, sizes within one grain of each other (so
 * that chunks = k * threads ends in k rounds), on the caller and whichever workers come. */
static void dispatch(sb_threadpool* p, size_t n, size_t grain, size_t chunks, sb_range_fn fn, void* ctx) {
  if (chunks > SB_MAX_CHUNKS) chunks = SB_MAX_CHUNKS;
  p->fn = fn;
  p->ctx = ctx;
  p->n = n;
  p->grain = grain;
  p->units = (n + grain - 1) / grain;
  p->chunks = chunks;
  atomic_store(&p->done, 0);
  publish(p, chunks);
  run_chunks(p, JOB_ID(atomic_load(&p->job)), 0);
  SPIN_UNTIL(atomic_load_explicit(&p->done, memory_order_acquire) == chunks);
  if (atomic_load(&p->done) == chunks) return;
  pthread_mutex_lock(&p->lock);
  atomic_store(&p->caller_sleeping, 1);
  while (atomic_load(&p->done) != chunks) pthread_cond_wait(&p->work_done, &p->lock);
  atomic_store(&p->caller_sleeping, 0);
  pthread_mutex_unlock(&p->lock);
}

void sb_parallel_for(sb_threadpool* p, size_t n, size_t grain, sb_range_fn fn, void* ctx) {
  if (n == 0) return;
  if (grain == 0) grain = 1;
  const size_t units = (n + grain - 1) / grain;
  if (!p || p->threads <= 1 || units < 2) {
    fn(ctx, 0, n);
    return;
  }
  const size_t most = (size_t)p->threads * SB_CHUNKS_PER_THREAD;
  /* fewer than 2 grains per chunk: one grain each (chunks of 1 and 2 grains would end in a ragged last round) */
  dispatch(p, n, grain, units < 2 * most ? units : most, fn, ctx);
}

void sb_parallel_for_cost(sb_threadpool* p, size_t n, size_t grain, double cost, sb_range_fn fn, void* ctx) {
  if (n == 0) return;
  if (grain == 0) grain = 1;
  const size_t units = (n + grain - 1) / grain;
  const double by_cost = cost / SB_CHUNK_MIN_COST;
  if (!p || p->threads <= 1 || units < 2 || by_cost < 2.0) {
    fn(ctx, 0, n);
    return;
  }
  size_t chunks = (size_t)p->threads * SB_CHUNKS_PER_THREAD;
  if ((double)chunks > by_cost) chunks = (size_t)by_cost;
  if (chunks > (size_t)p->threads) chunks -= chunks % (size_t)p->threads; /* whole rounds */
  if (units < 2 * chunks) chunks = units; /* one grain each, as in sb_parallel_for */
  dispatch(p, n, grain, chunks, fn, ctx);
}
#endif
