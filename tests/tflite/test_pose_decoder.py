"""sparsebyte.ssd, MediaPipe's SSD post-processing for the pose detector: the anchors against MediaPipe's counts and
grid, weighted NMS on hand-made detections, and the whole detector (the wheel's sparse pose_detection.tflite,
converted) against LiteRT on a real photo through the same decoder."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from sparsebyte import pose_demo, ssd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout's zoo/


def test_pose_anchors_match_mediapipe() -> None:
    """pose_detection_cpu.pbtxt's TensorsToDetectionsCalculator says num_boxes: 2254; the strides 8/16/32x3 on 224
    give 28x28x2 + 14x14x2 + 7x7x(3 layers x 2) anchors (aspect 1.0 plus the interpolated one per layer), all of
    fixed size 1."""
    anchors = ssd.ssd_anchors(ssd.POSE_DETECTION["anchors"])
    assert anchors.shape == (2254, 4) == (ssd.POSE_DETECTION["decoder"]["num_boxes"], 4)
    assert 28 * 28 * 2 + 14 * 14 * 2 + 7 * 7 * 6 == 2254
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28, 1, 1], rtol=1e-6)
    np.testing.assert_allclose(anchors[1], anchors[0])  # two anchors per cell on the first layer
    np.testing.assert_allclose(anchors[2], [1.5 / 28, 0.5 / 28, 1, 1], rtol=1e-6)
    np.testing.assert_allclose(anchors[1568], [0.5 / 14, 0.5 / 14, 1, 1], rtol=1e-6)  # first stride-16 anchor
    np.testing.assert_allclose(anchors[1960:1966], [[0.5 / 7, 0.5 / 7, 1, 1]] * 6, rtol=1e-6)  # merged 32s
    np.testing.assert_allclose(anchors[-1], [6.5 / 7, 6.5 / 7, 1, 1], rtol=1e-6)
    # without fixed_anchor_size the sizes follow the scales: layer 0's first anchor is min_scale square, its
    # interpolated one sqrt(scale_0 * scale_1) with scale_1 = min + (max - min) * 1 / (5 - 1)
    free = ssd.ssd_anchors({**ssd.POSE_DETECTION["anchors"], "fixed_anchor_size": False})
    scale1 = 0.1484375 + (0.75 - 0.1484375) / 4
    assert free[0, 2] == pytest.approx(0.1484375) and free[1, 2] == pytest.approx(np.sqrt(0.1484375 * scale1),
                                                                                   rel=1e-6)


def _det(box: tuple[float, float, float, float], score: float, anchor: int) -> ssd.Detection:
    x, y, w, h = box
    return ssd.Detection(np.asarray(box, float), np.asarray([[x, y], [x + w, y + h]], float), score, anchor)


def test_weighted_nms_hand_made() -> None:
    """Two overlapping boxes (IoU 0.6 > 0.3) average by score into the best one's; a third far away stays alone;
    a fourth overlapping the first by IoU 0.2 (< 0.3) survives on its own."""
    a = _det((0.0, 0.0, 1.0, 1.0), 0.9, 0)
    b = _det((0.25, 0.0, 1.0, 1.0), 0.3, 1)  # IoU with a: 0.75 / 1.25 = 0.6
    c = _det((5.0, 5.0, 1.0, 1.0), 0.5, 2)
    d = _det((0.0, 2.0 / 3.0, 1.0, 1.0), 0.4, 3)  # IoU with a: (1/3) / (5/3) = 0.2
    assert ssd.iou(a.box, b.box) == pytest.approx(0.6)
    assert ssd.iou(a.box, d.box) == pytest.approx(0.2)
    kept = ssd.weighted_nms([b, c, a, d], ssd.POSE_DETECTION["nms"])
    assert [k.anchor for k in kept] == [0, 2, 3]
    assert [k.merged for k in kept] == [2, 1, 1]
    assert kept[0].score == pytest.approx(0.9)  # the best one's score, not the mean
    x0 = (0.0 * 0.9 + 0.25 * 0.3) / 1.2
    np.testing.assert_allclose(kept[0].box, [x0, 0.0, (1.0 * 0.9 + 1.25 * 0.3) / 1.2 - x0, 1.0])
    np.testing.assert_allclose(kept[0].keypoints, (a.keypoints * 0.9 + b.keypoints * 0.3) / 1.2)
    np.testing.assert_allclose(kept[1].box, c.box)
    np.testing.assert_allclose(kept[2].box, d.box)
    assert ssd.weighted_nms([], ssd.POSE_DETECTION["nms"]) == []


def test_decode_thresholds_and_letterbox() -> None:
    """Scores go through the clipped sigmoid and min_score_thresh 0.2; a negative width is dropped; the letterbox of a
    2:1 image pads top and bottom by a quarter each and its removal maps the input's centre back to the image's."""
    opts = ssd.POSE_DETECTION["decoder"]
    anchors = ssd.ssd_anchors(ssd.POSE_DETECTION["anchors"])
    raw = np.zeros((1, 2254, 12), np.float32)
    scores = np.full((1, 2254, 1), -10.0, np.float32)
    scores[0, 5] = np.log(0.25 / 0.75)  # sigmoid 0.25 >= 0.2
    scores[0, 6] = np.log(0.15 / 0.85)  # 0.15 < 0.2
    scores[0, 7] = 1e9  # clipped to 100: sigmoid 1.0
    raw[0, 5, 2:4] = 22.4  # w = h = 0.1 of the fixed anchor size
    raw[0, 7, 2] = -1.0  # negative width
    got = ssd.decode(raw, scores, anchors, opts)
    assert [d.anchor for d in got] == [5]
    assert got[0].score == pytest.approx(0.25)
    np.testing.assert_allclose(got[0].box, [anchors[5, 0] - 0.05, anchors[5, 1] - 0.05, 0.1, 0.1], atol=1e-6)
    pixels, box = ssd.letterbox(np.full((100, 200, 3), 255, np.uint8), 224, 224)
    assert box.placed == (0, 56, 224, 112) and box.padding == (0.0, 0.25, 0.0, 0.25)
    assert pixels[55].max() == 0 and pixels[56].min() == 255
    centre = ssd.remove_letterbox([ssd.Detection(np.asarray([0.5, 0.5, 0.25, 0.25]), np.asarray([[0.5, 0.25]]),
                                                 1.0)], box)[0]
    np.testing.assert_allclose(centre.box, [0.5, 0.5, 0.25, 0.5])
    np.testing.assert_allclose(centre.keypoints, [[0.5, 0.0]])


@pytest.fixture(scope="module")
def pose_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from sparsebyte.converters import convert

    source = pose_demo.model_file(None)
    sbn = tmp_path_factory.mktemp("pose") / "pose_detection.sbn"
    report = convert(source, sbn)
    assert report.sparse_layers == 38  # the wheel's DENSIFY'd 1x1 convs run sparse
    return source, sbn


@pytest.mark.parametrize("name", pose_demo.PHOTOS)
def test_detections_equal_litert(pose_model: tuple[Path, Path], name: str) -> None:
    """The converted sparse detector finds the person in each of scikit-image's photos of one, with the same
    anchors, merge counts and (to 1e-4) boxes and keypoints as LiteRT's builtin kernels through the same decoder."""
    from sparsebyte.check import litert_interpreter
    from sparsebyte.runtime import Model

    source, sbn = pose_model
    _, x, _ = pose_demo.model_input(pose_demo.photo(name))
    want = ssd.detect(*pose_demo.litert_outputs(litert_interpreter(str(source)), x))
    got = ssd.detect(*pose_demo.outputs_of(Model(sbn).run(x)))
    assert len(want) == 1 and want[0].score > 0.5 and want[0].merged > 1, want
    diff = pose_demo.difference(got, want)
    assert diff is not None and diff <= pose_demo.BOX_TOLERANCE, (got, want)


def test_no_person_no_detection(pose_model: tuple[Path, Path]) -> None:
    from skimage import data

    from sparsebyte.runtime import Model

    _, x, _ = pose_demo.model_input(np.asarray(data.coffee()))
    assert ssd.detect(*pose_demo.outputs_of(Model(pose_model[1]).run(x))) == []


def test_demo_runs_the_pose_detector_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sparsebyte demo` is the real sparse model (issue 13 item 5); --classifier reaches the MobileNetV2 demo. The
    dispatch only: the pose demo's parts are tested above, the classifier end to end in tests/python."""
    from sparsebyte import demo
    from sparsebyte.cli import main

    calls: list[tuple[str, Path, dict]] = []
    monkeypatch.setattr(pose_demo, "run_pose_demo", lambda out, **kw: calls.append(("pose", out, kw)) or 0)
    monkeypatch.setattr(demo, "run_demo", lambda out, **kw: calls.append(("classifier", out, kw)) or 0)
    assert main(["demo", "--no-qemu"]) == 0
    assert main(["demo", "--classifier", "--out", "o", "--no-wasm"]) == 0
    assert main(["demo", "--pose", "--tflite", "p.tflite"]) == 0  # the old spelling still works
    assert [(c[0], c[1]) for c in calls] == [("pose", Path("out/pose_demo")), ("classifier", Path("o")),
                                             ("pose", Path("out/pose_demo"))]
    assert calls[0][2]["qemu"] is False and calls[0][2]["wasm"] is True and calls[1][2]["wasm"] is False
    assert calls[2][2]["tflite"] == Path("p.tflite")
