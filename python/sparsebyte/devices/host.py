"""`host`: this machine through the Python bindings, reported in the runner's JSON shape so profiles compare."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import Device, DeviceError, DeviceRun, RunOptions


class HostDevice(Device):
    name = "host"

    def run(self, model: Path, inputs: Sequence[Path] = (), num_outputs: int = 0,
            options: RunOptions | None = None) -> DeviceRun:
        from ..runtime import Model, SparsebyteError

        options = options or RunOptions()
        try:
            engine = Model(model, threads=options.threads)
            if inputs:
                feed = {t.name: np.load(p) for t, p in zip(engine.inputs, inputs, strict=True)}
            else:
                rng = np.random.default_rng(options.seed)
                feed = {t.name: rng.uniform(-1, 1, t.shape).astype(np.float32) for t in engine.inputs}
            for _ in range(options.warmup):
                engine.run(feed)
            times, runs = [], []
            for _ in range(max(options.repeat, 1)):
                start = time.perf_counter()
                runs.append(engine.profile(feed))
                times.append((time.perf_counter() - start) * 1e3)
            outputs = engine.run(feed)
        except (SparsebyteError, ValueError) as e:
            raise DeviceError(f"host: {e}") from e
        ops = [dict(row, time_ms=statistics.median(run[i]["time_ms"] for run in runs))
               for i, row in enumerate(runs[0])]
        arrays = list(outputs.values()) if isinstance(outputs, dict) else [outputs]
        report = {"device": self.name, "backend": engine.backend, "threads": options.threads,
                  "latency_ms": {"median": statistics.median(times), "min": min(times), "max": max(times)},
                  "arena_bytes": engine.arena_bytes, "weight_bytes": engine.weight_bytes, "ops": ops,
                  "outputs": [{"name": t.name, "shape": list(t.shape)} for t in engine.outputs]}
        return DeviceRun(report, arrays[:num_outputs])
