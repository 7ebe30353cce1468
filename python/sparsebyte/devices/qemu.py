"""`qemu`: a local emulated aarch64 device: the static runner under qemu-aarch64.

Emulated wall time means nothing (NEON and scalar code take about the same time), so the profile counts executed
guest instructions instead, with the plugin of tools/qemu-insn-count: it records its running total whenever a block
starting at a marked address runs. Marks at sb_model_run and clock_gettime: with profiling on (the runner's --json),
the executor reads the clock just before and after every node, so after the one sb_model_run entry the clock marks
pair up per node. Counts are identical run to run. Counting needs one single-threaded run (the plugin's counters are
not atomic). This is the one place that pairs the marks: the CLI, converters/tvm/measure.py and
benchmarks/arm/insn_counts.py all count through QemuDevice; count_program runs any other static aarch64 program
(a kernel benchmark's driver) under the same plugin and parser."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import DeviceError, RunOptions
from .local import LocalDevice
from .tools import aarch64_runner, insn_count_plugin, qemu_binary, symbol_addresses, text_symbols

MARK_SYMBOLS = ("sb_model_run", "clock_gettime")


@dataclass
class InsnCounts:
    """The plugin's report: `total N`, `mark ADDR N` (running totals, execution order), `range NAME N`."""

    total: int = 0
    marks: list[tuple[int, int]] = field(default_factory=list)
    functions: dict[str, int] = field(default_factory=dict)

    def at(self, address: int) -> list[int]:
        """The running totals recorded each time the block at `address` started, in order."""
        return [total for a, total in self.marks if a == address]


def plugin_command(program: Path, work: Path, marks: Sequence[str] = (),
                   functions: bool = False) -> tuple[list[str], dict[str, int]]:
    """(argv running the static aarch64 `program` under qemu with the counting plugin, writing into `work`; the
    addresses of the `marks` symbols). functions=True counts per text symbol of `program` (nm -S ranges)."""
    address = symbol_addresses(program, tuple(marks)) if marks else {}
    args = [f"out={work / 'counts.txt'}"]
    if marks:
        args.append("marks=" + ":".join(f"{address[s]:x}" for s in marks))
    if functions:
        ranges = work / "ranges.txt"
        ranges.write_text("".join(f"{addr:x} {size:x} T {name}\n" for name, addr, size in text_symbols(program)
                                  if size))
        args.append(f"ranges={ranges}")
    return [qemu_binary(), "-plugin", ",".join([str(insn_count_plugin()), *args]), str(program)], address


def read_counts(work: Path) -> InsnCounts:
    counts = InsnCounts()
    for line in (work / "counts.txt").read_text().splitlines():
        kind, *rest = line.split()
        if kind == "total":
            counts.total = int(rest[0])
        elif kind == "mark":
            counts.marks.append((int(rest[0], 16), int(rest[1])))
        elif kind == "range":
            counts.functions[rest[0]] = counts.functions.get(rest[0], 0) + int(rest[1])
    return counts


def count_program(program: Path, args: Sequence[str], marks: Sequence[str] = (), functions: bool = False,
                  timeout: float = 900) -> tuple[subprocess.CompletedProcess, InsnCounts, dict[str, int]]:
    """Run any static aarch64 program (e.g. a kernel benchmark driver) once under the counting plugin: (the finished
    process, its counts, the mark symbols' addresses). DeviceError when it fails."""
    with tempfile.TemporaryDirectory(prefix="sparsebyte-count-") as tmp:
        cmd, address = plugin_command(program, Path(tmp), marks, functions)
        try:
            proc = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise DeviceError(f"qemu: {program.name} timed out after {timeout:.0f} s") from e
        if proc.returncode != 0:
            raise DeviceError(f"qemu: {program.name} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
        return proc, read_counts(Path(tmp)), address


class QemuDevice(LocalDevice):
    """count_insns=True: per-op and whole-run instruction counts (one single-threaded run, no warm-up).
    functions=True also counts per function of the runner over the whole process (report "functions": {name: N}).
    runner: another static aarch64 sparsebyte-run (e.g. one linked with TVM kernels) instead of `make aarch64`'s."""

    def __init__(self, count_insns: bool = True, functions: bool = False, runner: Path | None = None,
                 timeout: float = 900) -> None:
        super().__init__(runner, "qemu", timeout)
        self.count_insns = count_insns
        self.functions = functions and count_insns
        self.metric = "insns" if count_insns else "ms"
        self._addr: dict[str, int] = {}

    def command(self, work: Path) -> list[str]:
        runner = self.runner or aarch64_runner()
        if not self.count_insns:
            return [qemu_binary(), str(runner)]
        cmd, self._addr = plugin_command(runner, work, MARK_SYMBOLS, self.functions)
        return cmd

    def options_for(self, options: RunOptions) -> tuple[RunOptions, str | None]:
        if not self.count_insns:  # counts are identical run to run: one run is enough
            return options, None
        note = f"instruction counts come from a 1-thread run ({options.threads} threads asked)" \
            if options.threads > 1 else None
        return RunOptions(warmup=0, repeat=1, threads=1, seed=options.seed), note

    def finish(self, report: dict[str, Any], work: Path) -> None:
        if self.count_insns:
            add_insn_counts(report, read_counts(work), self._addr)


def add_insn_counts(report: dict[str, Any], counts: InsnCounts, addr: dict[str, int]) -> None:
    """Per op "insns", "run_insns" (first to last clock read of the run), "process_insns" (all, loading included)
    and, with ranges, "functions"."""
    report["process_insns"] = counts.total
    if counts.functions:
        report["functions"] = counts.functions
    starts = [i for i, (a, _) in enumerate(counts.marks) if a == addr["sb_model_run"]]
    if len(starts) != 1:
        raise DeviceError(f"qemu: expected one sb_model_run in the counted run, saw {len(starts)}")
    clock = [total for a, total in counts.marks[starts[0] + 1:] if a == addr["clock_gettime"]]
    ops = report["ops"]
    if len(clock) < 2 * len(ops):
        raise DeviceError(f"qemu: {len(ops)} ops but only {len(clock)} clock reads after sb_model_run: "
                          "per-op counts need the runner's profiling")
    for i, op in enumerate(ops):
        op["insns"] = clock[2 * i + 1] - clock[2 * i]
    report["run_insns"] = clock[2 * len(ops) - 1] - clock[0]
