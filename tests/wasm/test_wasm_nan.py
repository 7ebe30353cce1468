"""NaN through the WASM activation epilogues: every clamping kind (Relu, Relu6/Clip, HardSigmoid, HardSwish) fused
into each WASM kernel family or run alone keeps a NaN a NaN, at the same positions as the host engine (scalar
kernels, the oracle) and, for the dense layers, onnxruntime. The wasm build's clamp turned NaN into the lower bound."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import sparsebyte
from sparsebyte.converters import convert
from sparsebyte.devices import NodeDevice, RunOptions

SHAPE = (1, 8, 9, 7)  # odd pixel counts: vector bodies and scalar tails
# Packed sparse, these skip their zero weights, so NaN * 0 never happens: fewer NaN than onnxruntime, by design.
SPARSE = {"relu_spmm", "hsig_spconv"}


def _nan_model(rng: np.random.Generator) -> tuple[onnx.ModelProto, list[str]]:
    """Branches off one input, each ending in a clamping activation: 1x1 conv (gemm), 3x3 conv, depthwise 3x3,
    group-sparse 1x1 (spmm) and 3x3 (spconv) convs, an add, activations alone, a fully connected layer."""
    c = SHAPE[1]
    inits: dict[str, np.ndarray] = {
        "w1": rng.standard_normal((c, c, 1, 1)), "b1": rng.standard_normal(c),
        "w3": rng.standard_normal((c, c, 3, 3)), "b3": rng.standard_normal(c),
        "wd": rng.standard_normal((c, 1, 3, 3)), "bd": rng.standard_normal(c),
        "wfc": rng.standard_normal((10, c * SHAPE[2] * SHAPE[3])), "bfc": rng.standard_normal(10),
        "lo": np.float32(0.0), "hi": np.float32(6.0),
    }
    keep = np.zeros((c, c), bool)  # G = 4: each group of 4 outputs keeps 2 of the 8 inputs
    keep[:4, [0, 5]] = keep[4:, [2, 7]] = True
    inits["ws1"] = rng.standard_normal((c, c, 1, 1)) * keep[:, :, None, None]
    inits["ws3"] = rng.standard_normal((c, c, 3, 3)) * keep[:, :, None, None]
    inits["bs"] = rng.standard_normal(c)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"]), helper.make_node("Relu", ["c1"], ["relu_gemm"]),
        helper.make_node("Conv", ["x", "w3", "b3"], ["c3"], pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["c3", "lo", "hi"], ["clip_conv"]),
        helper.make_node("Conv", ["x", "wd", "bd"], ["cd"], pads=[1, 1, 1, 1], group=c),
        helper.make_node("Clip", ["cd", "lo", "hi"], ["clip_dw"]),
        helper.make_node("Conv", ["x", "ws1", "bs"], ["cs1"]), helper.make_node("Relu", ["cs1"], ["relu_spmm"]),
        helper.make_node("Conv", ["x", "ws3", "bs"], ["cs3"], pads=[1, 1, 1, 1]),
        helper.make_node("HardSigmoid", ["cs3"], ["hsig_spconv"], alpha=0.2, beta=0.5),
        helper.make_node("Add", ["x", "x"], ["sum"]), helper.make_node("Relu", ["sum"], ["relu_add"]),
        helper.make_node("Relu", ["x"], ["relu_alone"]), helper.make_node("HardSwish", ["x"], ["hswish_alone"]),
        helper.make_node("Flatten", ["x"], ["flat"]),
        helper.make_node("Gemm", ["flat", "wfc", "bfc"], ["fc"], transB=1),
        helper.make_node("Relu", ["fc"], ["relu_fc"]),
    ]
    outputs = ["relu_gemm", "clip_conv", "clip_dw", "relu_spmm", "hsig_spconv", "relu_add", "relu_alone",
               "hswish_alone", "relu_fc"]
    graph = helper.make_graph(
        nodes, "nan", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(SHAPE))],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        [numpy_helper.from_array(np.asarray(a, np.float32), n) for n, a in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model, outputs


def _nan_input(rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal(SHAPE).astype(np.float32)
    x[0, 1, 2, 3] = x[0, 5, 8, 6] = x[0, 0, 0, 0] = np.nan  # a corner, a border pixel and an interior one
    x[0, 7, 4, :] = np.nan  # a whole row (vector lanes and the scalar tail)
    return x


@pytest.mark.parametrize("seed", [0, 1])
def test_nan_positions_match_the_host(seed: int, wasm_build: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(seed)
    onnx_model, outputs = _nan_model(rng)
    sbn = tmp_path / "nan.sbn"
    convert(onnx_model, sbn, group=4)
    x = _nan_input(rng)
    with sparsebyte.Model(sbn) as m:
        host = m.run(x)
    assert isinstance(host, dict)
    session = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    reference = dict(zip(outputs, session.run(outputs, {"x": x}), strict=True))
    np.save(tmp_path / "x.npy", x)
    run = NodeDevice().run(sbn, [tmp_path / "x.npy"], num_outputs=len(outputs), options=RunOptions(warmup=0, repeat=1))
    kernels = {row["name"]: row["kernel"] for row in run.report["ops"]}
    assert {"CONV_SPARSE"} <= {row["op"] for row in run.report["ops"]}
    assert sum("wasmsimd" in k for k in kernels.values()) >= 7, kernels
    for name, got in zip(outputs, run.outputs, strict=True):
        want = host[name]
        got = got.reshape(want.shape)
        assert np.isnan(want).any(), name  # the case exercises NaN at all
        if name not in SPARSE:
            np.testing.assert_array_equal(np.isnan(want), np.isnan(reference[name]), err_msg=f"{name}: host vs ort")
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{name}: NaN positions differ")
        finite = ~np.isnan(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=1e-4, atol=1e-4, err_msg=name)
