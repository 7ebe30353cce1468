/* A small fixed pthread pool. sb_parallel_for cuts [0, n) into one contiguous chunk per thread; the caller's thread
 * runs chunk 0. Chunks never split a reduction, so results do not depend on the thread count. With SB_NO_THREADS
 * (wasm) everything runs on the calling thread. One job at a time per pool: the model's lock (model.c) keeps two
 * runs of one model, and so two callers of its pool, from overlapping. */
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
void sb_parallel_for(sb_threadpool* pool, size_t n, size_t grain, sb_range_fn fn, void* ctx) {
  (void)pool;
  (void)grain;
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

struct sb_threadpool {
  int threads;
  pthread_t* workers;
  pthread_mutex_t lock;
  pthread_cond_t work_ready, work_done;
  uint64_t generation; /* bumped for every job */
  int pending;         /* workers still running the current job */
  int stopping;
  /* current job */
  sb_range_fn fn;
  void* ctx;
  size_t n, chunk;
};

typedef struct worker_arg {
  sb_threadpool* pool;
  int index;
} worker_arg;

static void run_chunk(sb_threadpool* p, int index) {
  size_t begin = (size_t)index * p->chunk;
  if (begin >= p->n) return;
  size_t end = begin + p->chunk < p->n ? begin + p->chunk : p->n;
  p->fn(p->ctx, begin, end);
}

static void* worker_main(void* arg) {
  worker_arg* w = arg;
  sb_threadpool* p = w->pool;
  int index = w->index;
  free(w);
  uint64_t seen = 0;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (!p->stopping && p->generation == seen) pthread_cond_wait(&p->work_ready, &p->lock);
    if (p->stopping) break;
    seen = p->generation;
    pthread_mutex_unlock(&p->lock);
    run_chunk(p, index);
    pthread_mutex_lock(&p->lock);
    if (--p->pending == 0) pthread_cond_signal(&p->work_done);
  }
  pthread_mutex_unlock(&p->lock);
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

void sb_threadpool_destroy(sb_threadpool* p) {
  if (!p) return;
  pthread_mutex_lock(&p->lock);
  p->stopping = 1;
  pthread_cond_broadcast(&p->work_ready);
  pthread_mutex_unlock(&p->lock);
  for (int i = 1; i < p->threads; i++) pthread_join(p->workers[i], NULL);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->work_ready);
  pthread_cond_destroy(&p->work_done);
  free(p->workers);
  free(p);
}

void sb_parallel_for(sb_threadpool* p, size_t n, size_t grain, sb_range_fn fn, void* ctx) {
  if (n == 0) return;
  if (grain == 0) grain = 1;
  size_t units = (n + grain - 1) / grain;
  if (!p || p->threads <= 1 || units < 2) {
    fn(ctx, 0, n);
    return;
  }
  size_t per_thread = (units + (size_t)p->threads - 1) / (size_t)p->threads;
  pthread_mutex_lock(&p->lock);
  p->fn = fn;
  p->ctx = ctx;
  p->n = n;
  p->chunk = per_thread * grain;
  p->pending = p->threads - 1;
  p->generation++;
  pthread_cond_broadcast(&p->work_ready);
  pthread_mutex_unlock(&p->lock);
  run_chunk(p, 0);
  pthread_mutex_lock(&p->lock);
  while (p->pending > 0) pthread_cond_wait(&p->work_done, &p->lock);
  pthread_mutex_unlock(&p->lock);
}
#endif
