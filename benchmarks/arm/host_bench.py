"""Host wall time, side by side in one run: our engine with the NEON kernels built for x86 through SIMDe
(`make host-neon`), our scalar build (`make host`), and onnxruntime, on the same MobileNet weights and the same input.

    python benchmarks/arm/host_bench.py [--models mobilenet_v1,mobilenet_v2] [--sparsities 0,0.5,0.7,0.9]
                                        [--threads 1,2] [--rounds 5]

Each round runs every contender once for `--repeat` timed runs (the runner's median); the table shows the median over
rounds, so machine load hits all contenders alike. MNN's sparse path is not compared (not installed by the project)."""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from sparsebyte.bench import onnxruntime_session
from sparsebyte.converters import convert
from sparsebyte.devices import LocalDevice, RunOptions
from sparsebyte.devices.tools import runner
from sparsebyte.models.export import export_onnx
from sparsebyte.models.registry import build
from sparsebyte.prune import prune_groups


def runner_median_ms(device: LocalDevice, model: Path, threads: int, repeat: int) -> float:
    report = device.run(model, options=RunOptions(warmup=1, repeat=repeat, threads=threads)).report
    return float(report["latency_ms"]["median"])


def ort_median_ms(onnx_path: Path, threads: int, repeat: int) -> float:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mobilenet_v1,mobilenet_v2")
    parser.add_argument("--sparsities", default="0,0.5,0.7,0.9")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    devices = {config: LocalDevice(runner(config), config) for config in ("host-neon", "host")}  # built when stale
    torch.set_num_threads(1)
    print(f"{'model':<14}{'sparsity':>9}{'threads':>8}{'neon-simde ms':>14}{'scalar ms':>10}{'ort ms':>8}"
          f"{'neon/ort':>9}{'dense/sparse (neon)':>21}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            base = build(name)
            dense_onnx = Path(export_onnx(base, Path(tmp) / f"{name}.onnx"))
            neon_dense: dict[int, float] = {}
            for s in (float(x) for x in args.sparsities.split(",")):
                model = copy.deepcopy(base)
                if s > 0:
                    with torch.no_grad():
                        prune_groups(model, s, group=4)
                sbn = Path(tmp) / f"{name}_{s}.sbn"
                convert(export_onnx(model, Path(tmp) / f"{name}_{s}.onnx"), sbn)
                for threads in (int(t) for t in args.threads.split(",")):
                    rows: dict[str, list[float]] = {"neon": [], "scalar": [], "ort": []}
                    for _ in range(args.rounds):
                        rows["neon"].append(runner_median_ms(devices["host-neon"], sbn, threads, args.repeat))
                        rows["scalar"].append(runner_median_ms(devices["host"], sbn, threads, args.repeat))
                        rows["ort"].append(ort_median_ms(dense_onnx, threads, args.repeat))
                    neon, scalar, ort = (statistics.median(rows[k]) for k in ("neon", "scalar", "ort"))
                    neon_dense.setdefault(threads, neon)
                    print(f"{name:<14}{s:>9.0%}{threads:>8}{neon:>14.1f}{scalar:>10.1f}{ort:>8.1f}"
                          f"{neon / ort:>9.2f}{neon_dense[threads] / neon:>21.2f}", flush=True)


if __name__ == "__main__":
    main()
