"""MediaPipe's SSD post-processing for the pose detector, in numpy: anchors (SsdAnchorsCalculator), box and keypoint
decoding (TensorsToDetectionsCalculator), weighted non-max suppression (NonMaxSuppressionCalculator, WEIGHTED),
letterboxing (ImageToTensorCalculator keep_aspect_ratio) and its removal (DetectionLetterboxRemovalCalculator).

The options are MediaPipe's own, copied from its public graph config (POSE_DETECTION below); `browser_params()` is
the JSON the browser demo decodes with (demos/browser/pose.js), so the constants exist once."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# From github.com/google-ai-edge/mediapipe, mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt (the graph
# MediaPipe 0.10.14 runs pose_detection.tflite with): ImageToTensorCalculator, SsdAnchorsCalculator,
# TensorsToDetectionsCalculator and NonMaxSuppressionCalculator options, verbatim. Fields the graph leaves unset take
# their proto defaults (interpolated_scale_aspect_ratio 1.0, reduce_boxes_in_lowest_layer false,
# apply_exponential_on_box_size false, max_num_detections -1).
POSE_DETECTION: dict[str, Any] = {
    "source": "mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt (github.com/google-ai-edge/mediapipe)",
    "image_to_tensor": {"output_tensor_width": 224, "output_tensor_height": 224, "keep_aspect_ratio": True,
                        "output_tensor_float_range": [-1.0, 1.0], "border_mode": "BORDER_ZERO"},
    "anchors": {"num_layers": 5, "min_scale": 0.1484375, "max_scale": 0.75, "input_size_height": 224,
                "input_size_width": 224, "anchor_offset_x": 0.5, "anchor_offset_y": 0.5,
                "strides": [8, 16, 32, 32, 32], "aspect_ratios": [1.0], "fixed_anchor_size": True,
                "interpolated_scale_aspect_ratio": 1.0, "reduce_boxes_in_lowest_layer": False},
    "decoder": {"num_classes": 1, "num_boxes": 2254, "num_coords": 12, "box_coord_offset": 0,
                "keypoint_coord_offset": 4, "num_keypoints": 4, "num_values_per_keypoint": 2, "sigmoid_score": True,
                "score_clipping_thresh": 100.0, "reverse_output_order": True, "x_scale": 224.0, "y_scale": 224.0,
                "h_scale": 224.0, "w_scale": 224.0, "min_score_thresh": 0.2},
    "nms": {"min_suppression_threshold": 0.3, "overlap_type": "INTERSECTION_OVER_UNION", "algorithm": "WEIGHTED"},
    # The pbtxt's comment on the 4 keypoints, in order.
    "keypoints": ["mid hip", "full-body size/rotation", "mid shoulder", "upper-body size/rotation"],
}


def _scale(min_scale: float, max_scale: float, index: int, count: int) -> float:
    if count == 1:
        return (min_scale + max_scale) * 0.5
    return min_scale + (max_scale - min_scale) * index / (count - 1.0)


def ssd_anchors(options: dict[str, Any]) -> np.ndarray:
    """SsdAnchorsCalculator::GenerateAnchors (non-multiscale path): [N, 4] float32 rows (x_center, y_center, w, h),
    normalized. Layers with the same stride are merged: their anchors interleave per feature-map cell."""
    strides, ratios = options["strides"], options["aspect_ratios"]
    n_strides = len(strides)
    rows: list[tuple[float, float, float, float]] = []
    layer = 0
    while layer < options["num_layers"]:
        heights, widths = [], []
        last = layer
        while last < n_strides and strides[last] == strides[layer]:
            scale = _scale(options["min_scale"], options["max_scale"], last, n_strides)
            if last == 0 and options["reduce_boxes_in_lowest_layer"]:
                pairs = [(1.0, 0.1), (2.0, scale), (0.5, scale)]
            else:
                pairs = [(r, scale) for r in ratios]
                if options["interpolated_scale_aspect_ratio"] > 0.0:
                    nxt = 1.0 if last == n_strides - 1 else _scale(options["min_scale"], options["max_scale"],
                                                                    last + 1, n_strides)
                    pairs.append((options["interpolated_scale_aspect_ratio"], math.sqrt(scale * nxt)))
            for ratio, s in pairs:
                heights.append(s / math.sqrt(ratio))
                widths.append(s * math.sqrt(ratio))
            last += 1
        fh = math.ceil(options["input_size_height"] / strides[layer])
        fw = math.ceil(options["input_size_width"] / strides[layer])
        for y in range(fh):
            for x in range(fw):
                for h, w in zip(heights, widths, strict=True):
                    xc = (x + options["anchor_offset_x"]) / fw
                    yc = (y + options["anchor_offset_y"]) / fh
                    rows.append((xc, yc, 1.0, 1.0) if options["fixed_anchor_size"] else (xc, yc, w, h))
        layer = last
    return np.asarray(rows, np.float32)


@dataclass
class Detection:
    """One detection, normalized to the model input (or, after remove_letterbox, to the image): box as
    (xmin, ymin, width, height), keypoints [K, 2] (x, y), the score and the index of the anchor it came from (for the
    weighted ones: the top-scoring candidate's)."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float
    anchor: int = -1
    merged: int = 1  # how many raw detections weighted NMS averaged into this one

    def as_dict(self) -> dict[str, Any]:
        return {"box": [float(v) for v in self.box], "keypoints": [[float(x), float(y)] for x, y in self.keypoints],
                "score": float(self.score), "anchor": self.anchor, "merged": self.merged}


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, options: dict[str, Any]
           ) -> list[Detection]:
    """TensorsToDetectionsCalculator::ProcessCPU for one class: decode every anchor's box and keypoints, sigmoid
    (clipped) scores, keep score >= min_score_thresh and non-negative width/height, in anchor order."""
    n, nc = options["num_boxes"], options["num_coords"]
    raw = np.asarray(raw_boxes, np.float32).reshape(n, nc)
    if anchors.shape != (n, 4):
        raise ValueError(f"expected {n} anchors, got {anchors.shape[0]}")
    off = options["box_coord_offset"]
    if options["reverse_output_order"]:  # XYWH
        x, y, w, h = (raw[:, off + i] for i in range(4))
    else:  # YXHW
        y, x, h, w = (raw[:, off + i] for i in range(4))
    axc, ayc, aw, ah = anchors.T
    xc = x / options["x_scale"] * aw + axc
    yc = y / options["y_scale"] * ah + ayc
    w = w / options["w_scale"] * aw
    h = h / options["h_scale"] * ah
    boxes = np.stack([xc - w / 2, yc - h / 2, w, h], axis=1)  # xmin, ymin, width (xmax-xmin), height
    k, kv, ko = options["num_keypoints"], options["num_values_per_keypoint"], options["keypoint_coord_offset"]
    kp = raw[:, ko:ko + k * kv].reshape(n, k, kv)[:, :, :2]
    if not options["reverse_output_order"]:
        kp = kp[:, :, ::-1]
    kp = np.stack([kp[:, :, 0] / options["x_scale"] * aw[:, None] + axc[:, None],
                   kp[:, :, 1] / options["y_scale"] * ah[:, None] + ayc[:, None]], axis=2)
    scores = np.asarray(raw_scores, np.float64).reshape(n, options["num_classes"]).max(axis=1)
    if options["sigmoid_score"]:
        clip = options.get("score_clipping_thresh")
        if clip is not None:
            scores = np.clip(scores, -clip, clip)
        scores = 1.0 / (1.0 + np.exp(-scores))
    keep = (scores >= options["min_score_thresh"]) & (boxes[:, 2] >= 0) & (boxes[:, 3] >= 0)
    return [Detection(boxes[i].astype(np.float64), kp[i].astype(np.float64), float(scores[i]), int(i))
            for i in np.flatnonzero(keep)]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """INTERSECTION_OVER_UNION of two (xmin, ymin, width, height) boxes (0 when they do not intersect)."""
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if ix < 0 or iy < 0:
        return 0.0
    inter = ix * iy
    norm = a[2] * a[3] + b[2] * b[3] - inter
    return inter / norm if norm > 0 else 0.0


def weighted_nms(detections: list[Detection], options: dict[str, Any]) -> list[Detection]:
    """NonMaxSuppressionCalculator::WeightedNonMaxSuppression: take the best remaining detection, average the box and
    keypoints of every remaining one overlapping it by more than min_suppression_threshold (itself included),
    weighted by score; the result keeps the best one's score."""
    if options["algorithm"] != "WEIGHTED" or options["overlap_type"] != "INTERSECTION_OVER_UNION":
        raise ValueError(f"only WEIGHTED NMS with INTERSECTION_OVER_UNION is implemented, not {options}")
    threshold = options["min_suppression_threshold"]
    order = sorted(range(len(detections)), key=lambda i: -detections[i].score)  # stable: ties keep anchor order
    remaining = order
    out: list[Detection] = []
    while remaining:
        best = detections[remaining[0]]
        candidates: list[int] = []
        rest: list[int] = []
        for i in remaining:
            (candidates if iou(detections[i].box, best.box) > threshold else rest).append(i)
        result = Detection(best.box.copy(), best.keypoints.copy(), best.score, best.anchor, 1)
        if candidates:
            weights = np.asarray([detections[i].score for i in candidates])
            corners = np.asarray([[d.box[0], d.box[1], d.box[0] + d.box[2], d.box[1] + d.box[3]]
                                  for d in (detections[i] for i in candidates)])
            kps = np.asarray([detections[i].keypoints for i in candidates])
            total = weights.sum()
            c = (corners * weights[:, None]).sum(axis=0) / total
            result.box = np.asarray([c[0], c[1], c[2] - c[0], c[3] - c[1]])
            result.keypoints = (kps * weights[:, None, None]).sum(axis=0) / total
            result.merged = len(candidates)
        out.append(result)
        if len(rest) == len(remaining):  # nothing was merged (a degenerate box): MediaPipe stops here
            break
        remaining = rest
    return out


@dataclass
class Letterbox:
    """Where the image sits in the model input: padding fractions (left, top, right, bottom) of the input size, as
    ImageToTensorCalculator's LETTERBOX_PADDING."""

    padding: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    placed: tuple[int, int, int, int] = field(default=(0, 0, 0, 0))  # x, y, width, height in input pixels


def letterbox(image: np.ndarray, width: int, height: int) -> tuple[np.ndarray, Letterbox]:
    """The HxWx3 uint8 image scaled to fit width x height keeping its aspect ratio (bilinear), centred on black:
    (uint8 [height, width, 3], where it went)."""
    from PIL import Image

    ih, iw = image.shape[:2]
    scale = min(width / iw, height / ih)
    rw, rh = max(1, round(iw * scale)), max(1, round(ih * scale))
    x0, y0 = (width - rw) // 2, (height - rh) // 2
    canvas = np.zeros((height, width, 3), np.uint8)
    resized = np.asarray(Image.fromarray(image[..., :3]).resize((rw, rh), Image.Resampling.BILINEAR))
    canvas[y0:y0 + rh, x0:x0 + rw] = resized
    pad = (x0 / width, y0 / height, (width - rw - x0) / width, (height - rh - y0) / height)
    return canvas, Letterbox(pad, (x0, y0, rw, rh))


def to_tensor(pixels: np.ndarray, float_range: tuple[float, float] | list[float]) -> np.ndarray:
    """uint8 HxWx3 -> float32 [1, H, W, 3] in float_range (the detector's NHWC input)."""
    lo, hi = float_range
    return (pixels.astype(np.float32) * np.float32((hi - lo) / 255.0) + np.float32(lo))[None]


def remove_letterbox(detections: list[Detection], box: Letterbox) -> list[Detection]:
    """DetectionLetterboxRemovalCalculator: coordinates relative to the input -> relative to the image."""
    left, top, right, bottom = box.padding
    sx, sy = 1.0 - left - right, 1.0 - top - bottom
    out = []
    for d in detections:
        b = np.asarray([(d.box[0] - left) / sx, (d.box[1] - top) / sy, d.box[2] / sx, d.box[3] / sy])
        kp = np.stack([(d.keypoints[:, 0] - left) / sx, (d.keypoints[:, 1] - top) / sy], axis=1)
        out.append(Detection(b, kp, d.score, d.anchor, d.merged))
    return out


def detect(raw_boxes: np.ndarray, raw_scores: np.ndarray, params: dict[str, Any] = POSE_DETECTION,
           anchors: np.ndarray | None = None) -> list[Detection]:
    """The model's two outputs -> the kept detections (normalized to the model input)."""
    anchors = ssd_anchors(params["anchors"]) if anchors is None else anchors
    return weighted_nms(decode(raw_boxes, raw_scores, anchors, params["decoder"]), params["nms"])


def browser_params(params: dict[str, Any] = POSE_DETECTION) -> dict[str, Any]:
    """What demos/browser/pose.js decodes with: the options above and the anchors they generate."""
    return {**params, "anchor_values": [[float(f"{v:.9g}") for v in row] for row in ssd_anchors(params["anchors"])]}
