"""`--kernels hand|tvm|auto` for one model: generate the TVM kernels, measure, choose per node, build the runner, and
record the choice beside the model in <model>.kernels.json (the .sbn itself is unchanged):

  {"kernels": "auto", "arch": "aarch64", "cost": "insns", "runner": "<path>",
   "layers": [{"node": ..., "kind": ..., "hand_kernel": ..., "hand": N, "tvm": N, "choice": "tvm"|"hand"}]}

auto keeps the TVM kernel of a node only when it costs strictly less than the hand-written one (aarch64: executed
instructions under qemu; wasm32: node ms per node, the mean of the timed runs)."""

from __future__ import annotations

import json
from pathlib import Path

from . import build, measure
from .generate import generate
from .glue import write_glue


def record_path(model: Path) -> Path:
    return model.with_name(model.name + ".kernels.json")


def _hand_runner(arch: str, work: Path, glue_dir: Path, obj: Path) -> Path:
    """The same build without any TVM routing: empty glue, same object (so only the choice differs)."""
    empty = glue_dir / "hand_tvm.c"
    write_glue(empty, "hand-written kernels only", [])
    if arch == "aarch64":
        return build.build_aarch64(empty, obj, work / "hand" / "sparsebyte-run")
    return build.build_wasm(empty, obj, work / "hand" / "sparsebyte-run.js")


def _costs(arch: str, runner: Path, model: Path) -> dict[str, dict]:
    if arch == "aarch64":
        return measure.aarch64_node_insns(runner, model)
    return measure.wasm_node_ms(runner, model)


def choose_kernels(model: str | Path, mode: str = "auto", arch: str = "aarch64",
                   out_dir: str | Path | None = None) -> dict:
    """Builds <out_dir>/sparsebyte-run[.js] for the model with the chosen kernels; returns (and writes) the record."""
    if mode not in ("hand", "tvm", "auto"):
        raise ValueError(f"--kernels must be hand, tvm or auto, got '{mode}'")
    model = Path(model)
    out = Path(out_dir) if out_dir else model.with_name(model.stem + f"_tvm_{arch}")
    gen = generate(model, out, archs=(arch,))
    obj = gen.objects[arch]
    runner_name = "sparsebyte-run" if arch == "aarch64" else "sparsebyte-run.js"
    builder = build.build_aarch64 if arch == "aarch64" else build.build_wasm
    all_tvm = builder(gen.glue, obj, out / "all" / runner_name)
    rows = []
    if mode == "auto":
        hand = _costs(arch, _hand_runner(arch, out, out, obj), model)
        tvm = _costs(arch, all_tvm, model)
        key = "insns" if arch == "aarch64" else "time_ms"
        for layer, symbol in gen.layers:
            h, t = hand[layer.name], tvm[layer.name]
            choice = "tvm" if t[key] < h[key] else "hand"
            rows.append({"node": layer.name, "kind": layer.kind, "symbol": symbol, "hand_kernel": h["kernel"],
                         "hand": h[key], "tvm": t[key], "choice": choice})
    else:
        for layer, symbol in gen.layers:
            rows.append({"node": layer.name, "kind": layer.kind, "symbol": symbol, "choice": mode})
    chosen = [(ly, s) for (ly, s), row in zip(gen.layers, rows, strict=True) if row["choice"] == "tvm"]
    write_glue(gen.glue, model.name, chosen)
    runner = builder(gen.glue, obj, out / runner_name)
    record = {"kernels": mode, "arch": arch, "cost": "insns" if arch == "aarch64" else "node_ms",
              "runner": str(runner), "compile_seconds": round(gen.compile_seconds, 2), "layers": rows}
    record_path(model).write_text(json.dumps(record, indent=1))
    return record
