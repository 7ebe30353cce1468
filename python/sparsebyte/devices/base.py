"""What every device does: run a .sbn with given or random inputs through a runner that speaks `sparsebyte-run`'s
command line and hand back its JSON report (latency median/min/max, per-op name/op/kernel/time_ms/macs/dense_macs,
arena and peak memory) plus the output arrays.

This module imports no other device module, so there are no cycles: tools.py (the programs) and the devices
(host.py, local.py, qemu.py, remote.py, adb.py, ssh.py) import it."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


class DeviceError(RuntimeError):
    """A device is unreachable, a tool is missing, or the runner failed on it (the message says which)."""


class ToolMissing(DeviceError):
    """A program the device needs (qemu, a compiler, make, node, adb, ...) is not installed, or a build product
    (web/dist) is absent: the message is one line naming it and how to install it."""


@dataclass
class RunOptions:
    warmup: int = 1
    repeat: int = 5
    threads: int = 1
    seed: int = 1  # the runner's random inputs (splitmix64 in [-1, 1)) when no input files are given

    def runner_args(self) -> list[str]:
        return ["--warmup", str(self.warmup), "--repeat", str(self.repeat), "--threads", str(self.threads),
                "--random-seed", str(self.seed), "--json"]


@dataclass
class DeviceRun:
    """The runner's JSON report (plus "device"; the qemu device adds "insns" per op and "run_insns") and the outputs
    that were asked for, in the model's output order."""

    report: dict[str, Any]
    outputs: list[np.ndarray] = field(default_factory=list)


class Device(ABC):
    """One place a .sbn runs. `name` is the --device spec it was made from."""

    name: str
    metric = "ms"  # what the per-op cost column means: "ms" (wall time) or "insns" (emulated instruction counts)

    @abstractmethod
    def run(self, model: Path, inputs: Sequence[Path] = (), num_outputs: int = 0,
            options: RunOptions | None = None) -> DeviceRun:
        """Run `model` on `inputs` (.npy files, model input order; none: random) and fetch `num_outputs` outputs."""


def parse_report(text: str, where: str) -> dict[str, Any]:
    try:
        report = json.loads(text)
    except json.JSONDecodeError as e:
        raise DeviceError(f"{where}: the runner printed no JSON report ({e}): {text[:300]!r}") from e
    if not isinstance(report, dict) or not isinstance(report.get("ops"), list):
        raise DeviceError(f"{where}: the runner's report has no 'ops' list: {text[:300]!r}")
    return report


def load_outputs(paths: Sequence[Path], report: dict[str, Any]) -> list[np.ndarray]:
    """The runner writes outputs as .npy with the engine's shapes; keep those shapes (the report names them)."""
    arrays = []
    shapes = [tuple(o.get("shape", ())) for o in report.get("outputs", [])]
    for i, path in enumerate(paths):
        arr = np.load(path)
        if i < len(shapes) and shapes[i] and int(np.prod(shapes[i])) == arr.size:
            arr = arr.reshape(shapes[i])
        arrays.append(arr)
    return arrays
