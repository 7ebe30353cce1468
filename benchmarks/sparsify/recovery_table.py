"""The docs table from recovery_results.jsonl: every cell of the grid (G = 1, 4; 30/50/70%; with and without
rearrangement; each recovery method), measured rows with their figures, the others marked "not run"; then
reconstruction alone against the calibration crops and the photo set.

    python benchmarks/sparsify/recovery_table.py [recovery_results.jsonl]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
METHODS = ("none", "bn", "bnrel", "recon", "distill", "datafree")
NAMES = {"none": "one-shot only", "bn": "BN re-estimation", "bnrel": "BN shift correction",
         "recon": "layer-wise reconstruction",
         "distill": "distillation, real photos",
         "datafree": "distillation, data-free"}


def fmt(row: dict) -> str:
    curve = row.get("curve") or []
    steps = f"{row['steps']} steps" if row.get("steps") else "-"
    points = "; ".join(f"{p['cpu_minutes']:.1f} min: {p['top1_agreement']:.0%}" for p in curve)
    extra = "" if row.get("classifier_pruned", True) else " (classifier dense)"
    mac_sparsity = row.get("mac_sparsity", row["sparsity"] if row.get("allocation", "uniform") == "uniform" else None)
    mac = "?" if mac_sparsity is None else f"{mac_sparsity:.1%}"  # uniform: every layer at the target
    return (f"| {mac} | {row['top1_agreement']:.1%} | {row['top5_overlap']:.2f} | {row['logit_cosine']:.3f} | "
            f"{row['cpu_minutes']:.1f} | {steps}{extra} | {'yes' if row.get('chelsea_top1_kept') else 'no'} | "
            f"{points or '-'} |")


def label(row: dict) -> str:
    """What a row adds to its method's name: reconstruction before distillation, the allocation, BN mode."""
    settings = row.get("settings", {})
    parts = []
    if row["method"] != "recon" and settings.get("reconstruct", "none") != "none":
        parts.append("after reconstruction")
    if row.get("allocation", "uniform") != "uniform":
        parts.append(f"{row['allocation']} allocation")
    if row.get("photo_set", "base") != "base":
        parts.append(f"{row['photo_set']} photo set, {row['train_photos']} photos")
    if settings.get("reconstruct", "none") != "none" and settings.get("calib_images"):
        parts.append(f"{settings['calib_images']} calibration crops")
    if settings.get("damp") not in (None, 0.01):
        parts.append(f"damp {settings['damp']:g}")
    if settings.get("freeze_bn"):
        parts.append("BN frozen")
    if settings.get("feature_weight"):
        parts.append(f"feature weight {settings['feature_weight']:g}")
    bn = settings.get("bn_mode") or ("relative" if row["method"] == "bnrel" else "absolute")
    if row["method"] != "none" and bn != "none" and "bn_estimator" not in row:
        parts.append("Jacobi BN")
    return f" ({', '.join(parts)})" if parts else ""


def table(rows: list[dict]) -> str:
    lines = ["| G | sparsity | rearranged | recovery | MAC sparsity | top-1 agreement | top-5 overlap | logit cosine | "
             "CPU min | training | cat top-1 kept | curve (CPU min: top-1) |", "|" + "---|" * 12]
    for group in (4, 1):
        for sparsity in (0.3, 0.5, 0.7):
            for rearr in ((False, True) if group > 1 else (False,)):
                for method in METHODS:
                    found = [r for r in rows if r["group"] == group and abs(r["sparsity"] - sparsity) < 1e-9
                             and r["rearrange"] == rearr and r["method"] == method]
                    head = f"| {group} | {sparsity:.0%} | {'yes' if rearr else 'no'} | {NAMES[method]}"
                    if not found:
                        lines.append(head + " | not run | | | | | | | |")
                    for r in found:
                        lines.append(head + label(r) + " " + fmt(r))
    return "\n".join(lines)


def calibration_curve(rows: list[dict]) -> str:
    """Layer-wise reconstruction (G=4, classifier dense, error allocation, damp 0.1) against the calibration crops
    and the photo set: the curve's point after reconstruction of every such run (a distillation run's too, before
    its training), in the order run."""
    lines = ["| sparsity | photo set (training photos) | calibration crops | top-1 agreement | top-5 overlap | "
             "logit cosine | CPU min | run |", "|" + "---|" * 8]
    for sparsity in (0.3, 0.5):
        for r in rows:
            s = r.get("settings", {})
            point = next((c for c in r.get("curve") or [] if c.get("after") == "reconstruction"), None)
            if (point is None or r["group"] != 4 or r["rearrange"] or r["classifier_pruned"]
                    or r.get("allocation") != "error" or s.get("damp") != 0.1 or abs(r["sparsity"] - sparsity) > 1e-9):
                continue
            lines.append(f"| {sparsity:.0%} | {r.get('photo_set', 'base')} ({r['train_photos']}) | "
                         f"{s['calib_images']} | {point['top1_agreement']:.1%} | {point['top5_overlap']:.2f} | "
                         f"{point['logit_cosine']:.3f} | {point['cpu_minutes']:.1f} | {NAMES[r['method']]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "recovery_results.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    print(table(rows))
    print("\n**Layer-wise reconstruction against calibration crops and photo set** (G=4, classifier dense, error "
          "allocation, damp 0.1; agreement right after reconstruction):\n")
    print(calibration_curve(rows))
