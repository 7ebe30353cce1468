"""check(): engine vs ONNX / TorchScript / nn.Module references, per-layer matching, failing references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tiny_model import tiny_net

from sparsebyte.check import check, make_inputs
from sparsebyte.runtime import TensorInfo


@pytest.mark.parametrize("reference", ["tiny.onnx", "tiny.pt", "module"])
def test_check_passes_against_each_reference_kind(tiny_files: dict[str, Path], reference: str) -> None:
    ref = tiny_net() if reference == "module" else tiny_files[reference]
    report = check(tiny_files["tiny.sbn"], ref, n=5)
    assert report.ok, report.format()
    assert report.n == 5 and report.outputs[0].top1 == 1.0 and report.outputs[0].top5 == 1.0
    assert report.max_abs < 1e-5


def test_check_fails_against_a_different_model(tiny_files: dict[str, Path]) -> None:
    report = check(tiny_files["tiny.sbn"], tiny_net(seed=1), n=5)
    assert not report.ok
    assert report.max_abs > 1e-2 and "FAIL" in report.format()


def test_per_layer_matches_onnx_intermediates_by_name(tiny_files: dict[str, Path]) -> None:
    report = check(tiny_files["tiny.sbn"], tiny_files["tiny.onnx"], n=2, per_layer=True)
    assert report.ok, report.format()
    assert len(report.layers) >= 3  # fused conv outputs, the add, the pool... (named as in the ONNX graph)
    assert all(layer.max_abs < 1e-5 for layer in report.layers), report.format()


def test_per_layer_needs_onnx(tiny_files: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="ONNX"):
        check(tiny_files["tiny.sbn"], tiny_files["tiny.pt"], per_layer=True)


def test_bad_reference_paths(tiny_files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        check(tiny_files["tiny.sbn"], tmp_path / "missing.onnx")
    other = tmp_path / "model.txt"
    other.write_text("x")
    with pytest.raises(ValueError, match="expected an .onnx"):
        check(tiny_files["tiny.sbn"], other)


def test_image_folder_inputs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    inputs = make_inputs([TensorInfo("input", (1, 3, 16, 16))], n=10, images=tmp_path)
    assert len(inputs) == 3 and inputs[0]["input"].shape == (1, 3, 16, 16)
    with pytest.raises(FileNotFoundError, match="no image files"):
        make_inputs([TensorInfo("input", (1, 3, 16, 16))], images=tmp_path / "..", n=1)
