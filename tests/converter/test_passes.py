"""Passes on small graphs: BN folding, activation fusion, identity removal, tensor naming; numerics through the numpy
.sbn interpreter against onnxruntime."""

from __future__ import annotations

import numpy as np
import onnx
from onnx_helpers import model, node, rand, run_ort
from sbn_numpy import SbnFile

from sparsebyte.converters import build_graph, convert

RNG = np.random.default_rng(42)


def _bn_inits(c: int, prefix: str = "") -> dict[str, np.ndarray]:
    return {f"{prefix}s": rand(RNG, c), f"{prefix}b": rand(RNG, c), f"{prefix}m": rand(RNG, c),
            f"{prefix}v": np.abs(rand(RNG, c)) + 0.05}


def _convert(m: onnx.ModelProto, tmp_path, x: np.ndarray, **kw) -> tuple[SbnFile, np.ndarray, dict[str, np.ndarray]]:
    path = tmp_path / "m.sbn"
    convert(m, path, **kw)
    sbn = SbnFile.load(str(path))
    values = sbn.run(x)
    expected = run_ort(m, {"x": x})
    for name, want in expected.items():
        np.testing.assert_allclose(values[name], want, rtol=1e-5, atol=1e-5 * max(1, np.abs(want).max()))
    return sbn, values[sbn.tensor_names()[sbn.outputs[0]]], values


def test_bn_folds_into_conv_without_bias_and_names_follow(tmp_path) -> None:
    nodes = [node("Conv", ["x", "W"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"], name="bn"), node("Relu", ["n"], ["y"])]
    m = model(nodes, {"x": (1, 3, 5, 5)}, ["y"], {"W": rand(RNG, 6, 3, 3, 3), **_bn_inits(6)})
    sbn, _, _ = _convert(m, tmp_path, rand(RNG, 1, 3, 5, 5), force_dense=True)
    assert [(n.op, n.name, n.act[0]) for n in sbn.nodes] == [("CONV", "conv", "CLIP")]
    names = sbn.tensor_names()
    assert "y" in names and "c" not in names and "n" not in names
    assert len(sbn.nodes[0].inputs) == 3  # the fold added a bias


def test_bn_folds_into_fc(tmp_path) -> None:
    nodes = [node("Gemm", ["x", "W", "B"], ["f"], transB=1), node("BatchNormalization", ["f", "s", "b", "m", "v"],
                                                                  ["y"])]
    m = model(nodes, {"x": (2, 7)}, ["y"], {"W": rand(RNG, 5, 7), "B": rand(RNG, 5), **_bn_inits(5)})
    sbn, _, _ = _convert(m, tmp_path, rand(RNG, 2, 7), force_dense=True)
    assert [n.op for n in sbn.nodes] == ["FC"]


def test_bn_after_shared_conv_becomes_channel_affine(tmp_path) -> None:
    nodes = [node("Conv", ["x", "W"], ["c"]), node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]),
             node("Add", ["c", "n"], ["y"])]
    m = model(nodes, {"x": (1, 3, 4, 4)}, ["y"], {"W": rand(RNG, 4, 3, 1, 1), **_bn_inits(4)})
    sbn, _, values = _convert(m, tmp_path, rand(RNG, 1, 3, 4, 4), force_dense=True)
    assert [n.op for n in sbn.nodes] == ["CONV", "CHANNEL_AFFINE", "ADD"]
    assert "c" in values and "n" in values


def test_bn_after_fused_conv_stays_standalone(tmp_path) -> None:
    nodes = [node("Conv", ["x", "W"], ["c"]), node("Relu", ["c"], ["r"]),
             node("BatchNormalization", ["r", "s", "b", "m", "v"], ["y"])]
    m = model(nodes, {"x": (1, 3, 4, 4)}, ["y"], {"W": rand(RNG, 4, 3, 1, 1), **_bn_inits(4)})
    sbn, _, _ = _convert(m, tmp_path, rand(RNG, 1, 3, 4, 4), force_dense=True)
    assert [(n.op, n.act[0]) for n in sbn.nodes] == [("CONV", "CLIP"), ("CHANNEL_AFFINE", "NONE")]


def test_two_activations_only_first_fuses(tmp_path) -> None:
    lo, hi = np.array(0.0, np.float32), np.array(0.5, np.float32)
    nodes = [node("Conv", ["x", "W"], ["c"]), node("Sigmoid", ["c"], ["s"]), node("Clip", ["s", "lo", "hi"], ["y"])]
    m = model(nodes, {"x": (1, 3, 4, 4)}, ["y"], {"W": rand(RNG, 4, 3, 1, 1), "lo": lo, "hi": hi})
    sbn, _, _ = _convert(m, tmp_path, rand(RNG, 1, 3, 4, 4), force_dense=True)
    assert [(n.op, n.act) for n in sbn.nodes] == [("CONV", ("SIGMOID", 0.0, 0.0)), ("ACTIVATION", ("CLIP", 0.0, 0.5))]


def test_activation_on_graph_output_producer_not_fused(tmp_path) -> None:
    nodes = [node("Conv", ["x", "W"], ["c"]), node("Relu", ["c"], ["y"])]
    m = model(nodes, {"x": (1, 3, 4, 4)}, ["c", "y"], {"W": rand(RNG, 4, 3, 1, 1)})
    sbn, _, _ = _convert(m, tmp_path, rand(RNG, 1, 3, 4, 4), force_dense=True)
    assert [n.op for n in sbn.nodes] == ["CONV", "ACTIVATION"]
    assert [sbn.tensor_names()[i] for i in sbn.outputs] == ["c", "y"]


def test_hardsigmoid_mul_only_with_hardswish_constants(tmp_path) -> None:
    nodes = [node("Conv", ["x", "W"], ["c"]), node("HardSigmoid", ["c"], ["h"]), node("Mul", ["h", "c"], ["y"])]
    m = model(nodes, {"x": (1, 3, 4, 4)}, ["y"], {"W": rand(RNG, 4, 3, 1, 1)})  # default alpha 0.2: not HardSwish
    sbn, _, _ = _convert(m, tmp_path, 3 * rand(RNG, 1, 3, 4, 4), force_dense=True)
    assert [n.op for n in sbn.nodes] == ["CONV", "ACTIVATION", "MUL"]
    nodes[1] = node("HardSigmoid", ["c"], ["h"], alpha=1 / 6)
    m = model(nodes, {"x": (1, 3, 4, 4)}, ["y"], {"W": rand(RNG, 4, 3, 1, 1)})
    sbn, _, _ = _convert(m, tmp_path, 3 * rand(RNG, 1, 3, 4, 4), force_dense=True)
    assert [(n.op, n.act[0]) for n in sbn.nodes] == [("CONV", "HARDSWISH")]
    assert sbn.tensor_names()[sbn.outputs[0]] == "y"


def test_identity_to_graph_output_keeps_output_name(tmp_path) -> None:
    nodes = [node("Conv", ["x", "W"], ["c"]), node("Identity", ["c"], ["y"])]
    m = model(nodes, {"x": (1, 3, 4, 4)}, ["y"], {"W": rand(RNG, 4, 3, 1, 1)})
    sbn, _, _ = _convert(m, tmp_path, rand(RNG, 1, 3, 4, 4), force_dense=True)
    assert [n.op for n in sbn.nodes] == ["CONV"] and sbn.tensor_names()[sbn.outputs[0]] == "y"


def test_identity_from_input_to_output_is_a_copy(tmp_path) -> None:
    m = model([node("Identity", ["x"], ["y"])], {"x": (1, 3, 4, 4)}, ["y"])
    sbn, out, _ = _convert(m, tmp_path, rand(RNG, 1, 3, 4, 4))
    assert [n.op for n in sbn.nodes] == ["RESHAPE"]


def test_multiple_inputs_and_outputs(tmp_path) -> None:
    nodes = [node("Add", ["x", "z"], ["s"]), node("Relu", ["s"], ["y"]), node("Mul", ["x", "z"], ["p"])]
    m = model(nodes, {"x": (1, 3, 2, 2), "z": (1, 3, 2, 2)}, ["y", "p"])
    path = tmp_path / "m.sbn"
    report = convert(m, path)
    assert report.inputs == {"x": [1, 3, 2, 2], "z": [1, 3, 2, 2]}
    assert report.outputs == {"y": [1, 3, 2, 2], "p": [1, 3, 2, 2]}
    sbn = SbnFile.load(str(path))
    x, z = rand(RNG, 1, 3, 2, 2), rand(RNG, 1, 3, 2, 2)
    got = sbn.run(x, z)
    want = run_ort(m, {"x": x, "z": z})
    for k in ("y", "p"):
        np.testing.assert_allclose(got[k], want[k], rtol=1e-6)
    assert [(n.op, n.act[0]) for n in sbn.nodes] == [("ADD", "CLIP"), ("MUL", "NONE")]


def test_build_graph_shapes_are_static(tmp_path) -> None:
    nodes = [node("Conv", ["x", "W"], ["c"], strides=[2, 2], pads=[1, 1, 1, 1]), node("Flatten", ["c"], ["y"])]
    g = build_graph(model(nodes, {"x": ("N", 3, 9, 9)}, ["y"], {"W": rand(RNG, 4, 3, 3, 3)}))
    assert g.shape("c") == (1, 4, 5, 5) and g.shape("y") == (1, 100)
