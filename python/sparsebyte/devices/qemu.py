"""`qemu`: a local emulated aarch64 device: the static runner under qemu-aarch64.

Emulated wall time means nothing (NEON and scalar code take about the same time), so the profile counts executed
guest instructions instead, with the plugin of tools/qemu-insn-count: it counts per guest thread (qemu-user runs each
guest thread as its own vCPU) and, at marked addresses, records every thread's running count and waiting count
(instructions in the thread pool's spin/sleep code and the pthread calls). Marks (thread_marks): sb_model_run's
entry; the executor's clock reads around every node (with profiling on, the runner's --json), so on the thread that
entered sb_model_run they pair up per node; each chunk of a parallel loop (the pool's indirect call and its return
address); each sb_parallel_for(_cost) call. Per node: each thread's work, each chunk's cost, and the node's cost on
N equal cores (the calling thread's serial work plus each loop's makespan, add_insn_counts); summed with the work
between nodes, the run's critical path. Chunk costs are index ranges of work and waiting is not work, so this is the
same run to run whatever the host's load, to a few instructions (libc's memset of a kernel's stack buffer: its count
depends on the buffer's alignment, which differs between threads' stacks); at 1 thread every count is the
single-counter plugin's. This is the one place that pairs the marks: the CLI, converters/tvm/measure.py and
benchmarks/arm/insn_counts.py and threads.py all count through QemuDevice; count_program runs any other static
aarch64 program (a kernel benchmark's driver) under the same plugin and parser."""

from __future__ import annotations

import heapq
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import DeviceError, RunOptions
from .local import LocalDevice
from .tools import aarch64_runner, insn_count_plugin, qemu_binary, require, symbol_addresses, text_symbols

MARK_SYMBOLS = ("sb_model_run", "clock_gettime")
OBJDUMP = "aarch64-linux-gnu-objdump"
# Where the thread-aware marks go (symbols of the static runner; a function the compiler inlined elsewhere is simply
# absent): the executor's clock reads around each node are the calls to clock_gettime (or its now_ms helper) inside
# its run loop (engine/src/executor.c), so the thread pool's own clock reads (spin deadlines) are not taken for node
# boundaries; a chunk of a parallel loop is the indirect call in the pool's chunk loop (engine/src/threadpool.c),
# marked on the call and at its return address, so the callee's instructions are exactly the chunk's.
EXECUTOR_FUNCTIONS = ("run_nodes", "sb_model_run")
CLOCK_TARGETS = ("clock_gettime", "__clock_gettime", "now_ms")
CHUNK_CALLERS = ("run_chunks", "dispatch", "worker_main")
PARALLEL_ENTRIES = ("sb_parallel_for", "sb_parallel_for_cost")
# waiting, not working: the pool's own code (spinning, sleeping, claiming chunks) and what it calls in libc
POOL_FUNCTIONS = ("run_chunks", "dispatch", "worker_main", "wait_for_job", "wake_workers", "publish", "now_ns",
                  "cpu_relax")
WAIT_LIBC = re.compile(r"^_*(pthread_|futex|lll_|condvar|aarch64_(cas|ld|swp)|clock_gettime|GI___pthread|"
                       r"GI___clock_gettime|syscall_cancel|sched_yield)")


@dataclass
class ThreadMarks:
    """The marks= entries of a thread-aware count, what each address is, and the idle= ranges."""

    marks: list[str]
    kinds: dict[int, str]  # address -> run | clock_call | clock_ret | chunk_begin | chunk_end | parallel
    idle: list[tuple[int, int, str]]


def _calls(binary: Path, start: int, size: int) -> list[tuple[int, str, str]]:
    """(address, mnemonic, target name or '') of the branch-and-link instructions in [start, start + size)."""
    require(OBJDUMP, "apt-get install -y binutils-aarch64-linux-gnu", "finds the runner's call sites")
    out = subprocess.run([OBJDUMP, "-d", "--no-show-raw-insn", f"--start-address={start:#x}",
                          f"--stop-address={start + size:#x}", str(binary)], capture_output=True, text=True,
                         check=True).stdout
    calls = []
    for m in re.finditer(r"^\s*([0-9a-f]+):\s+(blr?)\s+(\S+)(?:\s+<([^>+]+)[^>]*>)?", out, re.MULTILINE):
        calls.append((int(m.group(1), 16), m.group(2), m.group(4) or ""))
    return calls


def thread_marks(binary: Path) -> ThreadMarks:
    symbols = text_symbols(binary)
    kinds: dict[int, str] = {}
    marks: list[str] = []

    def add(address: int, kind: str, on_insn: bool) -> None:
        if address not in kinds:
            kinds[address] = kind
            marks.append(f"{'@' if on_insn else ''}{address:x}")

    for name, address, size in symbols:
        if name == "sb_model_run":
            add(address, "run", False)
        if name in PARALLEL_ENTRIES:
            add(address, "parallel", False)
        if name in EXECUTOR_FUNCTIONS and size:
            for at, op, target in _calls(binary, address, size):
                if op == "bl" and target in CLOCK_TARGETS:
                    add(at, "clock_call", True)
                    add(at + 4, "clock_ret", False)
        if name in CHUNK_CALLERS and size:
            for at, op, _ in _calls(binary, address, size):
                if op == "blr":
                    add(at, "chunk_begin", True)
                    add(at + 4, "chunk_end", False)
    if "run" not in kinds.values() or "clock_call" not in kinds.values():
        raise DeviceError(f"{binary}: no sb_model_run or no clock read in {'/'.join(EXECUTOR_FUNCTIONS)} "
                          "(a stripped runner? rebuild with make aarch64)")
    idle = [(address, size, name) for name, address, size in symbols
            if size and (name in POOL_FUNCTIONS or WAIT_LIBC.search(name))]
    return ThreadMarks(marks, kinds, idle)


@dataclass
class InsnCounts:
    """The plugin's report: `total N`, `thread V N`, `range NAME N` and, in execution order, `mark ADDR N V C0..Ck`
    (N the running total of all threads, V the thread that ran the marked block, Ci thread i's running count)."""

    total: int = 0
    marks: list[tuple[int, int]] = field(default_factory=list)  # (address, running total of all threads)
    mark_threads: list[tuple[int, list[int]]] = field(default_factory=list)  # per mark: (thread, per-thread counts)
    mark_waits: list[list[int]] = field(default_factory=list)  # per mark, with idle ranges: per-thread waiting counts
    threads: list[int] = field(default_factory=list)  # per guest thread (vCPU index), whole process
    waits: list[int] = field(default_factory=list)  # per guest thread, instructions in the idle ranges
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


def thread_plugin_command(program: Path, work: Path, functions: bool = False) -> tuple[list[str], ThreadMarks]:
    """plugin_command with the thread-aware marks and idle ranges of thread_marks(program)."""
    plan = thread_marks(program)
    cmd, _ = plugin_command(program, work, (), functions)
    idle = work / "idle.txt"
    idle.write_text("".join(f"{addr:x} {size:x} T {name}\n" for addr, size, name in plan.idle))
    cmd[2] += f",marks={':'.join(plan.marks)},idle={idle}"
    return cmd, plan


def read_counts(work: Path) -> InsnCounts:
    counts = InsnCounts()
    for line in (work / "counts.txt").read_text().splitlines():
        kind, *rest = line.split()
        if kind == "total":
            counts.total = int(rest[0])
        elif kind == "thread":
            index = int(rest[0])
            counts.threads += [0] * (index + 1 - len(counts.threads))
            counts.threads[index] = int(rest[1])
            if len(rest) > 2:
                counts.waits += [0] * (index + 1 - len(counts.waits))
                counts.waits[index] = int(rest[2])
        elif kind == "mark":
            counts.marks.append((int(rest[0], 16), int(rest[1])))
            if len(rest) > 2:  # per-thread counting (not the plugin's inline=1 mode)
                running, _, waiting = " ".join(rest[3:]).partition("|")
                counts.mark_threads.append((int(rest[2]), [int(c) for c in running.split()]))
                counts.mark_waits.append([int(c) for c in waiting.split()])
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
    """count_insns=True: per-op and whole-run instruction counts, per guest thread (one run, no warm-up: counts are
    identical run to run). functions=True also counts per function of the runner over the whole process (report
    "functions": {name: N}; exact for 1-thread runs only, the plugin's range counters are not atomic).
    runner: another static aarch64 sparsebyte-run (e.g. one linked with TVM kernels) instead of `make aarch64`'s."""

    def __init__(self, count_insns: bool = True, functions: bool = False, runner: Path | None = None,
                 timeout: float = 900) -> None:
        super().__init__(runner, "qemu", timeout)
        self.count_insns = count_insns
        self.functions = functions and count_insns
        self.metric = "insns" if count_insns else "ms"
        self._plan: ThreadMarks | None = None

    def command(self, work: Path) -> list[str]:
        runner = self.runner or aarch64_runner()
        if not self.count_insns:
            return [qemu_binary(), str(runner)]
        cmd, self._plan = thread_plugin_command(runner, work, self.functions)
        return cmd

    def options_for(self, options: RunOptions) -> tuple[RunOptions, str | None]:
        if not self.count_insns:
            return options, None
        return RunOptions(warmup=0, repeat=1, threads=options.threads, seed=options.seed), None

    def finish(self, report: dict[str, Any], work: Path) -> None:
        if self.count_insns:
            assert self._plan is not None
            add_insn_counts(report, read_counts(work), self._plan)


def makespan(costs: Sequence[int], threads: int) -> int:
    """When the last of `costs` (one parallel loop's chunks) ends if `threads` equal threads, starting together,
    each claim the next chunk as soon as they are free (the pool's shared counter). Which chunk a cost belongs to is
    not recorded and the order the threads reach their chunks depends on timing, so the chunks go by decreasing
    cost (the pool's order for even chunks with a smaller remainder last) and the result is deterministic."""
    free = [0] * max(1, threads)
    for cost in sorted(costs, reverse=True):
        heapq.heapreplace(free, free[0] + cost)
    return max(free)


def add_insn_counts(report: dict[str, Any], counts: InsnCounts, plan: ThreadMarks) -> None:
    """Add the instruction counts of the run to the runner's report. Per op:
    "thread_insns"  each thread's work between the executor's clock reads around the op (waiting excluded: the
                    pool's spin/sleep code and the pthread calls, see POOL_FUNCTIONS),
    "wait_insns"    each thread's waiting instructions there (timing-dependent: spinning runs until work comes),
    "chunk_insns"   the cost of each chunk of its parallel loops (deterministic: a chunk's work is its index range),
    "insns"         the op's cost on `threads` equal cores: the calling thread's serial work plus, per parallel
                    loop, the makespan of its chunks claimed in order (makespan()); at 1 thread, all of the op's
                    instructions, as before per-thread counting,
    "measured_insns" the busiest thread's work in this run (depends on which thread qemu's host scheduling let
                    claim which chunk).
    Per run: "thread_insns"/"wait_insns" (each thread from the first to the last clock read), "work_insns" (their
    sum), "critical_path_insns" = "run_insns" (the ops' "insns" plus the calling thread between ops: the latency
    on `threads` equal cores, in instructions), "measured_critical_path_insns", "process_insns" /
    "process_thread_insns" (whole process, loading included) and, with ranges, "functions"."""
    report["process_insns"] = counts.total
    if counts.threads:
        report["process_thread_insns"] = counts.threads
    if counts.functions:
        report["functions"] = counts.functions
    # the inline=1 plugin mode records no threads: everything is thread 0
    per_thread = counts.mark_threads or [(0, [total]) for _, total in counts.marks]
    waits = counts.mark_waits if any(counts.mark_waits) else [[] for _ in per_thread]
    kinds = [plan.kinds.get(a, "") for a, _ in counts.marks]
    starts = [i for i, k in enumerate(kinds) if k == "run"]
    if len(starts) != 1:
        raise DeviceError(f"qemu: expected one sb_model_run in the counted run, saw {len(starts)}")
    caller = per_thread[starts[0]][0]
    events = range(starts[0] + 1, len(kinds))
    calls = [i for i in events if kinds[i] == "clock_call" and per_thread[i][0] == caller]
    rets = [i for i in events if kinds[i] == "clock_ret" and per_thread[i][0] == caller]
    ops = report["ops"]
    if len(calls) < 2 * len(ops) or len(rets) < 2 * len(ops):
        raise DeviceError(f"qemu: {len(ops)} ops but only {len(calls)} clock reads after sb_model_run: "
                          "per-op counts need the runner's profiling")
    threads = int(report.get("threads", 1))

    def count(i: int, v: int) -> int:
        return per_thread[i][1][v] if v < len(per_thread[i][1]) else 0

    def wait(i: int, v: int) -> int:
        return waits[i][v] if v < len(waits[i]) else 0

    def work(begin: int, ret: int, end: int, v: int) -> int:
        """Thread v's instructions from mark `begin` to mark `end`, less its waiting after mark `ret` (the calling
        thread's own clock read, between `begin` and `ret`, stays in: it always did)."""
        return count(end, v) - count(begin, v) - (wait(end, v) - wait(ret, v))

    critical = measured = 0
    for n, op in enumerate(ops):
        s, r, e = calls[2 * n], rets[2 * n], calls[2 * n + 1]
        k = len(per_thread[e][1])
        op["thread_insns"] = [work(s, r, e, v) for v in range(k)]
        op["wait_insns"] = [wait(e, v) - wait(r, v) for v in range(k)]
        loops: list[list[int]] = []  # per parallel loop, its chunks' costs in claiming order
        open_chunk: dict[int, int] = {}
        caller_chunks = 0
        for i in range(s + 1, e):
            v = per_thread[i][0]
            if kinds[i] == "parallel" and v == caller:
                loops.append([])
            elif kinds[i] == "chunk_begin":
                open_chunk[v] = i
            elif kinds[i] == "chunk_end" and v in open_chunk:
                cost = count(i, v) - count(open_chunk.pop(v), v)
                if loops:
                    loops[-1].append(cost)
                if v == caller:
                    caller_chunks += cost
        op["chunk_insns"] = [c for loop in loops for c in loop]
        serial = op["thread_insns"][caller] - caller_chunks
        op["insns"] = serial + sum(makespan(loop, threads) for loop in loops)
        op["measured_insns"] = max(op["thread_insns"])
        critical += op["insns"]
        measured += op["measured_insns"]
        if n + 1 < len(ops):  # the executor between two ops: the calling thread alone
            gap = work(e, rets[2 * n + 1], calls[2 * n + 2], caller)
            critical += gap
            measured += gap
    first, last = calls[0], calls[2 * len(ops) - 1]
    k = len(per_thread[last][1])
    # the calling thread: its ops and the gaps (so the executor's own clock reads count, as in every op)
    report["thread_insns"] = [work(first, rets[0], last, v) if v != caller else
                              sum(op["thread_insns"][v] for op in ops) + sum(
                                  work(calls[2 * n + 1], rets[2 * n + 1], calls[2 * n + 2], v)
                                  for n in range(len(ops) - 1)) for v in range(k)]
    report["wait_insns"] = [wait(last, v) - wait(rets[0], v) for v in range(k)]
    report["work_insns"] = sum(report["thread_insns"])
    report["critical_path_insns"] = report["run_insns"] = critical
    report["measured_critical_path_insns"] = measured
