"""Measured per-node cost of a runner, for the per-layer hand-vs-TVM choice, through the device layer
(sparsebyte.devices):

aarch64: executed guest instructions of one run under qemu-aarch64 with the counting plugin (QemuDevice with the
given runner: the plugin's clock marks paired per node, loading excluded).
wasm32: node wall time per node (NodeDevice with the TVM build's sparsebyte-run.js, which takes the same command
line as every runner: one warm-up, then the runner's mean per node over `repeat` runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sparsebyte.devices import NodeDevice, QemuDevice, RunOptions


def aarch64_node_insns(runner: Path, model: Path) -> dict[str, dict[str, Any]]:
    """{node name: runner profile entry + "insns"} of one run (loading excluded)."""
    report = QemuDevice(runner=runner).run(model).report
    return {node["name"]: node for node in report["ops"]}


def wasm_node_ms(runner_js: Path, model: Path, repeat: int = 5) -> dict[str, dict[str, Any]]:
    """{node name: profile entry} with time_ms the node's mean over `repeat` runs in node."""
    report = NodeDevice(runner=runner_js).run(model, options=RunOptions(warmup=1, repeat=repeat)).report
    return {node["name"]: node for node in report["ops"]}
