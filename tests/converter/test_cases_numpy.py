"""Every op case converted and run by the numpy .sbn interpreter must match onnxruntime: checks the converter (import,
passes, packing, writer) independently of the C engine."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx_helpers import run_ort
from op_cases import CASES, Case, convert_kwargs, feeds
from sbn_numpy import SbnFile

from sparsebyte.converters import build_graph, convert


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_case_matches_onnxruntime(c: Case, tmp_path) -> None:
    m, x = c.build()
    expected = run_ort(m, feeds(x))["y"]
    path = tmp_path / "m.sbn"
    report = convert(m, path, **convert_kwargs(c))
    sbn = SbnFile.load(str(path))
    if c.ops is not None:
        assert [n.op for n in sbn.nodes] == c.ops
    if c.group is not None:
        (sparse,) = [n for n in sbn.nodes if n.op.endswith("_SPARSE")]
        assert sparse.attrs[11] == c.group
        assert [r.group for r in report.layers if r.choice == "sparse"] == [c.group]
    assert sbn.tensor_names()[sbn.outputs[0]] == "y"
    names = sbn.tensor_names()
    got = sbn.run(*[feeds(x)[names[i]] for i in sbn.inputs])["y"]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(expected).max())))


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_static_shapes_agree_with_onnx_shape_inference(c: Case) -> None:
    m, _ = c.build()
    inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    onnx_shapes = {v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim)
                   for v in list(inferred.graph.value_info) + list(inferred.graph.output)
                   if all(d.HasField("dim_value") for d in v.type.tensor_type.shape.dim)}  # fully known only
    graph = build_graph(m)
    compared = 0
    for name, value in graph.values.items():
        if not value.is_const and name in onnx_shapes:
            assert value.shape == onnx_shapes[name], name
            compared += 1
    assert compared >= 1
