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
the MobileNets. MNN's sparse path is not compared."""

from __future__ import annotations

import argparse
import copy
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from sparsebyte.devices import LocalDevice, RunOptions
from sparsebyte.devices.tools import runner

ZOO_MODELS = Path(__file__).resolve().parents[1] / "zoo" / "models"


CPU_SECONDS: dict[tuple[Path, int], float] = {}  # the runner's CPU time (user + sys) per model and thread count


def runner_median_ms(device: LocalDevice, model: Path, threads: int, repeat: int) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = device.run(model, options=RunOptions(warmup=1, repeat=repeat, threads=threads)).report
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    CPU_SECONDS[(model, threads)] = CPU_SECONDS.get((model, threads), 0.0) + cpu
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


def measure(contenders: dict[str, object], threads: list[int], rounds: int) -> dict[tuple[str, int], list[float]]:
    """contenders: name -> callable(threads) -> ms; every round runs each contender at each thread count once."""
    times: dict[tuple[str, int], list[float]] = {}
    for r in range(rounds):
        order = threads if r % 2 == 0 else threads[::-1]  # neither thread count always runs first
        for name, fn in contenders.items():
            for t in order:
                times.setdefault((name, t), []).append(fn(t))  # type: ignore[operator]
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
    print(f"{'model':<14}{'sparsity':>9}{'threads':>8}{cols}{speed}{'neon/ort':>9}{'cpu/1t':>8}{'load':>6}")
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
                            ms, backends[e] = runner_median_ms(devices[e], sbn, t, args.repeat)
                            return ms
                        contenders[e] = run
                before = load()
                times = measure(contenders, threads, args.rounds)
                for t in threads:
                    med = {e: statistics.median(times[(e, t)]) for e in engines}
                    row = "".join(f"{med[e]:>16.1f}" for e in engines)
                    row += "".join(f"{paired_speedup(times, e, threads[0], t):>18.2f}" for e in engines if e != "ort")
                    ratio = med["host-neon"] / med["ort"] if "ort" in med and "host-neon" in med else float("nan")
                    cpu = cpu_ratio(sbn, threads[0], t)  # of the first engine that is ours
                    print(f"{name:<14}{s:>9.0%}{t:>8}{row}{ratio:>9.2f}{cpu:>8.2f}{max(before, load()):>6.1f}",
                          flush=True)
    print("backends: " + ", ".join(f"{e} = {b}" for e, b in backends.items()))


def zoo(args: argparse.Namespace, devices: dict[str, LocalDevice], threads: list[int]) -> None:
    models = sorted(ZOO_MODELS.glob("*/model.sbn"))
    if not models:
        raise SystemExit(f"no converted zoo models under {ZOO_MODELS}: run benchmarks/zoo/bench.py first")
    engine = [e for e in args.engines.split(",") if e != "ort"][0]
    print(f"{'zoo model':<36}" + "".join(f"{str(t) + 't ms':>10}" for t in threads)
          + "".join(f"{'x' + str(t) + 't':>8}" for t in threads[1:])
          + "".join(f"{'cpu' + str(t) + 't':>8}" for t in threads[1:]) + f"{'load':>6}   ({engine})")
    for sbn in models:
        device = devices[engine]

        def run(t: int, sbn: Path = sbn, device: LocalDevice = device) -> float:  # the runner's random inputs
            return runner_median_ms(device, sbn, t, args.repeat)[0]

        before = load()
        times = measure({engine: run}, threads, args.rounds)
        row = "".join(f"{statistics.median(times[(engine, t)]):>10.2f}" for t in threads)
        row += "".join(f"{paired_speedup(times, engine, threads[0], t):>8.2f}" for t in threads[1:])
        row += "".join(f"{cpu_ratio(sbn, threads[0], t):>8.2f}" for t in threads[1:])
        print(f"{sbn.parent.name:<36}{row}{max(before, load()):>6.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mobilenet_v1,mobilenet_v2")
    parser.add_argument("--sparsities", default="0,0.3,0.5,0.7,0.9")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--engines", default="host-neon,host,ort",
                        help="contenders: host-neon (NEON through SIMDe), host (make host), ort (onnxruntime)")
    parser.add_argument("--zoo", action="store_true", help="the zoo's converted models instead of the MobileNets")
    args = parser.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    devices = {config: LocalDevice(runner(config), config)  # built when stale
               for config in ("host-neon", "host") if config in args.engines.split(",")}
    print(f"load average {load():.2f} on {os.cpu_count()} cores at the start")
    (zoo if args.zoo else mobilenets)(args, devices, threads)
    print(f"load average {load():.2f} at the end")


if __name__ == "__main__":
    main()
