"""Per model: compile TVM kernels for its layers into one object per target, and write the glue C file.

    generate(model.sbn, out_dir, arch="aarch64"|"wasm32") -> Generated
writes out_dir/<stem>_tvm_<arch>.o (every kernel), out_dir/<stem>_tvm.c (adapters + lookup for the chosen nodes)
and out_dir/<stem>_tvm.json (what was generated). Kernel symbols are `sbtvm_<i>`, i the layer's position among
read_layers(), the same for both targets."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from . import kernels
from .glue import write_glue
from .layers import Layer, read_layers

TARGETS = {
    "aarch64": {"kind": "llvm", "mtriple": "aarch64-linux-gnu", "mattr": ["+neon"]},
    "wasm32": {"kind": "llvm", "mtriple": "wasm32-unknown-unknown-wasm", "mattr": ["+simd128"]},
    "host": {"kind": "llvm"},
}


@dataclass
class Generated:
    model: Path
    objects: dict[str, Path]  # arch -> object file
    glue: Path
    layers: list[tuple[Layer, str]]  # every generated (layer, symbol)
    compile_seconds: float


def symbol_for(index: int) -> str:
    return f"sbtvm_{index}"


def candidate_layers(model: str | os.PathLike, nodes: set[str] | None = None) -> list[tuple[Layer, str]]:
    """(layer, symbol) for every layer a TVM kernel can be generated for (optionally only the named nodes)."""
    out = []
    for i, layer in enumerate(read_layers(model)):
        if kernels.supported(layer) is None and (nodes is None or layer.name in nodes):
            out.append((layer, symbol_for(i)))
    return out


def compile_object(layers: list[tuple[Layer, str]], arch: str, path: Path) -> None:
    """All layers' kernels in one IRModule, compiled once for the arch and written as an object file."""
    import tvm

    if arch not in TARGETS:
        raise ValueError(f"unknown TVM target '{arch}' (known: {', '.join(TARGETS)})")
    mod = tvm.IRModule({symbol: kernels.build(layer, symbol) for layer, symbol in layers})
    executable = tvm.compile(mod, target=TARGETS[arch])
    executable.mod.write_to_file(str(path))


def generate(model: str | os.PathLike, out_dir: str | os.PathLike, archs: tuple[str, ...] = ("aarch64",),
             nodes: set[str] | None = None, use: set[str] | None = None) -> Generated:
    """Kernels for `nodes` (default: every supported layer); the glue routes the nodes in `use` (default: all
    generated) to their TVM kernels."""
    model, out = Path(model), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    layers = candidate_layers(model, nodes)
    if not layers:
        raise ValueError(f"{model}: no layer a TVM kernel can be generated for")
    start = time.perf_counter()
    objects = {}
    for arch in archs:
        objects[arch] = out / f"{model.stem}_tvm_{arch}.o"
        compile_object(layers, arch, objects[arch])
    seconds = time.perf_counter() - start
    glue = out / f"{model.stem}_tvm.c"
    write_glue(glue, model.name, [(ly, s) for ly, s in layers if use is None or ly.name in use])
    manifest = {"model": model.name, "archs": list(archs), "compile_seconds": round(seconds, 2),
                "kernels": [{"node": ly.name, "kind": ly.kind, "symbol": s, "macs": ly.macs} for ly, s in layers]}
    (out / f"{model.stem}_tvm.json").write_text(json.dumps(manifest, indent=1))
    return Generated(model, objects, glue, layers, seconds)
