"""Executed aarch64 instruction counts of whole models under qemu-aarch64, dense vs group-sparse.

Makes MobileNet-v1 and MobileNetV2 .sbn files at each group sparsity (sparsebyte.prune.prune_groups +
sparsebyte.converters.convert), runs each once on the qemu device of sparsebyte.devices (the static NEON runner of
`make aarch64` under qemu-aarch64 with the counting plugin of tools/qemu-insn-count, both built when missing or
stale) and prints: per model and sparsity the run's instruction count (loading excluded), sparse over dense, and
the MAC bound 1 / (1 - s * share) where share is the MAC share of the pruned 1x1/FC layers; the dense 1x1 GEMM's
instructions over its ideal MACs / 4; per-kernel and (with --per-layer) per-node counts.

Per node: the plugin records the running total each time clock_gettime is entered; with profiling on the executor
reads the clock just before and after every node, so after the (only) sb_model_run entry the marks pair up per node
(sparsebyte.devices.qemu.add_insn_counts).

    python3 benchmarks/arm/insn_counts.py [--models mobilenet_v1 mobilenet_v2] [--sparsities 0.3 0.5 0.7 0.9]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sparsebyte.devices import QemuDevice


@dataclass
class RunCounts:
    run: int  # instructions of sb_model_run's nodes
    nodes: list[dict]  # runner profile entries plus "insns"
    kernels: dict[str, int] = field(default_factory=dict)  # per function (nm range) over the whole process


def run_counted(device: QemuDevice, model: Path) -> RunCounts:
    report = device.run(model).report
    return RunCounts(run=report["run_insns"], nodes=report["ops"], kernels=report["functions"])


def model_macs(model, shape: tuple[int, ...], pruned: set[str]) -> tuple[int, int]:
    """(all conv/FC MACs, MACs of the layers prune_groups prunes)."""
    import torch
    from torch import nn

    macs: dict[str, int] = {}
    hooks = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            def conv_hook(mod, inp, out, name=name):
                macs[name] = out.numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            def fc_hook(mod, inp, out, name=name):
                macs[name] = out.numel() * mod.in_features
            hooks.append(m.register_forward_hook(fc_hook))
    with torch.no_grad():
        model(torch.zeros(shape))
    for h in hooks:
        h.remove()
    return sum(macs.values()), sum(v for k, v in macs.items() if k in pruned)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["mobilenet_v1", "mobilenet_v2"])
    parser.add_argument("--sparsities", nargs="+", type=float, default=[0.3, 0.5, 0.7, 0.9])
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--per-layer", action="store_true", help="print every node's count")
    parser.add_argument("--json", type=Path, help="write all counts here")
    ns = parser.parse_args()

    import torch

    from sparsebyte.converters import convert
    from sparsebyte.models.registry import INPUT_SHAPES
    from sparsebyte.models.registry import build as build_model
    from sparsebyte.prune import prune_groups

    device = QemuDevice(functions=True)  # builds the runner (make aarch64) and the plugin when missing or stale
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ns.models:
            shape = INPUT_SHAPES[name]
            base = build_model(name)
            example = torch.zeros(shape)
            dense_path = work / f"{name}_dense.sbn"
            convert(base, dense_path, example_input=example, force_dense=True)
            dense = run_counted(device, dense_path)
            gemm_nodes = [n for n in dense.nodes if "gemm" in n["kernel"]]
            gemm_insns = sum(n["insns"] for n in gemm_nodes)
            gemm_ideal = sum(n["macs"] for n in gemm_nodes) / 4
            rows = []
            share = 0.0
            for s in ns.sparsities:
                model = copy.deepcopy(base)
                masks = prune_groups(model, s, group=ns.group)
                total_macs, pruned_macs = model_macs(model, shape, set(masks))
                share = pruned_macs / total_macs
                path = work / f"{name}_{int(round(s * 100))}.sbn"
                convert(model, path, example_input=example, group=ns.group, sparse_threshold=1.0)
                sparse = run_counted(device, path)
                bound = 1.0 / (1.0 - s * share)
                rows.append({"sparsity": s, "insns": sparse.run, "ratio": dense.run / sparse.run, "mac_bound": bound,
                             "nodes": sparse.nodes, "kernels": sparse.kernels})
            results[name] = {"dense_insns": dense.run, "pruned_mac_share": share, "gemm_insns": gemm_insns,
                             "gemm_ideal": gemm_ideal, "dense_nodes": dense.nodes, "sparse": rows}
            print(f"\n{name}: dense run {dense.run:,} instructions; pruned 1x1/FC layers hold {share:.1%} of MACs")
            print(f"  dense 1x1 GEMM: {gemm_insns:,} instructions for {gemm_ideal:,.0f} ideal (MACs/4): "
                  f"{gemm_insns / gemm_ideal:.3f}x of ideal")
            print(f"  {'sparsity':>8} {'instructions':>14} {'dense/sparse':>12} {'MAC bound':>10}")
            for r in rows:
                print(f"  {r['sparsity']:>8.0%} {r['insns']:>14,} {r['ratio']:>12.2f} {r['mac_bound']:>10.2f}")
            top = sorted(rows[-1]["kernels"].items(), key=lambda kv: -kv[1])[:8]
            print(f"  top functions at {rows[-1]['sparsity']:.0%} (whole process): "
                  + ", ".join(f"{k} {v:,}" for k, v in top))
            if ns.per_layer:
                print(f"  {'node':<58} {'kernel':<36} {'dense':>12} " + " ".join(f"{r['sparsity']:>11.0%}"
                                                                                for r in rows))
                for i, node in enumerate(dense.nodes):
                    counts = " ".join(f"{r['nodes'][i]['insns']:>12,}" if i < len(r["nodes"]) else " " * 12
                                      for r in rows)
                    print(f"  {node['name'][-58:]:<58} {node['kernel'][-36:]:<36} {node['insns']:>12,} {counts}")
    if ns.json:
        ns.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
