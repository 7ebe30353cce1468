"""Runners on this machine: a `sparsebyte-run` binary run directly (`LocalDevice`, e.g. the host or host-neon build
for benchmarks), under qemu-aarch64 (qemu.py) or the WebAssembly engine in node (`NodeDevice`, `--device node`).
All of them take the same command line (model, --input/--output .npy, --warmup/--repeat/--threads/--random-seed,
--json) and print the same JSON report, so one run() serves them all."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .base import Device, DeviceError, DeviceRun, RunOptions, load_outputs, parse_report
from .tools import node_binary, web_runner


class LocalDevice(Device):
    """`runner` (a sparsebyte-run executable for this machine) on local files; subclasses put an emulator or an
    interpreter in front of it (command()), adjust the options (options_for()) and add to the report (finish())."""

    def __init__(self, runner: Path | None = None, name: str = "local", timeout: float = 900) -> None:
        self.runner = runner
        self.name = name
        self.timeout = timeout

    def command(self, work: Path) -> list[str]:
        """The argv before the model path; `work` is the run's temporary directory."""
        if self.runner is None:
            raise DeviceError(f"{self.name}: no runner given")
        return [str(self.runner)]

    def options_for(self, options: RunOptions) -> tuple[RunOptions, str | None]:
        """The options the runner really gets, and a note for the report when they differ from the ones asked."""
        return options, None

    def finish(self, report: dict[str, Any], work: Path) -> None:
        """Add to the runner's report after a successful run (files the command wrote into `work`)."""

    def run(self, model: Path, inputs: Sequence[Path] = (), num_outputs: int = 0,
            options: RunOptions | None = None) -> DeviceRun:
        options, note = self.options_for(options or RunOptions())
        with tempfile.TemporaryDirectory(prefix="sparsebyte-run-") as tmp:
            work = Path(tmp)
            cmd = [*self.command(work), str(Path(model).resolve())]
            for path in inputs:
                cmd += ["--input", str(Path(path).resolve())]
            out_paths = [work / f"output{i}.npy" for i in range(num_outputs)]
            for path in out_paths:
                cmd += ["--output", str(path)]
            cmd += options.runner_args()
            try:
                result = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout)
            except subprocess.TimeoutExpired as e:
                raise DeviceError(f"{self.name}: run of {model} timed out after {self.timeout:.0f} s") from e
            if result.returncode != 0:
                raise DeviceError(f"{self.name}: the runner failed on {Path(model).name} (exit {result.returncode}): "
                                  f"{result.stderr.strip()}")
            report = parse_report(result.stdout, self.name)
            self.finish(report, work)
            outputs = load_outputs(out_paths, report)
        report["device"] = self.name
        if note:
            report["note"] = note
        return DeviceRun(report, outputs)


class NodeDevice(LocalDevice):
    """`node`: the WebAssembly (SIMD128) engine in node: web/tools/run-model.mjs over web/dist, or `runner`, a
    node script with the same command line (the TVM build's sparsebyte-run.js). Wall times are node's. threads > 1
    run the pthreads build (node worker threads, at most web/src/index.js's MAX_THREADS); a `runner` that is
    single-threaded runs on one thread and the report's note says so."""

    metric = "ms"

    def __init__(self, runner: Path | None = None, timeout: float = 900) -> None:
        super().__init__(runner, "node", timeout)

    def command(self, work: Path) -> list[str]:
        node = node_binary()
        return [node, str(self.runner or web_runner())]

    max_threads = 64  # web/src/index.js MAX_THREADS

    def options_for(self, options: RunOptions) -> tuple[RunOptions, str | None]:
        if options.threads > self.max_threads:
            raise DeviceError(f"{self.name}: threads={options.threads}, the WebAssembly build takes "
                              f"1..{self.max_threads}")
        return options, None

    def finish(self, report: dict[str, Any], work: Path) -> None:
        asked = self._asked_threads
        if report.get("threads", 1) < asked:
            report["note"] = f"the WebAssembly build ran on {report.get('threads', 1)} thread(s) ({asked} asked)"

    def run(self, model: Path, inputs: Sequence[Path] = (), num_outputs: int = 0,
            options: RunOptions | None = None) -> DeviceRun:
        self._asked_threads = (options or RunOptions()).threads
        return super().run(model, inputs, num_outputs, options)
