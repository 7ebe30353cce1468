"""Host wall time, side by side in one run: our engine with the NEON kernels built for x86 through SIMDe
(`make host-neon`), our default host build (`make host`: its backend is printed, scalar or x86 SIMD), and
onnxruntime, on the same MobileNet weights and the same input, at each thread count.

    python benchmarks/arm/host_bench.py [--models mobilenet_v1,mobilenet_v2] [--sparsities 0,0.3,0.5,0.7,0.9]
                                        [--threads 1,2] [--rounds 5] [--repeat 5] [--engines host-neon,host,ort]
                                        [--zoo]

Each round runs every contender at every thread count once (`--repeat` timed runs each, the runner's median), so
machine load hits all thread counts of a round alike; the table shows the median over rounds and, for each thread
count, the median over rounds of the paired speedup (that round's 1-thread ms / this round's N-thread ms) and the
runner's CPU time at N threads / at 1 thread (cpu/1t: extra work the threads cost, ~1.0 whatever the load; with
several of our engines it sums them). The load average is printed per row: on a shared machine 2-thread wall
figures mean something only when it is well below the core count (docs/threads.md). --zoo times the zoo's converted
models (benchmarks/zoo/models/*/model.sbn, made by benchmarks/zoo/bench.py) with the first of --engines instead of
the MobileNets. MNN's sparse path is not compared.

What the machine itself gives 2 threads is printed at the start and the end ("machine: N threads x ..."): a register
FMA loop and a cache-sized memset on N threads vs 1, and what it costs a core to work on data the other core just
wrote (1 MiB read-modify-write passes taking turns between 2 cores / the same passes on one; tools compiled here
with gcc). On this KVM guest these vary within minutes (on 2026-12-02 07:40-08:00 with the 2 vCPUs otherwise idle:
the FMA loop 1.56-2.0x, the hand-over 0.86-3.6x), and a model's 2-thread speed-up with them (MobileNetV2 90 %
0.50-1.57x in the same half hour), so read an engine's speed-up against them. The "xfer" column is the hand-over
probe just before and just after the row's rounds: near 1.0 the row shows the pool, above 2 the machine (memory-bound
models cannot gain from a second core while data crossing between cores costs that much; docs/threads.md).

Our runners do --warmup (16) untimed runs first: with 2+ threads the engine's adaptive split (docs/threads.md) learns
in the first 12 runs of a process whether this run should split or run inline. `--engines host,host-cost` pairs it with
the fixed cost rule (SPARSEBYTE_SPLIT=cost) in every round.

--rt runs everything at SCHED_FIFO priority 10 (root, or CAP_SYS_NICE): on a machine shared with other jobs our
threads then get both cores, and while a contender is timed a spinning process at FIFO priority 1 sits on every core,
so that whatever core our threads leave (the second core of a 1-thread run, or of a 2-thread run that the adaptive
split runs inline) goes to a spinner, not to another job's cache and memory traffic; other jobs stall meanwhile (they
keep 5 % of each core: sched_rt_runtime_us), so use it for short runs."""

from __future__ import annotations

import argparse
import copy
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from sparsebyte.devices import LocalDevice, RunOptions
from sparsebyte.devices.tools import runner

ZOO_MODELS = Path(__file__).resolve().parents[1] / "zoo" / "models"


CPU_SECONDS: dict[tuple[Path, int], float] = {}  # the runner's CPU time (user + sys) per model and thread count


WARMUP = [16]  # runs before the timed ones: the adaptive split learns over the first 12 (docs/threads.md)


def runner_median_ms(device: LocalDevice, model: Path, threads: int, repeat: int,
                     split: str | None = None) -> tuple[float, str]:
    """split: SPARSEBYTE_SPLIT for the runner (None: the engine's default, adaptive)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    saved = os.environ.pop("SPARSEBYTE_SPLIT", None)
    if split is not None:
        os.environ["SPARSEBYTE_SPLIT"] = split
    try:
        report = device.run(model, options=RunOptions(warmup=WARMUP[0], repeat=repeat, threads=threads)).report
    finally:
        os.environ.pop("SPARSEBYTE_SPLIT", None)
        if saved is not None:
            os.environ["SPARSEBYTE_SPLIT"] = saved
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    key = (model, threads) if split is None else (model, threads, split)
    CPU_SECONDS[key] = CPU_SECONDS.get(key, 0.0) + cpu  # type: ignore[index]
    return float(report["latency_ms"]["median"]), str(report.get("backend", "?"))


def cpu_ratio(model: Path, base: int, t: int) -> float:
    """CPU time of all rounds at t threads / at base threads: ~1 when the pool does no extra work (spinning, split
    overheads), whatever the load; wall-time speed-ups need free cores on top."""
    return CPU_SECONDS.get((model, t), float("nan")) / max(CPU_SECONDS.get((model, base), 0.0), 1e-9)


def ort_median_ms(onnx_path: Path, threads: int, repeat: int) -> float:
    from sparsebyte.bench import onnxruntime_session

    session = onnxruntime_session(onnx_path, threads)
    name = session.get_inputs()[0].name
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224), dtype=np.float32)
    session.run(None, {name: x})
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        session.run(None, {name: x})
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def load() -> float:
    return os.getloadavg()[0]


PROBE_C = r"""
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
typedef float v8 __attribute__((vector_size(32)));
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static volatile float sink;
static void* fma_loop(void* arg) { /* 8 independent FMA chains in registers */
  long n = (long)arg; v8 x[8], m = {0}, b = {0};
  for (int i = 0; i < 8; i++) { x[i] = m; x[i] += 1.0f + i * 1e-3f; }
  m += 0.999999f; b += 1e-6f;
  for (long k = 0; k < n; k++)
    for (int i = 0; i < 8; i++) x[i] = x[i] * m + b;
  float s = 0; for (int i = 0; i < 8; i++) s += x[i][0]; sink = s; return 0;
}
#define MEM_BYTES (1 << 20)
static void* mem_loop(void* arg) { /* memset of a 1 MiB buffer (about one core's L2) */
  long n = (long)arg; char* p = aligned_alloc(64, MEM_BYTES);
  for (long r = 0; r < n; r++) { memset(p, (int)r, MEM_BYTES); __asm__ volatile("" ::"r"(p) : "memory"); }
  sink = p[7]; free(p); return 0;
}
static float* handoff_buf;
static atomic_int handoff_turn;
static void handoff_pass(void) { /* read-modify-write 1 MiB, vectorised: what an operator does to its input */
  float* b = handoff_buf;
  for (int i = 0; i < MEM_BYTES / 4; i++) b[i] = b[i] * 0.5f + 1.0f;
  __asm__ volatile("" ::"r"(b) : "memory");
}
static void* handoff_other(void* arg) {
  long n = (long)arg;
  for (long r = 0; r < n; r++) {
    while (atomic_load(&handoff_turn) != 1) {}
    handoff_pass();
    atomic_store(&handoff_turn, 0);
  }
  return 0;
}
/* the same 1 MiB passes, all on one core vs taking turns on two (each pass reads what the other core wrote):
 * time of the second / the first, 1.0 when cores share their caches for free */
static double handoff(long n) {
  handoff_buf = aligned_alloc(64, MEM_BYTES); memset(handoff_buf, 0, MEM_BYTES);
  double t0 = now();
  for (long r = 0; r < 2 * n; r++) handoff_pass();
  double t1 = now();
  pthread_t t; atomic_store(&handoff_turn, 0); pthread_create(&t, 0, handoff_other, (void*)n);
  for (long r = 0; r < n; r++) {
    while (atomic_load(&handoff_turn) != 0) {}
    handoff_pass();
    atomic_store(&handoff_turn, 1);
  }
  pthread_join(t, 0);
  double t2 = now();
  free(handoff_buf);
  return (t2 - t1) / (t1 - t0);
}
static double timed(void* (*fn)(void*), long n, int threads) {
  pthread_t t[64]; double t0 = now();
  for (int i = 1; i < threads; i++) pthread_create(&t[i], 0, fn, (void*)n);
  fn((void*)n);
  for (int i = 1; i < threads; i++) pthread_join(t[i], 0);
  return now() - t0;
}
int main(int argc, char** argv) {
  if (argc > 1 && !strcmp(argv[1], "spin")) { for (;;) __asm__ volatile("" ::: "memory"); }
  if (argc > 1 && !strcmp(argv[1], "handoff")) { /* median of 3 */
    double a = handoff(300), b = handoff(300), c = handoff(300);
    printf("%.3f\n", a > b ? (b > c ? b : a > c ? c : a) : (a > c ? a : b > c ? c : b));
    return 0;
  }
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  double f1 = 1e9, fn = 1e9, m1 = 1e9, mn = 1e9, h[5];
  for (int r = 0; r < 5; r++) { /* best of 5 for the loops (the capacity), the median hand-over (it has stretches) */
    double a = timed(fma_loop, 4000000, 1), b = timed(fma_loop, 4000000, threads);
    double c = timed(mem_loop, 2000, 1), d = timed(mem_loop, 2000, threads);
    if (a < f1) f1 = a; if (b < fn) fn = b; if (c < m1) m1 = c; if (d < mn) mn = d;
    h[r] = handoff(500);
    for (int i = r; i > 0 && h[i] < h[i - 1]; i--) { double t = h[i]; h[i] = h[i - 1]; h[i - 1] = t; }
  }
  printf("%.3f %.3f %.3f\n", threads * f1 / fn, threads * m1 / mn, h[2]);
  return 0;
}
"""
_PROBE: list[Path] = []


def probe_binary() -> Path | None:
    """The FMA / memset probe (compiled once per run), or None without gcc."""
    if not _PROBE:
        out = Path(tempfile.mkdtemp(prefix="host_bench_probe_")) / "probe"
        src = out.with_suffix(".c")
        src.write_text(PROBE_C)
        try:
            subprocess.run(["gcc", "-O2", "-march=native", "-o", str(out), str(src), "-lpthread"], check=True,
                           capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return None
        _PROBE.append(out)
    return _PROBE[0]


def machine(threads: int) -> str:
    """What the machine gives `threads` threads over 1 right now: FMA-bound and cache-bandwidth-bound loops."""
    probe = probe_binary()
    if probe is None or threads < 2:
        return "machine: probe unavailable"
    fma, mem, handoff = subprocess.run([str(probe), str(threads)], check=True, capture_output=True, text=True,
                                       timeout=120).stdout.split()
    return (f"machine: {threads} threads x{float(fma):.2f} on an FMA loop, x{float(mem):.2f} on a 1 MiB memset; "
            f"1 MiB passes alternating between 2 cores take {float(handoff):.2f}x the time on one core")


def handoff() -> str:
    """The hand-over probe alone (about 0.1 s): 1 MiB passes alternating between 2 cores / on one."""
    probe = probe_binary()
    if probe is None:
        return "?"
    out = subprocess.run([str(probe), "handoff"], check=True, capture_output=True, text=True, timeout=60).stdout
    return f"{float(out):.1f}"


class IdleCores:
    """With --rt, while t threads are timed, a spinning process at SCHED_FIFO priority 1 on every core: our threads
    (priority 10) preempt them wherever they run, and whatever core ours leave (the other cores of a 1-thread run, the
    second core while a 2-thread run goes inline or between its nodes) is held by a spinner rather than by another
    job (see the doc)."""

    PRIORITY = 1

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.spinners: list[subprocess.Popen[bytes]] = []

    def hold(self, threads: int) -> None:
        self.release()
        probe = probe_binary() if self.enabled else None
        if probe is not None:
            def below() -> None:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(self.PRIORITY))

            self.spinners = [subprocess.Popen([str(probe), "spin"], preexec_fn=below)
                             for _ in range(os.cpu_count() or 1)]

    def release(self) -> None:
        for p in self.spinners:
            p.kill()
            p.wait()
        self.spinners = []


IDLE = IdleCores(False)


def measure(contenders: dict[str, object], threads: list[int], rounds: int) -> dict[tuple[str, int], list[float]]:
    """contenders: name -> callable(threads) -> ms; every round runs each contender at each thread count once."""
    times: dict[tuple[str, int], list[float]] = {}
    for r in range(rounds):
        order = threads if r % 2 == 0 else threads[::-1]  # neither thread count always runs first
        for name, fn in contenders.items():
            for t in order:
                IDLE.hold(t)
                try:
                    times.setdefault((name, t), []).append(fn(t))  # type: ignore[operator]
                finally:
                    IDLE.release()
    return times


def paired_speedup(times: dict[tuple[str, int], list[float]], name: str, base: int, t: int) -> float:
    return statistics.median(a / b for a, b in zip(times[(name, base)], times[(name, t)], strict=True))


def mobilenets(args: argparse.Namespace, devices: dict[str, LocalDevice], threads: list[int]) -> None:
    import torch

    from sparsebyte.converters import convert
    from sparsebyte.models.export import export_onnx
    from sparsebyte.models.registry import build
    from sparsebyte.prune import prune_groups

    torch.set_num_threads(1)
    engines = [e for e in args.engines.split(",") if e]
    backends: dict[str, str] = {}
    cols = "".join(f"{e + ' ms':>16}" for e in engines)
    speed = "".join(f"{e + ' x' + str(threads[0]) + 't':>18}" for e in engines if e != "ort")
    print(f"{'model':<14}{'sparsity':>9}{'threads':>8}{cols}{speed}{'neon/ort':>9}{'cpu/1t':>8}{'load':>6}"
          f"{'xfer':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            base = build(name)
            dense_onnx = Path(export_onnx(base, Path(tmp) / f"{name}.onnx"))
            for s in (float(x) for x in args.sparsities.split(",")):
                model = copy.deepcopy(base)
                if s > 0:
                    with torch.no_grad():
                        prune_groups(model, s, group=4)
                sbn = Path(tmp) / f"{name}_{s}.sbn"
                convert(export_onnx(model, Path(tmp) / f"{name}_{s}.onnx"), sbn)
                contenders: dict[str, object] = {}
                for e in engines:
                    if e == "ort":
                        contenders[e] = lambda t, onnx=dense_onnx: ort_median_ms(onnx, t, args.repeat)
                    else:
                        def run(t: int, e: str = e, sbn: Path = sbn) -> float:
                            ms, backends[e] = runner_median_ms(devices[e.removesuffix("-cost")], sbn, t, args.repeat,
                                                               "cost" if e.endswith("-cost") else None)
                            return ms
                        contenders[e] = run
                before, xfer = load(), handoff()
                times = measure(contenders, threads, args.rounds)
                xfer += "-" + handoff()
                for t in threads:
                    med = {e: statistics.median(times[(e, t)]) for e in engines}
                    row = "".join(f"{med[e]:>16.1f}" for e in engines)
                    row += "".join(f"{paired_speedup(times, e, threads[0], t):>18.2f}" for e in engines if e != "ort")
                    ratio = med["host-neon"] / med["ort"] if "ort" in med and "host-neon" in med else float("nan")
                    cpu = cpu_ratio(sbn, threads[0], t)  # of the first engine that is ours
                    print(f"{name:<14}{s:>9.0%}{t:>8}{row}{ratio:>9.2f}{cpu:>8.2f}{max(before, load()):>6.1f}"
                          f"{xfer:>10}", flush=True)
    print("backends: " + ", ".join(f"{e} = {b}" for e, b in backends.items()))


def zoo(args: argparse.Namespace, devices: dict[str, LocalDevice], threads: list[int]) -> None:
    models = sorted(args.zoo_dir.glob("*/model.sbn"))
    if not models:
        raise SystemExit(f"no converted zoo models under {args.zoo_dir}: run benchmarks/zoo/bench.py first")
    engine = [e for e in args.engines.split(",") if e != "ort"][0]
    print(f"{'zoo model':<36}" + "".join(f"{str(t) + 't ms':>10}" for t in threads)
          + "".join(f"{'x' + str(t) + 't':>8}" for t in threads[1:])
          + "".join(f"{'cpu' + str(t) + 't':>8}" for t in threads[1:]) + f"{'load':>6}{'xfer':>10}   ({engine})")
    for sbn in models:
        device = devices[engine.removesuffix("-cost")]
        split = "cost" if engine.endswith("-cost") else None

        def run(t: int, sbn: Path = sbn, device: LocalDevice = device, split: str | None = split) -> float:
            return runner_median_ms(device, sbn, t, args.repeat, split)[0]  # the runner's random inputs

        before, xfer = load(), handoff()
        times = measure({engine: run}, threads, args.rounds)
        xfer += "-" + handoff()
        row = "".join(f"{statistics.median(times[(engine, t)]):>10.2f}" for t in threads)
        row += "".join(f"{paired_speedup(times, engine, threads[0], t):>8.2f}" for t in threads[1:])
        row += "".join(f"{cpu_ratio(sbn, threads[0], t):>8.2f}" for t in threads[1:])
        print(f"{sbn.parent.name:<36}{row}{max(before, load()):>6.1f}{xfer:>10}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mobilenet_v1,mobilenet_v2")
    parser.add_argument("--sparsities", default="0,0.3,0.5,0.7,0.9")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--engines", default="host-neon,host,ort",
                        help="contenders: host-neon (NEON through SIMDe), host (make host), ort (onnxruntime); "
                             "host-cost / host-neon-cost: the same runner with SPARSEBYTE_SPLIT=cost (the fixed "
                             "cost rule instead of the adaptive split), paired with the others in every round")
    parser.add_argument("--warmup", type=int, default=WARMUP[0],
                        help="untimed runs per runner process first (the adaptive split learns in the first 12)")
    parser.add_argument("--zoo", action="store_true", help="the zoo's converted models instead of the MobileNets")
    parser.add_argument("--zoo-dir", type=Path, default=ZOO_MODELS,
                        help="where --zoo finds them (<name>/model.sbn; default benchmarks/zoo/models, bench.py's)")
    parser.add_argument("--rt", action="store_true",
                        help="SCHED_FIFO priority and spinners on the idle cores (a shared machine; see above)")
    args = parser.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    if args.rt:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))  # inherited by the runners and ort's threads
        IDLE.enabled = True
    WARMUP[0] = args.warmup
    configs = {e.removesuffix("-cost") for e in args.engines.split(",")}
    devices = {config: LocalDevice(runner(config), config)  # built when stale
               for config in ("host-neon", "host") if config in configs}
    print(f"load average {load():.2f} on {os.cpu_count()} cores at the start{', SCHED_FIFO' if args.rt else ''}")
    print(machine(max(threads)), flush=True)
    (zoo if args.zoo else mobilenets)(args, devices, threads)
    print(machine(max(threads)))
    print(f"load average {load():.2f} at the end")


if __name__ == "__main__":
    main()
