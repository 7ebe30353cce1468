"""Where N threads lose time, per operator: every chunk's thread CPU time and wall time, on the host build.

    python3 benchmarks/arm/pool_trace.py MODEL.sbn [MODEL.sbn ...] [--threads 1,2] [--rounds 12] [--repeat 3]
                                         [--rt] [--nodes] [--chunks NODE]

Builds a traced runner from the working tree (`make host`'s objects, plus copies of engine/src/threadpool.c and
executor.c with clock reads around every node, every chunk and the caller's wait for the last chunks; the
library itself is untouched) and runs each model in one process: every round runs each thread count (order
alternating, one untimed run after each switch) `--repeat` times. Printed per thread count, medians over runs:
the wall time, the paired speed-up over the first thread count (median over rounds), the work (CPU time of every
chunk on every thread plus the caller's serial part: what the threads really did, waiting excluded), the predicted
time (per node the caller's serial part plus the makespan of its chunk CPU times over N threads in claim order,
i.e. the time if hand-over were free) and the caller's waits. Work above the 1-thread work is the cost of running
together (cross-core data, shared caches, clocks), predicted above work / N is imbalance, wall above predicted is
hand-over. --nodes adds the per-node table, --chunks NODE each run's chunks of one node (chunk@thread:cpu/wall us
[start]). --rt: SCHED_FIFO (root), and while 1 thread is timed a spinning thread holds the other core, so other
jobs on a shared machine neither take our cores nor share our caches (docs/threads.md; keep such runs short).
The traced runs split by the fixed cost rule (SPARSEBYTE_SPLIT=cost) unless SPARSEBYTE_SPLIT says otherwise."""

from __future__ import annotations

import argparse
import collections
import heapq
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

TRACE_H = r"""
#pragma once
#include <stdint.h>
#include <time.h>
typedef struct tr_ev { int kind, node, thread, chunk; uint64_t w0, w1, c0, c1; } tr_ev;
/* kind: 0 node (caller), 1 chunk, 2 the caller's wait after its own chunks */
extern volatile int tr_on, tr_node;
extern __thread int tr_thread;
static inline uint64_t tr_wall(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec; }
static inline uint64_t tr_cpu(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec; }
void tr_add(int kind, int chunk, uint64_t w0, uint64_t w1, uint64_t c0, uint64_t c1);
"""

DRIVER_C = r"""
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sparsebyte.h"
#include "trace.h"
#define MAX_EV (1 << 20)
static tr_ev events[MAX_EV];
static volatile int n_events;
volatile int tr_on, tr_node;
__thread int tr_thread;
void tr_add(int kind, int chunk, uint64_t w0, uint64_t w1, uint64_t c0, uint64_t c1) {
  int i = __atomic_fetch_add(&n_events, 1, __ATOMIC_RELAXED);
  if (i < MAX_EV) events[i] = (tr_ev){kind, tr_node, tr_thread, chunk, w0, w1, c0, c1};
}
static volatile int hold_on, hold_quit;
static void* holder(void* a) { /* spins while fewer threads than cores are timed (--rt) */
  (void)a;
  while (!hold_quit) {
    if (!hold_on) { struct timespec t = {0, 200000}; nanosleep(&t, 0); }
  }
  return 0;
}
int main(int argc, char** argv) { /* model rounds repeat out hold threads... */
  const char* path = argv[1]; int rounds = atoi(argv[2]), reps = atoi(argv[3]), hold = atoi(argv[5]);
  int threads[16], nt = 0;
  for (int i = 6; i < argc && nt < 16; i++) threads[nt++] = atoi(argv[i]);
  sb_model* m;
  if (sb_model_load_file(path, &m) != SB_OK) { fprintf(stderr, "%s\n", sb_last_error()); return 1; }
  sb_tensor_info ti; sb_model_input_info(m, 0, &ti);
  size_t cnt = 1; for (int i = 0; i < ti.rank; i++) cnt *= (size_t)ti.dims[i];
  float* x = malloc(cnt * sizeof *x); srand(1);
  for (size_t i = 0; i < cnt; i++) x[i] = (float)rand() / RAND_MAX - 0.5f;
  sb_model_set_input(m, 0, x, cnt);
  FILE* f = fopen(argv[4], "w");
  pthread_t ht; if (hold) pthread_create(&ht, 0, holder, 0);
  for (int r = 0; r < rounds; r++)
    for (int k = 0; k < nt; k++) {
      const int t = threads[r % 2 == 0 ? k : nt - 1 - k];
      hold_on = hold && t == 1;
      sb_model_set_threads(m, t);
      sb_model_run(m);
      for (int q = 0; q < reps; q++) {
        n_events = 0; tr_on = 1;
        uint64_t w0 = tr_wall(); sb_model_run(m); uint64_t w1 = tr_wall();
        tr_on = 0;
        fprintf(f, "R %d %d %llu %llu\n", t, r, (unsigned long long)w0, (unsigned long long)w1);
        for (int i = 0; i < n_events && i < MAX_EV; i++) {
          const tr_ev* e = &events[i];
          fprintf(f, "E %d %d %d %d %llu %llu %llu %llu\n", e->kind, e->node, e->thread, e->chunk,
                  (unsigned long long)e->w0, (unsigned long long)e->w1, (unsigned long long)e->c0,
                  (unsigned long long)e->c1);
        }
      }
    }
  hold_quit = 1; if (hold) pthread_join(ht, 0);
  fclose(f); sb_model_free(m); return 0;
}
"""


def patch(text: str, edits: list[tuple[str, str]], name: str) -> str:
    for old, new in edits:
        if old not in text:
            raise SystemExit(f"pool_trace.py: {name} changed, update its patch (no '{old.strip()[:60]}')")
        text = text.replace(old, new)
    return text


def traced_sources(out: Path) -> None:
    pool = (REPO / "engine/src/threadpool.c").read_text()
    pool = patch(pool, [
        ('#include "internal.h"', '#include "internal.h"\n#include "trace.h"'),
        ("    p->fn(p->ctx, begin, end < p->n ? end : p->n);",
         "    const uint64_t w0_ = tr_on ? tr_wall() : 0, c0_ = tr_on ? tr_cpu() : 0;\n"
         "    p->fn(p->ctx, begin, end < p->n ? end : p->n);\n"
         "    if (tr_on) tr_add(1, (int)c, w0_, tr_wall(), c0_, tr_cpu());"),
        ("  worker_arg* w = arg;", "  worker_arg* w = arg;\n  tr_thread = w->index;"),
        ("  SPIN_UNTIL(atomic_load_explicit(&p->done, memory_order_acquire) == chunks);\n"
         "  if (atomic_load(&p->done) == chunks) return;",
         "  const uint64_t ww0_ = tr_on ? tr_wall() : 0, wc0_ = tr_on ? tr_cpu() : 0;\n"
         "#define RETURN_ do { if (tr_on) tr_add(2, (int)chunks, ww0_, tr_wall(), wc0_, tr_cpu()); return; } \\\n"
         "  while (0)\n"
         "  SPIN_UNTIL(atomic_load_explicit(&p->done, memory_order_acquire) == chunks);\n"
         "  if (atomic_load(&p->done) == chunks) RETURN_;"),
        ("  atomic_store(&p->caller_sleeping, 0);\n  pthread_mutex_unlock(&p->lock);\n}",
         "  atomic_store(&p->caller_sleeping, 0);\n  pthread_mutex_unlock(&p->lock);\n  RETURN_;\n}"),
    ], "engine/src/threadpool.c")
    (out / "threadpool_traced.c").write_text(pool)
    ex = (REPO / "engine/src/executor.c").read_text()
    ex = patch(ex, [
        ('#include "internal.h"', '#include "internal.h"\n#include "trace.h"'),
        ("    double start = m->profiling ? now_ms() : 0.0;",
         "    double start = m->profiling ? now_ms() : 0.0;\n"
         "    tr_node = i;\n    const uint64_t w0_ = tr_on ? tr_wall() : 0, c0_ = tr_on ? tr_cpu() : 0;"),
        ("    if (m->profiling) n->time_ms = now_ms() - start;",
         "    if (m->profiling) n->time_ms = now_ms() - start;\n"
         "    if (tr_on) tr_add(0, 0, w0_, tr_wall(), c0_, tr_cpu());"),
        ("      i += count - 1;\n      continue;",  # a fused chain (fuse.c): its first node holds it all
         "      if (tr_on) tr_add(0, 0, w0_, tr_wall(), c0_, tr_cpu());\n      i += count - 1;\n      continue;"),
    ], "engine/src/executor.c")
    (out / "executor_traced.c").write_text(ex)
    (out / "trace.h").write_text(TRACE_H)
    (out / "driver.c").write_text(DRIVER_C)


def build(out: Path) -> Path:
    subprocess.run(["make", "-s", "-j2", "host"], cwd=REPO, check=True)
    traced_sources(out)
    flags = (REPO / "build/host/flags").read_text().split()[1:]  # the host build's flags, after the compiler
    inc = ["-std=c11", "-w", f"-I{REPO}/engine/include", f"-I{REPO}/engine/kernels", f"-I{REPO}/engine/src",
           f"-I{REPO}", f"-I{out}"]
    objs = []
    for src in ("threadpool_traced.c", "executor_traced.c", "driver.c"):
        obj = out / (src[:-2] + ".o")
        subprocess.run(["gcc", *inc, *flags, "-c", str(out / src), "-o", str(obj)], check=True)
        objs.append(str(obj))
    exe = out / "pool-trace"
    # the traced objects come first: the archive's threadpool.o and executor.o are then never pulled in
    subprocess.run(["gcc", "-o", str(exe), *objs, str(REPO / "build/host/libsparsebyte.a"), "-lm", "-lpthread"],
                   check=True)
    return exe


def parse(path: Path) -> list[dict]:
    runs: list[dict] = []
    for line in path.read_text().splitlines():
        a = line.split()
        if a[0] == "R":
            runs.append({"t": int(a[1]), "r": int(a[2]), "wall": (int(a[4]) - int(a[3])) / 1e6, "ev": []})
        else:
            runs[-1]["ev"].append(tuple(int(v) for v in a[1:]))
    return runs


def makespan(costs: list[float], n: int) -> float:
    free = [0.0] * n
    for c in costs:  # in claim order, each chunk to the thread free first
        heapq.heappush(free, heapq.heappop(free) + c)
    return max(free)


def per_node(run: dict) -> dict[int, dict[str, float]]:
    nodes: dict[int, dict] = collections.defaultdict(lambda: {"wall": 0.0, "cpu": 0.0, "chunks": [], "own": 0.0,
                                                              "wait": 0.0, "waitcpu": 0.0})
    for kind, node, thread, _chunk, w0, w1, c0, c1 in run["ev"]:
        d = nodes[node]
        if kind == 0:
            d["wall"], d["cpu"] = (w1 - w0) / 1e6, (c1 - c0) / 1e6
        elif kind == 1:
            d["chunks"].append((c1 - c0) / 1e6)
            if thread == 0:
                d["own"] += (c1 - c0) / 1e6
        else:
            d["wait"] += (w1 - w0) / 1e6
            d["waitcpu"] += (c1 - c0) / 1e6
    out = {}
    for k, d in nodes.items():
        serial = max(d["cpu"] - d["own"] - d["waitcpu"], 0.0)
        out[k] = {"wall": d["wall"], "work": serial + sum(d["chunks"]), "wait": d["wait"], "chunks": len(d["chunks"]),
                  "pred": serial + (makespan(d["chunks"], run["t"]) if d["chunks"] else 0.0)}
    return out


def report(model: Path, runs: list[dict], threads: list[int], nodes: bool, chunks: int | None) -> None:
    by = collections.defaultdict(list)
    for r in runs:
        by[r["t"]].append(r)
    round_wall = collections.defaultdict(list)
    for r in runs:
        round_wall[(r["t"], r["r"])].append(r["wall"])
    rounds = sorted({r["r"] for r in runs})
    base = threads[0]
    print(f"\n{model.name}: {len(rounds)} rounds")
    print(f"{'threads':>8}{'wall ms':>9}{'paired x':>9}{'work ms':>9}{'pred ms':>9}{'wait ms':>9}")
    agg = {}
    for t in threads:
        ps = [per_node(r) for r in by[t]]
        keys = sorted(set.intersection(*(set(p) for p in ps)))
        agg[t] = {k: {f: statistics.median(p[k][f] for p in ps) for f in ("wall", "work", "pred", "wait", "chunks")}
                  for k in keys}
        tot = {f: statistics.median(sum(p[k][f] for k in keys) for p in ps) for f in ("work", "pred", "wait")}
        paired = statistics.median(statistics.median(round_wall[(base, q)]) / statistics.median(round_wall[(t, q)])
                                   for q in rounds)
        wall = statistics.median(r["wall"] for r in by[t])
        print(f"{t:>8}{wall:9.3f}{paired:9.2f}{tot['work']:9.3f}{tot['pred']:9.3f}{tot['wait']:9.3f}")
    if nodes:
        try:
            from sparsebyte import Model

            names = [f"{n.op} {n.kernel}" for n in Model(str(model)).nodes]
        except Exception:  # noqa: BLE001 - names are a convenience
            names = []
        print(f"{'node':>5} {'op, kernel':<44}" + "".join(f"{str(t) + 't wall/work/chunks':>24}" for t in threads))
        print("  (a chain fused with 2+ threads, engine/src/fuse.c, is all in its first node: the others show 'fused')")
        for k in sorted(agg[base]):
            name = (names[k] if k < len(names) else "")[:44]
            print(f"{k:>5} {name:<44}" + "".join(
                f"{agg[t][k]['wall']:10.3f}/{agg[t][k]['work']:<7.3f}/{agg[t][k]['chunks']:<4.0f}" if k in agg[t]
                else f"{'fused':>24}" for t in threads))
    if chunks is not None:
        for r in [r for r in runs if r["t"] != 1][:6]:
            ev = sorted((e for e in r["ev"] if e[1] == chunks and e[0] == 1), key=lambda e: e[4])
            if ev:
                t0 = ev[0][4]
                print(f"node {chunks} at {r['t']} threads: " + " ".join(
                    f"c{e[3]}@t{e[2]}:{(e[7] - e[6]) / 1e3:.0f}/{(e[5] - e[4]) / 1e3:.0f}[{(e[4] - t0) / 1e3:.0f}]"
                    for e in ev))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--threads", default="1,2", help="thread counts, the first is the base (default 1,2)")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rt", action="store_true", help="SCHED_FIFO and a spinner on the idle core (see above)")
    parser.add_argument("--nodes", action="store_true", help="per-node wall / work / chunks")
    parser.add_argument("--chunks", type=int, metavar="NODE", help="the chunk timeline of one node")
    args = parser.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    with tempfile.TemporaryDirectory(prefix="pool_trace_") as tmp:
        exe = build(Path(tmp))
        if args.rt:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        for model in args.models:
            out = Path(tmp) / "trace.txt"
            # the fixed cost rule unless told otherwise: the adaptive one would run some rounds inline (docs/threads.md)
            env = {**os.environ, "SPARSEBYTE_SPLIT": os.environ.get("SPARSEBYTE_SPLIT", "cost")}
            subprocess.run([str(exe), str(model), str(args.rounds), str(args.repeat), str(out), str(int(args.rt)),
                            *map(str, threads)], check=True, env=env)
            report(model, parse(out), threads, args.nodes, args.chunks)


if __name__ == "__main__":
    main()
