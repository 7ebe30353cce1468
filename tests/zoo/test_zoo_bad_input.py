"""Bad input on real models (issue 12, item 6), through the command line the zoo uses: an operator outside the set,
an unsupported attribute value, a dynamic input left unfixed, each fails with exit status 2 and one error line that
names the node (or input), the operator and the value; no output file is written. Plus the refusals of the
lowerings the wheel models needed (Conv over [N, C, L], Clip with computed bounds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper
from onnx_helpers import model, node, rand

import zoo
from sparsebyte.converters import ConversionError, convert


def _cli_fails(source: Path, out: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "sparsebyte", "convert", str(source), "-o", str(out), *args],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert not out.exists()
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("sparsebyte: error: "), proc.stderr  # no traceback
    return lines[0]


def _nudenet(tmp_path: Path, edit) -> Path:
    m = onnx.load(str(zoo.model_file("nudenet-320n")))
    edit(m)
    path = tmp_path / "edited.onnx"
    onnx.save(m, str(path))
    return path


SHAPE = ("--input-shape", "images=1,3,256,256")


def test_real_detector_with_an_operator_outside_the_set(tmp_path: Path) -> None:
    """YOLO "end-to-end" exports append TopK to the raw predictions."""
    def add_topk(m: onnx.ModelProto) -> None:
        m.graph.initializer.append(onnx.numpy_helper.from_array(np.array([100], np.int64), "k"))
        m.graph.node.append(helper.make_node("TopK", ["output0", "k"], ["top", "top_idx"], name="post/topk", axis=-1))
        m.graph.output[0].name = "top"

    msg = _cli_fails(_nudenet(tmp_path, add_topk), tmp_path / "out.sbn", *SHAPE)
    assert "node 'post/topk' (TopK): unsupported op" in msg


def test_real_detector_with_an_unsupported_attribute_value(tmp_path: Path) -> None:
    def cubic(m: onnx.ModelProto) -> None:
        resize = next(n for n in m.graph.node if n.name == "/model.10/Resize")
        next(a for a in resize.attribute if a.name == "mode").s = b"cubic"

    msg = _cli_fails(_nudenet(tmp_path, cubic), tmp_path / "out.sbn", *SHAPE)
    assert "node '/model.10/Resize' (Resize)" in msg and "mode='cubic'" in msg


def test_real_model_with_a_dynamic_input_left_unfixed(tmp_path: Path) -> None:
    msg = _cli_fails(zoo.model_file("ppocrv6-rec-small"), tmp_path / "out.sbn")
    assert "graph input 'x' has dynamic shape ['DynamicDimension.0', 3, 48, 'DynamicDimension.1']" in msg
    assert "--input-shape x=" in msg


def test_input_shape_that_contradicts_the_model(tmp_path: Path) -> None:
    msg = _cli_fails(zoo.model_file("ppocrv6-rec-small"), tmp_path / "out.sbn", "--input-shape", "x=1,3,32,320")
    assert "input_shapes['x'] = [1, 3, 32, 320] does not match the model's shape ['?', 3, 48, '?']" in msg


def _fails(m: onnx.ModelProto, tmp_path: Path, *fragments: str) -> None:
    out = tmp_path / "out.sbn"
    with pytest.raises(ConversionError) as info:
        convert(m, out)
    for f in fragments:
        assert f in str(info.value), f"{f!r} not in {str(info.value)!r}"
    assert not out.exists()


@pytest.mark.parametrize("attrs, fragment", [
    ({"pads": [1, 1, 1, 1]}, "pads [1, 1, 1, 1] must have 2 entries for a 1-D convolution"),
    ({"strides": [2, 2]}, "strides [2, 2] must have 1 entry for a 1-D convolution"),
    ({"kernel_shape": [5]}, "kernel_shape [5] does not match weight [4, 2, 3]"),
    ({"auto_pad": "FULL"}, "unsupported attribute auto_pad='FULL'"),
])
def test_conv1d_refused(tmp_path: Path, attrs: dict, fragment: str) -> None:
    rng = np.random.default_rng(0)
    m = model([node("Conv", ["x", "W"], ["y"], name="c1d", **attrs)], {"x": (1, 2, 9)}, ["y"],
              {"W": rand(rng, 4, 2, 3)}, check=False)
    _fails(m, tmp_path, "node 'c1d' (Conv)", fragment)


def test_clip_by_a_tensor_that_is_not_a_scalar(tmp_path: Path) -> None:
    nodes = [node("ReduceMax", ["x"], ["m"], axes=[1], keepdims=1), node("Clip", ["x", "m"], ["y"], name="clp")]
    m = model(nodes, {"x": (2, 3)}, ["y"], opset=13, check=False)
    _fails(m, tmp_path, "node 'clp' (Clip)", "min 'm' has shape [2, 1]; it must be a scalar")
