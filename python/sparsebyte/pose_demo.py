"""`sparsebyte demo` (the default demo; `--classifier` runs the MobileNetV2 one): MediaPipe's sparse pose detector
(pose_detection.tflite from the mediapipe 0.10.14 wheel: 38 of its 1x1 convs ~75% zeros behind DENSIFY), converted
sparse and with --dense, on real photos with people.

Decodes the SSD anchors and keeps the boxes with weighted NMS exactly as MediaPipe's graph does (sparsebyte.ssd),
checks that the detections equal LiteRT's (same input, same decoder), draws boxes and keypoints into PNGs, and prints
dense-vs-sparse latency on the host (interleaved rounds, medians), instructions under qemu-aarch64 (and LiteRT's
XNNPACK delegate when benchmarks/arm/peers.py's sysroot is present) and wasm latency in node.
Exit status 1 when detections differ, 2 when a dependency is missing."""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import resources, ssd

PHOTOS = ("astronaut", "camera")  # scikit-image's photos with a person: Eileen Collins, the cameraman
BOX_TOLERANCE = 1e-4  # max |coordinate difference| (normalized) between our detections and LiteRT's
WHEEL_MEMBER = "mediapipe/modules/pose_detection/pose_detection.tflite"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def model_file(tflite: Path | None) -> Path:
    """The given .tflite, or (in a checkout) the wheel's, fetched by zoo/wheels.py (`pip download --no-deps`)."""
    if tflite is not None:
        return tflite
    if not resources.in_checkout():
        raise resources.ResourceError(
            "pass --tflite pose_detection.tflite (`pip download --no-deps mediapipe==0.10.14` and unzip "
            f"{WHEEL_MEMBER} from the wheel), or run `sparsebyte demo --classifier` (MobileNetV2)")
    root = str(resources.source_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    zoo = importlib.import_module("zoo")  # the checkout's model zoo (zoo/registry.py), not part of the package
    return Path(zoo.model_file("mediapipe-pose-detection"))


def photo(name: str) -> np.ndarray:
    """A scikit-image photo as HxWx3 uint8 (grey ones repeated over 3 channels)."""
    from skimage import data

    image = np.asarray(getattr(data, name)())
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]


def model_input(image: np.ndarray, params: dict[str, Any] = ssd.POSE_DETECTION
                ) -> tuple[np.ndarray, np.ndarray, ssd.Letterbox]:
    """(the letterboxed uint8 pixels, the NHWC float tensor, the letterbox)."""
    opts = params["image_to_tensor"]
    pixels, box = ssd.letterbox(image, opts["output_tensor_width"], opts["output_tensor_height"])
    return pixels, ssd.to_tensor(pixels, opts["output_tensor_float_range"]), box


def outputs_of(result: dict[str, np.ndarray] | list[np.ndarray] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(raw boxes [1, 2254, 12], raw scores [1, 2254, 1]) from a run's outputs, whatever their names."""
    if isinstance(result, np.ndarray):
        raise ValueError("the pose detector has two outputs (boxes, scores), got one array")
    arrays = list(result.values()) if isinstance(result, dict) else list(result)
    boxes = next(a for a in arrays if a.shape[-1] == ssd.POSE_DETECTION["decoder"]["num_coords"])
    scores = next(a for a in arrays if a.shape[-1] == ssd.POSE_DETECTION["decoder"]["num_classes"])
    return boxes, scores


def litert_outputs(interpreter: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return outputs_of([interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()])


def difference(got: list[ssd.Detection], want: list[ssd.Detection]) -> float | None:
    """Max |coordinate difference| over boxes and keypoints; None when the detections do not pair up (count or
    anchor differs)."""
    if len(got) != len(want) or any(g.anchor != w.anchor or g.merged != w.merged for g, w in zip(got, want,
                                                                                                  strict=True)):
        return None
    return max((float(max(np.abs(g.box - w.box).max(), np.abs(g.keypoints - w.keypoints).max()))
                for g, w in zip(got, want, strict=True)), default=0.0)


def describe(d: ssd.Detection, width: int, height: int) -> str:
    x, y, w, h = d.box
    return (f"score {d.score:.3f}  face box x {x * width:.1f} y {y * height:.1f} w {w * width:.1f} h {h * height:.1f} "
            f"px  (anchor {d.anchor}, {d.merged} merged)")


def draw(image: np.ndarray, detections: list[ssd.Detection], path: Path) -> None:
    """Boxes (MediaPipe's pose box is the face box) and the 4 keypoints, with the body circle the keypoints encode
    (centre: mid hip, radius: distance to the size/rotation point)."""
    from PIL import Image, ImageDraw

    im = Image.fromarray(image).convert("RGB")
    pen = ImageDraw.Draw(im)
    w, h = im.size
    colors = ("#ff3b30", "#ffcc00", "#34c759", "#0a84ff")
    for d in detections:
        x, y, bw, bh = d.box
        pen.rectangle([x * w, y * h, (x + bw) * w, (y + bh) * h], outline="#ff3b30", width=3)
        pen.text((x * w + 3, y * h + 3), f"{d.score:.2f}", fill="#ff3b30")
        pts = [(float(px * w), float(py * h)) for px, py in d.keypoints]
        for (cx, cy), (ex, ey) in ((pts[0], pts[1]), (pts[2], pts[3])):
            r = float(np.hypot(ex - cx, ey - cy))
            pen.ellipse([cx - r, cy - r, cx + r, cy + r], outline="#0a84ff", width=2)
            pen.line([cx, cy, ex, ey], fill="#0a84ff", width=2)
        for (px, py), color in zip(pts, colors, strict=True):
            pen.ellipse([px - 5, py - 5, px + 5, py + 5], fill=color, outline="black")
    im.save(path)


def _interleaved_ms(runs: dict[str, Any], rounds: int) -> dict[str, float]:
    """Median ms per callable, timed round by round (each round runs every callable once, order alternating)."""
    times: dict[str, list[float]] = {k: [] for k in runs}
    for fn in runs.values():  # warm-up
        fn()
    names = list(runs)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            t0 = time.perf_counter()
            runs[name]()
            times[name].append((time.perf_counter() - t0) * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def _peers_module() -> Any | None:
    """benchmarks/arm/peers.py when its aarch64 CPython sysroot and LiteRT wheel are already built, else None."""
    if not resources.in_checkout():
        return None
    path = resources.source_root() / "benchmarks" / "arm" / "peers.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("sb_arm_peers", path)
    assert spec is not None and spec.loader is not None
    peers = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(peers)
    except (ImportError, AttributeError, SyntaxError) as e:  # a peer harness that does not load: no XNNPACK row
        _log(f"benchmarks/arm/peers.py does not load ({type(e).__name__}: {e}): XNNPACK skipped")
        return None
    ready = (peers.CACHE / "sysroot" / "usr" / "bin" / "python3.11").is_file() and \
        (peers.CACHE / "site" / "ai_edge_litert").is_dir()
    return peers if ready else None


def qemu_step(files: dict[str, Path], source: Path, x: np.ndarray, want: list[ssd.Detection], out: Path,
              xnnpack: bool) -> bool:
    from .devices import DeviceError, QemuDevice, RunOptions, run_model

    peers = _peers_module() if xnnpack else None
    cpu = f" -cpu {peers.CPU}" if peers else ""
    print(f"\n== qemu-aarch64{cpu}: instructions per inference (1 thread) ==")
    ok, counts = True, {}
    for name, sbn in files.items():
        device = peers.SameCpuQemu(count_insns=True) if peers else QemuDevice(count_insns=True)
        try:
            outputs, report = run_model(sbn, x, device, RunOptions(warmup=0, repeat=1))
        except DeviceError as e:
            print(f"{name:>6}: not run: {e}")
            return False
        diff = difference(ssd.detect(*outputs_of(outputs)), want)
        good = diff is not None and diff <= BOX_TOLERANCE
        ok &= good
        counts[name] = int(report["run_insns"])
        print(f"{name:>6}: {counts[name] / 1e6:7.1f}M instructions  detections vs LiteRT: "
              f"{'max diff ' + format(diff, '.1e') if diff is not None else 'DIFFERENT'}  {'OK' if good else 'FAIL'}")
    if len(counts) == 2:
        print(f"{'sparse':>6}: {counts['dense'] / counts['sparse']:.2f}x fewer instructions than dense")
    if peers:
        work = out / "xnnpack"
        work.mkdir(exist_ok=True)
        np.save(work / "input.npy", x)
        _log("LiteRT XNNPACK under qemu (benchmarks/arm/peers.py: N=1 and N=3 invocations)")
        try:
            total, families = peers.litert_insns(source, work / "input.npy", work)
        except (RuntimeError, OSError) as e:
            print(f"xnnpack: not run: {e}")
        else:
            top = ", ".join(f"{k} {v / 1e6:.1f}M" for k, v in list(families.items())[:2])
            print(f"xnnpack: {total / 1e6:7.1f}M instructions (LiteRT's XNNPACK delegate; {top})")
            if "sparse" in counts:
                print(f"{'sparse':>6}: {total / counts['sparse']:.2f}x fewer instructions than XNNPACK")
    elif xnnpack:
        print("xnnpack: skipped (python3 benchmarks/arm/peers.py builds its aarch64 sysroot once)")
    return ok


def node_step(files: dict[str, Path], x: np.ndarray, want: list[ssd.Detection], rounds: int) -> bool:
    """Dense and sparse in node (wasm SIMD128): detections vs LiteRT, latency: `rounds` node processes per model,
    alternating, each warm-up 3 and median of 10; the median of those."""
    from .demo import wasm_unavailable
    from .devices import DeviceError, NodeDevice, RunOptions, run_model

    print("\n== WebAssembly (SIMD128) in node, 1 thread ==")
    reason = wasm_unavailable()
    if reason:
        print(f"  skipped: {reason}")
        return True
    ok = True
    times: dict[str, list[float]] = {name: [] for name in files}
    device = NodeDevice()
    for r in range(rounds):
        for name in list(files) if r % 2 == 0 else list(files)[::-1]:
            try:
                outputs, report = run_model(files[name], x, device, RunOptions(warmup=3, repeat=10))
            except DeviceError as e:
                print(f"{name:>6}: not run: {e}")
                return False
            times[name].append(float(report["latency_ms"]["median"]))
            if r == 0:
                diff = difference(ssd.detect(*outputs_of(outputs)), want)
                good = diff is not None and diff <= BOX_TOLERANCE
                ok &= good
                print(f"{name:>6}: detections vs LiteRT: "
                      f"{'max diff ' + format(diff, '.1e') if diff is not None else 'DIFFERENT'}  "
                      f"{'OK' if good else 'FAIL'}")
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, ms in med.items():
        print(f"{'wasm ' + name:>12}: {ms:7.2f} ms  (median of {rounds} node runs x 10)")
    print(f"{'sparse':>12}: {med['dense'] / med['sparse']:.2f}x the speed of dense")
    return ok


DEPENDENCIES = ("skimage", "ai_edge_litert")


def run_pose_demo(out: Path, tflite: Path | None = None, qemu: bool = True, wasm: bool = True, xnnpack: bool = True,
                  rounds: int = 10) -> int:
    resources.require("the pose demo", *DEPENDENCIES)
    from .check import litert_interpreter
    from .converters import convert
    from .runtime import Model

    t_start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    source = model_file(tflite)
    files = {"dense": out / "pose_detection_dense.sbn", "sparse": out / "pose_detection_sparse.sbn"}
    _log(f"converting {source} to {files['sparse']} and (--dense) {files['dense']}")
    report = convert(source, files["sparse"])
    convert(source, files["dense"], force_dense=True)
    engines = {name: Model(path) for name, path in files.items()}
    litert = {k: litert_interpreter(str(source), k) for k in ("builtin", "xnnpack")}
    anchors = ssd.ssd_anchors(ssd.POSE_DETECTION["anchors"])
    print("MediaPipe pose detector (mediapipe 0.10.14 pose_detection.tflite), converted by sparsebyte")
    print(f"sparse layers: {_sparse_summary(report)}; engine backend on the host: {engines['sparse'].backend}")
    print(f"SSD: {len(anchors)} anchors, weighted NMS, options from {ssd.POSE_DETECTION['source']}")

    ok, x0, want0 = True, None, None
    for name in PHOTOS:
        image = photo(name)
        _, x, box = model_input(image)
        want = ssd.detect(*litert_outputs(litert["builtin"], x), anchors=anchors)
        print(f"\n== {name} (skimage.data.{name}, {image.shape[1]}x{image.shape[0]}) ==")
        for key, engine in engines.items():
            got = ssd.detect(*outputs_of(engine.run(x)), anchors=anchors)
            diff = difference(got, want)
            good = diff is not None and diff <= BOX_TOLERANCE
            ok &= good
            same = f"identical anchors, max coordinate diff {diff:.1e}" if diff is not None else "DIFFERENT"
            print(f"{key:>6}: {len(got)} detection(s), vs LiteRT's {len(want)}: {same}  {'OK' if good else 'FAIL'}")
        xnn = ssd.detect(*litert_outputs(litert["xnnpack"], x), anchors=anchors)
        diff = difference(xnn, want)
        print(f"{'(LiteRT XNNPACK vs builtin':>27}: {f'max diff {diff:.1e}' if diff is not None else 'different'})")
        shown = ssd.remove_letterbox(want, box)
        for d in shown:
            print(f"        {describe(d, image.shape[1], image.shape[0])}")
        png = out / f"pose_{name}.png"
        draw(image, ssd.remove_letterbox(ssd.detect(*outputs_of(engines["sparse"].run(x)), anchors=anchors), box),
             png)
        print(f"        drawn: {png}")
        if x0 is None:
            x0, want0 = x, want
    assert x0 is not None and want0 is not None

    print(f"\n== host latency, 1 thread, {rounds} interleaved rounds, medians ({PHOTOS[0]}) ==")
    interp = litert["xnnpack"]
    runs = {"engine dense": lambda: engines["dense"].run(x0), "engine sparse": lambda: engines["sparse"].run(x0),
            "LiteRT XNNPACK": lambda: litert_outputs(interp, x0)}
    ms = _interleaved_ms(runs, rounds)
    for name, v in ms.items():
        print(f"{name:>15}: {v:7.2f} ms")
    print(f"{'sparse':>15}: {ms['engine dense'] / ms['engine sparse']:.2f}x the speed of dense, "
          f"{ms['LiteRT XNNPACK'] / ms['engine sparse']:.2f}x LiteRT XNNPACK's")
    if engines["sparse"].backend == "scalar":
        print("(this host build runs the scalar kernels: the vectorised ones are NEON (qemu below) and WASM SIMD128)")
    if qemu:
        ok &= qemu_step(files, source, x0, want0, out, xnnpack)
    if wasm:
        ok &= node_step(files, x0, want0, rounds=3)
    if resources.in_checkout():
        print("\nin the browser: python demos/browser/build.py && python demos/browser/serve.py (the pose tab)")
    print(f"\npose demo {'passed' if ok else 'FAILED'} in {time.perf_counter() - t_start:.0f} s")
    return 0 if ok else 1


def _sparse_summary(report: Any) -> str:
    groups = sorted({layer.group for layer in report.layers if layer.choice == "sparse"})
    return f"{report.sparse_layers} of {len(report.layers)} (G={', '.join(map(str, groups))})"
