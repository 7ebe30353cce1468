"""What every device does: run the aarch64 runner (`sparsebyte-run`) on a .sbn with given or random inputs and hand
back its JSON report (latency median/min/max, per-op name/op/kernel/time_ms/macs/dense_macs, arena and peak memory)
plus the output arrays. Remote devices (adb, ssh) do it with three primitives: push, pull and a shell command."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RUNNER_NAME = "sparsebyte-run"
AARCH64_NAMES = ("aarch64", "arm64", "armv8", "armv8l")  # `uname -m` of a device the static aarch64 runner runs on
EXIT_MARK = "sparsebyte-exit="


class DeviceError(RuntimeError):
    """A device is unreachable, a tool is missing, or the runner failed on it (the message says which)."""


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


class RemoteDevice(Device):
    """A device reached through a command-line tool: push files into `directory`, run the runner there, pull back.

    The runner's stdout and stderr go to files on the device and the shell prints the exit status: that works the
    same through old adb versions (which neither separate stderr nor return the exit status) and ssh."""

    tool: str  # the program the transport needs on PATH
    install_hint: str
    directory: str

    @abstractmethod
    def push(self, local: Path, remote: str) -> None: ...

    @abstractmethod
    def pull(self, remote: str, local: Path) -> None: ...

    @abstractmethod
    def shell(self, command: str) -> subprocess.CompletedProcess: ...

    def _call(self, argv: list[str], what: str, timeout: float = 600) -> subprocess.CompletedProcess:
        if shutil.which(argv[0]) is None:
            raise DeviceError(f"{self.name}: `{argv[0]}` not found on PATH ({self.install_hint})")
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise DeviceError(f"{self.name}: {what} timed out after {timeout:.0f} s") from e
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()[-1500:]
            raise DeviceError(f"{self.name}: {what} failed (exit {result.returncode}): {detail}")
        return result

    def check_arch(self) -> str:
        arch = self.shell("uname -m").stdout.strip()
        if arch not in AARCH64_NAMES:
            raise DeviceError(f"{self.name}: the device reports `uname -m` = {arch!r}; the static runner needs a "
                              "64-bit ARM (aarch64) device")
        return arch

    def run(self, model: Path, inputs: Sequence[Path] = (), num_outputs: int = 0,
            options: RunOptions | None = None) -> DeviceRun:
        from .tools import aarch64_runner

        options = options or RunOptions()
        runner = aarch64_runner()
        self.check_arch()
        q = shlex.quote
        d = self.directory
        self.shell(f"mkdir -p {q(d)}")
        self.push(runner, f"{d}/{RUNNER_NAME}")
        self.push(model, f"{d}/model.sbn")
        args = ["model.sbn"]
        for i, path in enumerate(inputs):
            self.push(path, f"{d}/input{i}.npy")
            args += ["--input", f"input{i}.npy"]
        args += [a for i in range(num_outputs) for a in ("--output", f"output{i}.npy")]
        args += options.runner_args()
        command = (f"cd {q(d)} && chmod 755 {RUNNER_NAME} && ./{RUNNER_NAME} {' '.join(map(q, args))} "
                   f"> report.json 2> stderr.txt; echo {EXIT_MARK}$?")
        status_lines = [line for line in self.shell(command).stdout.splitlines() if line.startswith(EXIT_MARK)]
        if not status_lines:
            raise DeviceError(f"{self.name}: the device shell did not report the runner's exit status")
        status = int(status_lines[-1][len(EXIT_MARK):].strip() or -1)
        if status != 0:
            message = self.shell(f"cat {q(d)}/stderr.txt").stdout.strip()
            raise DeviceError(f"{self.name}: the runner failed on {model.name} (exit {status}): {message}")
        with tempfile.TemporaryDirectory(prefix="sparsebyte-device-") as tmp:
            local = Path(tmp)
            self.pull(f"{d}/report.json", local / "report.json")
            report = parse_report((local / "report.json").read_text(), self.name)
            out_paths = [local / f"output{i}.npy" for i in range(num_outputs)]
            for i, path in enumerate(out_paths):
                self.pull(f"{d}/output{i}.npy", path)
            outputs = load_outputs(out_paths, report)
        # leave the runner for the next run; remove the model and the data
        self.shell(f"cd {q(d)} && rm -f model.sbn input*.npy output*.npy report.json stderr.txt")
        report["device"] = self.name
        return DeviceRun(report, outputs)


def which_or_error(program: str, hint: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise DeviceError(f"`{program}` not found on PATH ({hint})")
    return os.fspath(path)
