"""LayerNorm as tf2onnx writes it (passes/fuse_patterns.py, the rsqrt forms): ReduceMean, Sub, Mul/Pow, ReduceMean,
Add eps, then 1/sqrt as Reciprocal(Sqrt), Div(1, Sqrt) or Pow(-0.5) times the centred input, or
tf.nn.batch_normalization's x * inv + (beta - mean * inv); gamma and beta optional. Each folds into one LAYER_NORM and
matches onnxruntime (engine and numpy interpreter)."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx_helpers import model, node, run_ort
from sbn_numpy import SbnFile

import sparsebyte
from sparsebyte.converters import build_graph, convert

EPS = np.float32(1e-3)


def _moments(nodes: list, x: str, axes: list[int], square: str) -> None:
    """mean, d = x - mean, var = mean(d^2) (tf.nn.moments through tf2onnx)."""
    nodes += [node("ReduceMean", [x], ["mean"], axes=axes, keepdims=1), node("Sub", [x, "mean"], ["d"])]
    nodes.append(node("Mul", ["d", "d"], ["sq"]) if square == "mul" else node("Pow", ["d", "two"], ["sq"]))
    nodes += [node("ReduceMean", ["sq"], ["var"], axes=axes, keepdims=1), node("Add", ["var", "eps"], ["ve"])]


def _rsqrt(nodes: list, how: str) -> None:
    if how == "reciprocal":
        nodes += [node("Sqrt", ["ve"], ["std"]), node("Reciprocal", ["std"], ["r"])]
    elif how == "div":
        nodes += [node("Sqrt", ["ve"], ["std"]), node("Div", ["one", "std"], ["r"])]
    else:
        nodes.append(node("Pow", ["ve", "minus_half"], ["r"]))


def build(form: str, shape: tuple[int, ...], axes: list[int], square: str = "mul", rsqrt: str = "reciprocal",
          gamma: bool = True, beta: bool = True) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    rng = np.random.default_rng(zlib.crc32(repr((form, shape, square, rsqrt, gamma, beta)).encode()))
    norm = [shape[a] for a in axes]
    inits = {"eps": EPS, "two": np.float32(2), "one": np.float32(1), "minus_half": np.float32(-0.5),
             "gamma": rng.uniform(0.5, 1.5, norm).astype(np.float32),
             "beta": rng.uniform(-0.5, 0.5, norm).astype(np.float32)}
    nodes: list = [node("Relu", ["x"], ["h"])]  # an activation in front, like a real block
    _moments(nodes, "h", axes, square)
    _rsqrt(nodes, rsqrt)
    out = "y"
    if form == "mul":  # d * r [* gamma] [+ beta]
        tail = ["n"]
        nodes.append(node("Mul", ["d", "r"], ["n"]))
        if gamma:
            nodes.append(node("Mul", ["n", "gamma"], ["ng"]))
            tail.append("ng")
        if beta:
            nodes.append(node("Add", [tail[-1], "beta"], ["nb"]))
            tail.append("nb")
        nodes.append(node("Identity", [tail[-1]], [out]))
    elif form == "mul_gamma_inside":  # d * (r * gamma) [+ beta]
        nodes += [node("Mul", ["r", "gamma"], ["inv"]), node("Mul", ["d", "inv"], ["n"])]
        nodes.append(node("Add", ["n", "beta"], [out]) if beta else node("Identity", ["n"], [out]))
    else:  # tf.nn.batch_normalization: x * inv + (beta - mean * inv)
        inv = "r"
        if gamma:
            nodes.append(node("Mul", ["r", "gamma"], ["inv"]))
            inv = "inv"
        nodes += [node("Mul", ["h", inv], ["xm"]), node("Mul", ["mean", inv], ["mi"])]
        if beta:
            nodes += [node("Sub", ["beta", "mi"], ["b"]), node("Add", ["xm", "b"], [out])]
        else:
            nodes += [node("Neg", ["mi"], ["b"]), node("Add", ["xm", "b"], [out])]
    m = model(nodes, {"x": list(shape)}, [out], inits, opset=13)
    x = (2 * rng.standard_normal(shape) + 1).astype(np.float32)
    return m, {"x": x}


CASES = {
    "mul_reciprocal_gamma_beta": ("mul", (2, 5, 12), [-1], "mul", "reciprocal", True, True),
    "mul_pow_div_gamma": ("mul", (3, 7, 16), [2], "pow", "div", True, False),
    "mul_pow_minus_half_plain": ("mul", (4, 9), [-1], "mul", "pow", False, False),
    "mul_gamma_inside_beta": ("mul_gamma_inside", (1, 6, 10), [-1], "pow", "reciprocal", True, True),
    "batchnorm_form_nhwc_channels": ("batchnorm", (1, 4, 3, 8), [3], "mul", "reciprocal", True, True),
    "batchnorm_form_two_axes": ("batchnorm", (2, 3, 4, 5), [2, 3], "mul", "reciprocal", True, True),
    "batchnorm_form_plain": ("batchnorm", (2, 6, 11), [-1], "pow", "div", False, False),
}


def _check(m: onnx.ModelProto, feeds: dict[str, np.ndarray], path: Path) -> None:
    want = run_ort(m, feeds)["y"]
    convert(m, path)
    got = sparsebyte.Model(path).run(feeds["x"])
    ref = SbnFile.load(str(path)).run(feeds["x"])["y"]
    tol = 1e-4 * max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=tol)
    np.testing.assert_allclose(ref, want, rtol=1e-4, atol=tol)


@pytest.mark.parametrize("name", list(CASES))
def test_tf_layer_norm_is_one_op(name: str, tmp_path: Path) -> None:
    m, feeds = build(*CASES[name])  # type: ignore[arg-type]
    ops = [n.op for n in build_graph(m).nodes]
    # Relu's activation fuses into nothing here (its producer is the input): Activation, LayerNorm
    assert ops == ["Activation", "LayerNorm"], ops
    _check(m, feeds, tmp_path / "m.sbn")


def test_centred_value_used_elsewhere_is_not_fused(tmp_path: Path) -> None:
    """d = x - mean also feeds a second output: the pattern is not folded (d must survive) and stays right."""
    m, feeds = build("mul", (2, 5, 12), [-1])
    m.graph.node.append(node("Mul", ["d", "two"], ["extra"]))
    m.graph.output.append(onnx.helper.make_tensor_value_info("extra", onnx.TensorProto.FLOAT, None))
    ops = [n.op for n in build_graph(m).nodes]
    assert "LayerNorm" not in ops and ops.count("ReduceMean") == 2, ops
    want = run_ort(m, feeds)
    convert(m, tmp_path / "m.sbn")
    got = sparsebyte.Model(tmp_path / "m.sbn").run(feeds)
    for k, w in want.items():
        np.testing.assert_allclose(got[k], w, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(w).max())))
