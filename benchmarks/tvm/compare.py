"""Hand-written vs TVM-generated vs auto kernels, MobileNet-v1 at several group sparsities (G=4).

Per sparsity and target: generates the model's TVM kernels, builds the hand / all-TVM / auto runners and measures
every node (aarch64: executed instructions under qemu-aarch64; wasm32: node median ms, 1 thread), then prints per
layer hand vs TVM and the whole-model totals of the three runners.

    python3 benchmarks/tvm/compare.py [--sparsities 0 0.5 0.9] [--archs aarch64 wasm32] [--json out.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from pathlib import Path


def make_model(work: Path, sparsity: float) -> Path:
    import torch

    from sparsebyte.converters import convert
    from sparsebyte.models.registry import INPUT_SHAPES, build
    from sparsebyte.prune import prune_groups

    model = copy.deepcopy(build("mobilenet_v1"))
    if sparsity > 0:
        prune_groups(model, sparsity, group=4)
    path = work / f"mobilenet_v1_{int(round(sparsity * 100))}.sbn"
    convert(model, path, example_input=torch.zeros(INPUT_SHAPES["mobilenet_v1"]), group=4, sparse_threshold=1.0,
            force_dense=sparsity == 0)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sparsities", nargs="+", type=float, default=[0.0, 0.5, 0.9])
    parser.add_argument("--archs", nargs="+", default=["aarch64", "wasm32"])
    parser.add_argument("--json", type=Path)
    ns = parser.parse_args()

    from sparsebyte.converters.tvm import measure
    from sparsebyte.converters.tvm.choose import choose_kernels

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for s in ns.sparsities:
            model = make_model(work, s)
            for arch in ns.archs:
                record = choose_kernels(model, "auto", arch, work / f"{model.stem}_{arch}")
                out = Path(record["runner"]).parent
                name = "sparsebyte-run" if arch == "aarch64" else "sparsebyte-run.js"
                cost = measure.aarch64_node_insns if arch == "aarch64" else measure.wasm_node_ms
                key = "insns" if arch == "aarch64" else "time_ms"
                totals = {label: sum(n[key] for n in cost(out / sub / name, model).values())
                          for label, sub in (("hand", "hand"), ("tvm", "all"), ("auto", "."))}
                results.append({"sparsity": s, "arch": arch, "unit": key, "totals": totals, "layers": record["layers"],
                                "compile_seconds": record["compile_seconds"]})
                unit = "instructions" if key == "insns" else "ms"
                print(f"\nMobileNet-v1 {s:.0%} sparse, {arch} ({unit}); TVM compile {record['compile_seconds']} s")
                print(f"  {'node':<34} {'kind':<10} {'hand':>12} {'tvm':>12} {'tvm/hand':>8}  choice")
                for r in record["layers"]:
                    print(f"  {r['node'][-34:]:<34} {r['kind']:<10} {r['hand']:>12,.6g} {r['tvm']:>12,.6g} "
                          f"{r['tvm'] / r['hand']:>8.2f}  {r['choice']}")
                print("  whole model: " + ", ".join(f"{k} {v:,.6g}" for k, v in totals.items()))
    if ns.json:
        ns.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
