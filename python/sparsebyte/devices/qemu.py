"""`qemu`: a local emulated aarch64 device: the same static runner under qemu-aarch64.

Emulated wall time means nothing (NEON and scalar code take about the same time), so the profile counts executed
guest instructions instead, with the plugin of tools/qemu-insn-count: it records its running total whenever a block
starting at a marked address runs. Marks at sb_model_run and clock_gettime: with profiling on, the executor reads the
clock just before and after every node, so after the one sb_model_run entry the clock marks pair up per node.
Counts are identical run to run. Counting needs one single-threaded run (the plugin's counters are not atomic)."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .base import Device, DeviceError, DeviceRun, RunOptions, load_outputs, parse_report
from .tools import aarch64_runner, insn_count_plugin, symbol_addresses

MARK_SYMBOLS = ("sb_model_run", "clock_gettime")


class QemuDevice(Device):
    """count_insns=True: per-op and whole-run instruction counts (one single-threaded run, no warm-up)."""

    name = "qemu"

    def __init__(self, count_insns: bool = True, timeout: float = 900) -> None:
        self.count_insns = count_insns
        self.metric = "insns" if count_insns else "ms"
        self.timeout = timeout

    def run(self, model: Path, inputs: Sequence[Path] = (), num_outputs: int = 0,
            options: RunOptions | None = None) -> DeviceRun:
        from ..qemu import QemuError, qemu_binary

        options = options or RunOptions()
        try:
            qemu = qemu_binary()
        except QemuError as e:
            raise DeviceError(str(e)) from e
        runner = aarch64_runner()
        note = None
        if self.count_insns:  # counts are identical run to run: one run is enough
            if options.threads > 1:
                note = f"instruction counts come from a 1-thread run ({options.threads} threads asked)"
            options = RunOptions(warmup=0, repeat=1, threads=1, seed=options.seed)
        with tempfile.TemporaryDirectory(prefix="sparsebyte-qemu-") as tmp:
            work = Path(tmp)
            cmd = [qemu]
            if self.count_insns:
                addr = symbol_addresses(runner, MARK_SYMBOLS)
                marks = ":".join(f"{addr[s]:x}" for s in MARK_SYMBOLS)
                cmd += ["-plugin", f"{insn_count_plugin()},out={work / 'counts.txt'},marks={marks}"]
            cmd += [str(runner), str(Path(model).resolve())]
            for path in inputs:
                cmd += ["--input", str(Path(path).resolve())]
            out_paths = [work / f"output{i}.npy" for i in range(num_outputs)]
            for path in out_paths:
                cmd += ["--output", str(path)]
            cmd += options.runner_args()
            try:
                result = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout)
            except subprocess.TimeoutExpired as e:
                raise DeviceError(f"qemu: run of {model} timed out after {self.timeout:.0f} s") from e
            if result.returncode != 0:
                raise DeviceError(f"qemu: the runner failed on {Path(model).name} (exit {result.returncode}): "
                                  f"{result.stderr.strip()}")
            report = parse_report(result.stdout, "qemu")
            if self.count_insns:
                add_insn_counts(report, (work / "counts.txt").read_text(), addr)
            outputs = load_outputs(out_paths, report)
        report["device"] = self.name
        if note:
            report["note"] = note
        return DeviceRun(report, outputs)


def add_insn_counts(report: dict[str, Any], counts_text: str, addr: dict[str, int]) -> None:
    """Per op "insns", plus "run_insns" (first to last clock read of the run) and "process_insns" (all, loading
    included), from the plugin's `total N` / `mark ADDR N` lines."""
    marks: list[tuple[int, int]] = []
    for line in counts_text.splitlines():
        kind, *rest = line.split()
        if kind == "total":
            report["process_insns"] = int(rest[0])
        elif kind == "mark":
            marks.append((int(rest[0], 16), int(rest[1])))
    starts = [i for i, (a, _) in enumerate(marks) if a == addr["sb_model_run"]]
    if len(starts) != 1:
        raise DeviceError(f"qemu: expected one sb_model_run in the counted run, saw {len(starts)}")
    clock = [total for a, total in marks[starts[0] + 1:] if a == addr["clock_gettime"]]
    ops = report["ops"]
    if len(clock) < 2 * len(ops):
        raise DeviceError(f"qemu: {len(ops)} ops but only {len(clock)} clock reads after sb_model_run: "
                          "per-op counts need the runner's profiling")
    for i, op in enumerate(ops):
        op["insns"] = clock[2 * i + 1] - clock[2 * i]
    report["run_insns"] = clock[2 * len(ops) - 1] - clock[0]
