"""Latency on the host: the engine and onnxruntime on the same inputs, one thread, interleaved in one process."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .check import ReferenceModelError, check_reference_inputs, reference_session, run_reference
from .runtime import Model


def median_ms(fn: Callable[[], Any], repeat: int = 10, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def random_inputs(model: Model, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {t.name: rng.standard_normal(t.shape, dtype=np.float32) for t in model.inputs}


def onnxruntime_session(onnx_path: str | os.PathLike, threads: int = 1) -> Any:
    """ReferenceModelError (a ValueError) when onnxruntime cannot load the file."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return reference_session(str(onnx_path), str(onnx_path), options)


def run_onnx(session: Any, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    names = [i.name for i in session.get_inputs()]
    feed = inputs if set(inputs) == set(names) else dict(zip(names, inputs.values(), strict=True))
    return session.run(None, feed)


@dataclass
class BenchResult:
    engine_ms: float
    onnx_ms: float | None
    max_abs_diff: float | None = None  # between the engine's and onnxruntime's outputs on the timed inputs

    @property
    def ratio(self) -> float | None:
        """Engine time / onnxruntime time (< 1: the engine is faster)."""
        return None if self.onnx_ms is None else self.engine_ms / self.onnx_ms


def bench(sbn: str | os.PathLike | Model, onnx_path: str | os.PathLike | None = None, repeat: int = 10,
          warmup: int = 2, threads: int = 1) -> BenchResult:
    """Median latency (ms) of the engine and, given an ONNX file, onnxruntime, both with `threads` threads.
    The two alternate repeat by repeat so that machine load hits both alike. The ONNX model must take the .sbn's
    inputs and give outputs of its sizes (ReferenceModelError otherwise); how far the outputs are apart is returned,
    so a different model shows."""
    model = sbn if isinstance(sbn, Model) else Model(sbn, threads=threads)
    model.set_threads(threads)
    inputs = random_inputs(model)
    out = model.run(inputs)
    session, max_abs_diff = None, None
    if onnx_path is not None:
        session = onnxruntime_session(onnx_path, threads)
        check_reference_inputs(session, model.inputs, str(onnx_path))
        engine_outs = list(out.values()) if isinstance(out, dict) else [out]
        onnx_outs = run_reference(lambda x: run_onnx(session, x), inputs, str(onnx_path))
        sizes = ([a.size for a in engine_outs], [np.asarray(a).size for a in onnx_outs])
        if sizes[0] != sizes[1]:
            raise ReferenceModelError(f"--onnx {onnx_path}: outputs of {sizes[1]} elements, the .sbn's have "
                                      f"{sizes[0]}: not the same model")
        max_abs_diff = max((float(np.max(np.abs(a - np.asarray(b).reshape(a.shape)), initial=0.0))
                            for a, b in zip(engine_outs, onnx_outs, strict=True)), default=0.0)
    for _ in range(warmup):
        model.run()
        if session is not None:
            run_onnx(session, inputs)
    engine_times, onnx_times = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        model.run()
        engine_times.append((time.perf_counter() - t0) * 1e3)
        if session is not None:
            t0 = time.perf_counter()
            run_onnx(session, inputs)
            onnx_times.append((time.perf_counter() - t0) * 1e3)
    return BenchResult(statistics.median(engine_times), statistics.median(onnx_times) if onnx_times else None,
                       max_abs_diff)
