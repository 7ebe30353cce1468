"""Run a .sbn model on emulated aarch64: the static runner (`make aarch64` -> build/aarch64/sparsebyte-run, NEON
kernels) under qemu-aarch64, with .npy inputs and outputs in a temporary directory.

Emulated timing means nothing; the outputs, the kernels chosen and the MACs are real."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
RUNNER_ENV = "SPARSEBYTE_AARCH64_RUNNER"  # path of a prebuilt aarch64 sparsebyte-run (optional)


class QemuError(RuntimeError):
    """qemu, the cross compiler or the runner is missing, or the runner failed (message says which)."""


def qemu_binary() -> str:
    for name in ("qemu-aarch64", "qemu-aarch64-static"):
        path = shutil.which(name)
        if path:
            return path
    raise QemuError("qemu-aarch64 not found: apt-get install -y qemu-user")


def runner_path(build: bool = True) -> Path:
    """The static aarch64 runner; built with `make aarch64` in the repository when missing."""
    if os.environ.get(RUNNER_ENV):
        path = Path(os.environ[RUNNER_ENV])
        if not path.is_file():
            raise QemuError(f"{RUNNER_ENV}={path}: no such file")
        return path
    path = REPO / "build" / "aarch64" / "sparsebyte-run"
    if build:
        if not (REPO / "Makefile").is_file():
            raise QemuError(f"no aarch64 runner: {path} is missing and there is no Makefile in {REPO} to build it "
                            f"(set {RUNNER_ENV} to a prebuilt runner)")
        if shutil.which("aarch64-linux-gnu-gcc") is None:
            raise QemuError("aarch64-linux-gnu-gcc not found (needed to build the aarch64 runner): "
                            "apt-get install -y gcc-aarch64-linux-gnu")
        # make is incremental: this also rebuilds a runner that is older than the engine sources
        result = subprocess.run(["make", "-s", "-j2", "aarch64"], cwd=REPO, capture_output=True, text=True)
        if result.returncode != 0:
            raise QemuError(f"`make aarch64` failed:\n{result.stderr[-3000:]}")
    if not path.is_file():
        raise QemuError(f"{path}: no aarch64 runner (run `make aarch64`)")
    return path


def _input_order(sbn: str | os.PathLike, inputs: Any) -> tuple[list[np.ndarray], list[str], list[tuple[int, ...]]]:
    """Inputs as float32 arrays in the model's input order, plus output names and shapes (from the host engine)."""
    from .runtime import Model

    model = Model(sbn)
    names = [t.name for t in model.inputs]
    if isinstance(inputs, Mapping):
        missing = [n for n in names if n not in inputs]
        if missing or len(inputs) != len(names):
            raise ValueError(f"inputs: expected names {names}, got {sorted(inputs)}")
        values = [inputs[n] for n in names]
    else:
        if len(names) != 1:
            raise ValueError(f"the model has inputs {names}: pass a dict")
        values = [inputs]
    arrays = []
    for info, value in zip(model.inputs, values, strict=True):
        arr = np.ascontiguousarray(value, dtype=np.float32)
        if arr.shape != info.shape:
            raise ValueError(f"input {info.name!r}: expected shape {info.shape}, got {arr.shape}")
        arrays.append(arr)
    return arrays, [t.name for t in model.outputs], [t.shape for t in model.outputs]


def run_qemu(sbn: str | os.PathLike, inputs: np.ndarray | Mapping[str, np.ndarray], threads: int = 1,
             repeat: int = 1, profile: bool = False, timeout: float = 900) -> tuple[dict[str, np.ndarray],
                                                                                  dict[str, Any]]:
    """Run once (plus `repeat - 1` more timed runs) under qemu-aarch64; returns ({output name: array}, report).

    The report is the runner's JSON (backend, latency_ms, arena_bytes, weight_bytes, ops: per-node name, op, kernel,
    time_ms, macs, dense_macs). `profile` is accepted for symmetry: the JSON report always has the per-node rows."""
    del profile
    qemu = qemu_binary()
    runner = runner_path()
    arrays, out_names, out_shapes = _input_order(sbn, inputs)
    with tempfile.TemporaryDirectory(prefix="sparsebyte-qemu-") as tmp:
        cmd = [qemu, str(runner), str(Path(sbn).resolve()), "--warmup", "0", "--repeat", str(repeat),
               "--threads", str(threads), "--json"]
        for i, arr in enumerate(arrays):
            path = Path(tmp) / f"input{i}.npy"
            np.save(path, arr)
            cmd += ["--input", str(path)]
        out_paths = [Path(tmp) / f"output{i}.npy" for i in range(len(out_names))]
        for path in out_paths:
            cmd += ["--output", str(path)]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise QemuError(f"qemu-aarch64 run of {sbn} timed out after {timeout:.0f} s") from e
        if result.returncode != 0:
            raise QemuError(f"aarch64 runner failed on {sbn} (exit {result.returncode}): {result.stderr.strip()}")
        try:
            report = json.loads(result.stdout)
        except json.JSONDecodeError as e:
            raise QemuError(f"aarch64 runner printed no JSON report: {result.stdout[:500]!r}") from e
        outputs = {name: np.load(path).reshape(shape)
                   for name, path, shape in zip(out_names, out_paths, out_shapes, strict=True)}
    return outputs, report
