"""`qemu`: a local emulated aarch64 device: the static runner under qemu-aarch64.

Emulated wall time means nothing (NEON and scalar code take about the same time), so the profile counts executed
guest instructions instead, with the plugin of tools/qemu-insn-count: it records its running total whenever a block
starting at a marked address runs. Marks at sb_model_run and clock_gettime: with profiling on (the runner's --json),
the executor reads the clock just before and after every node, so after the one sb_model_run entry the clock marks
pair up per node. Counts are identical run to run. Counting needs one single-threaded run (the plugin's counters are
not atomic). This is the one place that pairs the marks: the CLI, converters/tvm/measure.py and
benchmarks/arm/insn_counts.py all count through QemuDevice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import DeviceError, RunOptions
from .local import LocalDevice
from .tools import aarch64_runner, insn_count_plugin, qemu_binary, symbol_addresses, text_symbols

MARK_SYMBOLS = ("sb_model_run", "clock_gettime")


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
        qemu = qemu_binary()
        runner = self.runner or aarch64_runner()
        cmd = [qemu]
        if self.count_insns:
            self._addr = symbol_addresses(runner, MARK_SYMBOLS)
            args = [f"out={work / 'counts.txt'}", "marks=" + ":".join(f"{self._addr[s]:x}" for s in MARK_SYMBOLS)]
            if self.functions:
                ranges = work / "ranges.txt"
                ranges.write_text("".join(f"{addr:x} {size:x} T {name}\n"
                                          for name, addr, size in text_symbols(runner) if size))
                args.append(f"ranges={ranges}")
            cmd += ["-plugin", ",".join([str(insn_count_plugin()), *args])]
        return [*cmd, str(runner)]

    def options_for(self, options: RunOptions) -> tuple[RunOptions, str | None]:
        if not self.count_insns:  # counts are identical run to run: one run is enough
            return options, None
        note = f"instruction counts come from a 1-thread run ({options.threads} threads asked)" \
            if options.threads > 1 else None
        return RunOptions(warmup=0, repeat=1, threads=1, seed=options.seed), note

    def finish(self, report: dict[str, Any], work: Path) -> None:
        if self.count_insns:
            add_insn_counts(report, (work / "counts.txt").read_text(), self._addr)


def add_insn_counts(report: dict[str, Any], counts_text: str, addr: dict[str, int]) -> None:
    """From the plugin's `total N` / `range NAME N` / `mark ADDR N` lines: per op "insns", "run_insns" (first to
    last clock read of the run), "process_insns" (all, loading included) and, with ranges, "functions"."""
    marks: list[tuple[int, int]] = []
    functions: dict[str, int] = {}
    for line in counts_text.splitlines():
        kind, *rest = line.split()
        if kind == "total":
            report["process_insns"] = int(rest[0])
        elif kind == "mark":
            marks.append((int(rest[0], 16), int(rest[1])))
        elif kind == "range":
            functions[rest[0]] = functions.get(rest[0], 0) + int(rest[1])
    if functions:
        report["functions"] = functions
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
