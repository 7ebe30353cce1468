"""Constant folding of dynamic-shape exports once the input shape is fixed: the Shape/Gather/Unsqueeze/Concat/Cast/
Range/ConstantOfShape/Reshape chains torch emits for dynamic axes fold while importing (onnx_import._FOLD), leaving
only the compute operators, and the result matches onnxruntime on the dynamic model."""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
import onnx
import pytest
import torch
from onnx_helpers import run_ort
from sbn_numpy import SbnFile

import sparsebyte
from sparsebyte.converters import build_graph, convert


class _Dynamic(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(3)
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = torch.nn.Conv2d(8, 8, 1)
        self.fc = torch.nn.Linear(8, 4)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        y = torch.relu(self.c1(x))
        y = y.view(n, 2, 4, h, w).transpose(1, 2).reshape(n, 8, h, w)  # channel shuffle on dynamic dims
        y = y * torch.arange(y.size(1), dtype=torch.float32).view(1, -1, 1, 1)  # Range, Cast
        y = y + torch.zeros(y.shape)  # ConstantOfShape
        y = self.c2(y)
        y = torch.nn.functional.adaptive_avg_pool2d(y, 1)
        return self.fc(y.view(y.size(0), -1))


@pytest.fixture(scope="module")
def dynamic_export() -> onnx.ModelProto:
    buf = io.BytesIO()
    torch.onnx.export(_Dynamic().eval(), (torch.randn(1, 3, 16, 16),), buf, dynamo=False, opset_version=13,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "N", 2: "H", 3: "W"}})
    return onnx.load_from_string(buf.getvalue())


def test_shape_chains_fold_to_the_compute_ops(dynamic_export: onnx.ModelProto) -> None:
    exported = Counter(n.op_type for n in dynamic_export.graph.node)
    assert exported["Shape"] >= 3 and exported["Gather"] >= 3 and exported["Concat"] >= 2
    assert exported["Range"] + exported["ConstantOfShape"] >= 1
    graph = build_graph(dynamic_export, input_shapes={"x": (1, 3, 11, 13)})
    # the shuffle's Reshape-Transpose-Reshape is one channel Gather (passes/channel_shuffle.py)
    assert Counter(n.op for n in graph.nodes) == Counter(
        {"Conv": 2, "Reshape": 1, "Gather": 1, "Mul": 1, "Add": 1, "GlobalAveragePool": 1, "FC": 1})


@pytest.mark.parametrize("shape", [(1, 3, 11, 13), (2, 3, 8, 5)])
def test_folded_dynamic_export_matches_onnxruntime(dynamic_export: onnx.ModelProto, tmp_path,
                                                   shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(shape[2]).standard_normal(shape).astype(np.float32)
    want = run_ort(dynamic_export, {"x": x})["y"]
    convert(dynamic_export, tmp_path / "d.sbn", input_shapes={"x": shape})
    np.testing.assert_allclose(sparsebyte.Model(tmp_path / "d.sbn").run(x), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(SbnFile.load(str(tmp_path / "d.sbn")).run(x)["y"], want, rtol=1e-4, atol=1e-5)


def test_shape_arithmetic_folds(tmp_path) -> None:
    """Rounding, comparison, logic, Mod, ReduceProd and Size on shapes fold into a constant Reshape target."""
    from onnx import TensorProto, helper, numpy_helper

    def const(name: str, value: object, dtype: object = np.int64) -> onnx.TensorProto:
        return numpy_helper.from_array(np.array(value, dtype), name)

    h = helper.make_node
    nodes = [h("Shape", ["x"], ["s"]), h("ReduceProd", ["s"], ["total"], keepdims=1),  # [60]
             h("Size", ["x"], ["size"]), h("Equal", ["total", "size"], ["same"]),  # numel twice
             h("Gather", ["s", "i1"], ["c"]), h("Cast", ["c"], ["cf"], to=TensorProto.FLOAT),  # 3.0
             h("Sqrt", ["cf"], ["root"]), h("Ceil", ["root"], ["up"]), h("Floor", ["root"], ["down"]),  # 2, 1
             h("Greater", ["up", "down"], ["gt"]), h("Not", ["gt"], ["ngt"]), h("Or", ["gt", "ngt"], ["t"]),
             h("And", ["t", "same"], ["ok"]),
             h("Mod", ["total", "five"], ["rem"]),  # 0
             h("Add", ["rem", "twelve"], ["rows"]), h("Neg", ["minus1"], ["one"]), h("Abs", ["one"], ["one_abs"]),
             h("Where", ["ok", "rows", "one_abs"], ["r0"]),
             h("Concat", ["r0", "minus1"], ["target"], axis=0), h("Reshape", ["x", "target"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [const("i1", 1), const("five", [5]), const("twelve", [12]), const("minus1", [-1])])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    g = build_graph(m)
    assert [n.op for n in g.nodes] == ["Reshape"] and g.values["y"].shape == (12, 5)
    x = np.random.default_rng(0).standard_normal((1, 3, 4, 5)).astype(np.float32)
    convert(m, tmp_path / "f.sbn")
    np.testing.assert_array_equal(sparsebyte.Model(tmp_path / "f.sbn").run(x), run_ort(m, {"x": x})["y"])
