"""Measured per-node cost of a runner, for the per-layer hand-vs-TVM choice.

aarch64: executed guest instructions under qemu-aarch64 with the counting plugin (tools/qemu-insn-count): the plugin
records its running total whenever clock_gettime is entered; with --profile the executor reads the clock before and
after every node, so after the one sb_model_run entry the marks pair up per node (as benchmarks/arm/insn_counts.py).
wasm32: node wall time per node (the runner's --profile --json, median of repeats)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "tools" / "qemu-insn-count"


def _symbol_address(runner: Path, name: str) -> int:
    out = subprocess.run(["aarch64-linux-gnu-nm", "--defined-only", str(runner)], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise RuntimeError(f"{runner}: no symbol {name}")


def aarch64_node_insns(runner: Path, model: Path) -> dict[str, dict]:
    """{node name: runner profile entry + "insns"} of one run (loading excluded)."""
    subprocess.run(["make", "-s", "-C", str(PLUGIN_DIR)], check=True)
    run_addr, clock_addr = _symbol_address(runner, "sb_model_run"), _symbol_address(runner, "clock_gettime")
    with tempfile.TemporaryDirectory() as tmp:
        counts = Path(tmp) / "counts.txt"
        plugin = f"{PLUGIN_DIR / 'libinsn_count.so'},out={counts},marks={run_addr:x}:{clock_addr:x}"
        proc = subprocess.run(["qemu-aarch64", "-plugin", plugin, str(runner), str(model), "--warmup", "0",
                               "--repeat", "1", "--threads", "1", "--profile", "--json"], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{runner} failed on {model}: {proc.stderr}")
        marks = [(int(a, 16), int(t)) for kind, a, t in (line.split() for line in counts.read_text().splitlines()
                                                         if line.startswith("mark"))]
    nodes = json.loads(proc.stdout)["ops"]
    starts = [i for i, (a, _) in enumerate(marks) if a == run_addr]
    if len(starts) != 1:
        raise RuntimeError(f"expected one sb_model_run, saw {len(starts)}")
    clock = [t for a, t in marks[starts[0] + 1:] if a == clock_addr]
    if len(clock) < 2 * len(nodes):
        raise RuntimeError(f"{len(nodes)} nodes but {len(clock)} clock reads")
    for i, node in enumerate(nodes):
        node["insns"] = clock[2 * i + 1] - clock[2 * i]
    return {node["name"]: node for node in nodes}


def wasm_node_ms(runner_js: Path, model: Path, repeat: int = 5) -> dict[str, dict]:
    """{node name: profile entry} with time_ms the node's median over `repeat` runs in node."""
    proc = subprocess.run(["node", str(runner_js), str(model), "--warmup", "1", "--repeat", str(repeat),
                           "--profile", "--json"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{runner_js} failed on {model}: {proc.stderr}")
    return {node["name"]: node for node in json.loads(proc.stdout)["ops"]}
