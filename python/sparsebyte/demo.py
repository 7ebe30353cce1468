"""`sparsebyte demo`: MobileNetV2 (real ImageNet weights) end to end.

Exports ONNX, converts dense and 50% group-sparse (one-shot prune_groups, G=4, no fine-tuning), runs both on the
host and under qemu-aarch64, checks the logits against PyTorch, classifies a real photo (chelsea the cat), and
prints errors, latencies and file sizes. Exit status 1 when an error exceeds the tolerance."""

from __future__ import annotations

import copy
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

TOLERANCE = 1e-4  # max abs error of the logits vs PyTorch


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _torch_logits(model: Any, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def run_demo(out: Path, qemu: bool = True, sparsity: float = 0.5, group: int = 4) -> int:
    import torch

    from .bench import median_ms, onnxruntime_session, run_onnx
    from .converters import convert
    from .images import preprocess, sample_photo, top_k
    from .models.export import export_onnx
    from .models.mobilenet_v2 import mobilenet_v2
    from .prune import mask_sparsity, prune_groups
    from .runtime import Model

    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    _log("building MobileNetV2 with the ImageNet weights")
    dense_torch = mobilenet_v2(pretrained=True)
    sparse_torch = copy.deepcopy(dense_torch)
    masks = prune_groups(sparse_torch, sparsity, group=group)
    _log(f"pruned {len(masks)} conv/fc layers to {mask_sparsity(masks):.0%} in groups of {group} (no fine-tuning)")

    files: dict[str, Path] = {}
    for name, model in (("dense", dense_torch), ("sparse", sparse_torch)):
        onnx_path = out / f"mobilenet_v2_{name}.onnx"
        sbn_path = out / f"mobilenet_v2_{name}.sbn"
        _log(f"exporting {onnx_path} and converting to {sbn_path}")
        export_onnx(model, onnx_path)
        if name == "dense":
            convert(onnx_path, sbn_path, force_dense=True)
        else:
            convert(onnx_path, sbn_path, group=group)
        files[f"{name}.onnx"], files[f"{name}.sbn"] = onnx_path, sbn_path

    photo = preprocess(sample_photo("chelsea"))
    rng = np.random.default_rng(0)
    inputs = [photo] + [rng.standard_normal(photo.shape, dtype=np.float32) for _ in range(3)]
    ok = True
    engines = {name: Model(files[f"{name}.sbn"]) for name in ("dense", "sparse")}
    references = {"dense": dense_torch, "sparse": sparse_torch}

    print(f"MobileNetV2, ImageNet weights; sparse = {sparsity:.0%} group-sparse, G={group}, one-shot, no fine-tuning")
    print(f"engine backend on the host: {engines['dense'].backend}")
    print("\n== chelsea the cat (skimage.data.chelsea) ==")
    for name, engine in engines.items():
        logits = engine.run(photo)
        best = ", ".join(f"{label} {p:.2f}" for _, label, p in top_k(logits[0], 3))
        print(f"{name:>6}: {best}")
    print("(one-shot pruning without fine-tuning loses ImageNet accuracy; the engine still matches PyTorch exactly)")

    print(f"\n== max abs error of the logits vs PyTorch ({len(inputs)} inputs: the photo + random) ==")
    for name, engine in engines.items():
        errors = [float(np.abs(engine.run(x) - _torch_logits(references[name], x)).max()) for x in inputs]
        good = max(errors) <= TOLERANCE
        ok &= good
        print(f"{name:>6} host: {max(errors):.2e}  {'OK' if good else 'FAIL'}")

    if qemu:
        from .qemu import QemuError, run_qemu

        for name in engines:
            try:
                outputs, report = run_qemu(files[f"{name}.sbn"], {engines[name].inputs[0].name: photo})
            except QemuError as e:
                print(f"{name:>6} qemu: not run: {e}")
                ok = False
                continue
            logits = next(iter(outputs.values()))
            err = float(np.abs(logits - _torch_logits(references[name], photo)).max())
            good = err <= TOLERANCE
            ok &= good
            label = top_k(logits[0], 1)[0][1]
            print(f"{name:>6} qemu-aarch64 ({report.get('backend', '?')}): {err:.2e}  top-1 {label}  "
                  f"{'OK' if good else 'FAIL'}")

    print("\n== host latency, 1 thread, median of 10 ==")
    session = onnxruntime_session(files["dense.onnx"], threads=1)
    feed = {session.get_inputs()[0].name: photo}
    latency = {name: median_ms(lambda e=engine: e.run(photo)) for name, engine in engines.items()}
    latency["onnxruntime"] = median_ms(lambda: run_onnx(session, feed))
    for name, ms in latency.items():
        print(f"{'engine ' + name if name in engines else name:>18}: {ms:8.2f} ms")
    print(f"{'sparse speed-up':>18}: {latency['dense'] / latency['sparse']:.2f}x over engine dense")

    print("\n== sizes ==")
    for key, path in files.items():
        print(f"{key:>12}: {os.path.getsize(path) / 1e6:7.2f} MB  {path}")
    print(f"\ndemo {'passed' if ok else 'FAILED'} in {time.perf_counter() - t_start:.0f} s")
    return 0 if ok else 1
