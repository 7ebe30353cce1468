"""Devices reached through a command-line tool (adb, ssh): push the static aarch64 runner and the files, run it in
a shell on the device, pull the report and the outputs back."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
from abc import abstractmethod
from collections.abc import Sequence
from pathlib import Path

from .base import Device, DeviceError, DeviceRun, RunOptions, ToolMissing, load_outputs, parse_report
from .tools import RUNNER_NAME, aarch64_runner

AARCH64_NAMES = ("aarch64", "arm64", "armv8", "armv8l")  # `uname -m` of a device the static aarch64 runner runs on
EXIT_MARK = "sparsebyte-exit="


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
            raise ToolMissing(f"{self.name}: `{argv[0]}` not found on PATH ({self.install_hint})")
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
