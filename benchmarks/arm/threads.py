"""Predicted ARM thread scaling: per-thread instruction counts under qemu-aarch64, and the critical path.

Makes MobileNet-v1 (dense, 70 %, 90 % group sparsity) and MobileNetV2 (dense, 90 %) .sbn files as
benchmarks/arm/insn_counts.py does, runs each once per thread count on the qemu device of sparsebyte.devices (the
static NEON runner of `make aarch64` under qemu-aarch64 with the per-thread counting plugin of tools/qemu-insn-count)
and prints per model and thread count: all threads' instructions (the work), the critical path (per operator the
busiest thread on N equal cores, summed, plus the calling thread between operators: the run's latency if every core
runs as fast; sparsebyte.devices.qemu.add_insn_counts) and its ratio to 1 thread's, and the busiest thread as this
run's threads really split the chunks ("measured": qemu's threads run on the host's loaded cores); then the
operators that scale worst (most critical-path instructions above 1 thread's / N),
with how their work split over the threads in this run. The modelled critical path is deterministic to a few
instructions (waiting is not counted as work), so one run per point is enough and the machine's load does not
matter.

    python3 benchmarks/arm/threads.py [--models v1_dense v1_70 v1_90 v2_dense v2_90] [--threads 1 2 4 8]
                                      [--worst 6] [--json out.json]
Issue 14 targets: 4 threads <= 0.30x of 1 thread (v1 dense, 70 %), <= 0.35x (v1 90 %); 8 threads <= 0.17x (v1 dense).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from sparsebyte.devices import QemuDevice
from sparsebyte.devices.base import RunOptions

# name -> (registry model, group sparsity)
MODELS = {"v1_dense": ("mobilenet_v1", 0.0), "v1_70": ("mobilenet_v1", 0.7), "v1_90": ("mobilenet_v1", 0.9),
          "v2_dense": ("mobilenet_v2", 0.0), "v2_90": ("mobilenet_v2", 0.9)}
TARGETS = {("v1_dense", 4): 0.30, ("v1_70", 4): 0.30, ("v1_90", 4): 0.35, ("v1_dense", 8): 0.17}


def make_model(name: str, work: Path, group: int = 4) -> Path:
    import torch

    from sparsebyte.converters import convert
    from sparsebyte.models.registry import INPUT_SHAPES, build
    from sparsebyte.prune import prune_groups

    arch, sparsity = MODELS[name]
    model = build(arch)
    example = torch.zeros(INPUT_SHAPES[arch])
    path = work / f"{name}.sbn"
    if sparsity == 0:
        convert(model, path, example_input=example, force_dense=True)
    else:
        prune_groups(model, sparsity, group=group)
        convert(model, path, example_input=example, group=group, sparse_threshold=1.0)
    return path


def worst_ops(one: dict[str, Any], many: dict[str, Any], threads: int, n: int) -> list[dict[str, Any]]:
    """The ops of a `threads`-thread run with the most critical-path instructions above their 1-thread count / N."""
    rows = []
    for a, b in zip(one["ops"], many["ops"], strict=True):
        rows.append({"name": b["name"], "op": b["op"], "kernel": b["kernel"], "insns_1": a["insns"],
                     "insns_n": b["insns"], "excess": b["insns"] - a["insns"] / threads,
                     "speedup": a["insns"] / b["insns"] if b["insns"] else 0.0, "split": b["thread_insns"]})
    return sorted(rows, key=lambda r: -r["excess"])[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2, 4, 8])
    parser.add_argument("--worst", type=int, default=6, help="operators listed per model and thread count")
    parser.add_argument("--json", type=Path, help="write every report here")
    ns = parser.parse_args()
    # the fixed cost rule (docs/threads.md): qemu-user passes the environment to the runner; its one counted run
    # would split like the cost rule anyway (the adaptive rule's first run), this keeps it so whatever the runs
    os.environ["SPARSEBYTE_SPLIT"] = "cost"
    counts = sorted(set(ns.threads) | {1})

    device = QemuDevice()  # builds the runner (make aarch64) and the plugin when missing or stale
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ns.models:
            path = make_model(name, Path(tmp))
            reports = {t: device.run(path, options=RunOptions(threads=t)).report for t in counts}
            base = reports[1]["critical_path_insns"]
            print(f"\n{name} ({len(reports[1]['ops'])} ops)")
            print(f"  {'threads':>7} {'work':>14} {'critical path':>14} {'ratio':>7} {'ideal':>6} {'target':>7} "
                  f"{'measured':>8}  per-thread work (this run)")
            for t in counts:
                r = reports[t]
                target = TARGETS.get((name, t))
                verdict = "" if target is None else \
                    f"{target:.2f} " + ("ok" if r["critical_path_insns"] / base <= target else "MISS")
                print(f"  {t:>7} {r['work_insns']:>14,} {r['critical_path_insns']:>14,} "
                      f"{r['critical_path_insns'] / base:>7.3f} {1 / t:>6.3f} {verdict:>7} "
                      f"{r['measured_critical_path_insns'] / base:>8.3f}  "
                      + " ".join(f"{c / 1e6:.1f}M" for c in r["thread_insns"]))
            results[name] = {str(t): reports[t] for t in counts}
            for t in counts:
                if t == 1:
                    continue
                print(f"  worst operators at {t} threads (critical insns above 1-thread / {t}):")
                for w in worst_ops(reports[1], reports[t], t, ns.worst):
                    share = " ".join(f"{c / max(1, sum(w['split'])):.2f}" for c in w["split"])
                    print(f"    {w['name'][-40:]:<40} {w['op']:<10} {w['kernel'][-28:]:<28} "
                          f"1t {w['insns_1']:>11,} {t}t {w['insns_n']:>11,} x{w['speedup']:.2f} "
                          f"excess {w['excess']:>10,.0f}  split {share}")
    if ns.json:
        ns.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
