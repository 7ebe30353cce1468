"""Whole small networks through the engine: output against torch, every intermediate tensor against onnxruntime by
its ONNX name, every forced G."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from model_zoo import tiny_net
from onnx_helpers import run_ort

import sparsebyte
from sparsebyte.converters import convert
from sparsebyte.converters.torch_import import export_torch


def _with_all_outputs(m: onnx.ModelProto) -> onnx.ModelProto:
    m2 = onnx.ModelProto()
    m2.CopyFrom(m)
    existing = {o.name for o in m2.graph.output}
    for n in m2.graph.node:
        for o in n.output:
            if o and o not in existing:
                m2.graph.output.append(onnx.helper.make_empty_tensor_value_info(o))
    return m2


@pytest.mark.parametrize("group", ["auto", 1, 2, 4, 8])
def test_tiny_net_matches_torch(tmp_path, group) -> None:
    net = tiny_net(3)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    report = convert(net, tmp_path / "t.sbn", example_input=x, group=group)
    assert report.sparse_layers >= 5
    with torch.no_grad():
        want = net(x).numpy()
    got = sparsebyte.Model(tmp_path / "t.sbn").run(x.numpy())
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_tiny_net_dense_and_sparse_agree(tmp_path) -> None:
    net = tiny_net(5)
    x = torch.randn(1, 3, 29, 31, generator=torch.Generator().manual_seed(6))
    convert(net, tmp_path / "s.sbn", example_input=x, sparse_threshold=1.0)
    convert(net, tmp_path / "d.sbn", example_input=x, force_dense=True)
    sparse = sparsebyte.Model(tmp_path / "s.sbn").run(x.numpy())
    dense = sparsebyte.Model(tmp_path / "d.sbn").run(x.numpy())
    np.testing.assert_allclose(sparse, dense, rtol=1e-5, atol=1e-7)


def test_every_intermediate_matches_onnxruntime(tmp_path) -> None:
    net = tiny_net(7)
    x = torch.randn(1, 3, 24, 24, generator=torch.Generator().manual_seed(8))
    onnx_model = export_torch(net, x)
    convert(onnx_model, tmp_path / "t.sbn")
    reference = run_ort(_with_all_outputs(onnx_model), {"input": x.numpy()})
    model = sparsebyte.Model(tmp_path / "t.sbn")
    model.keep_intermediates = True
    model.run(x.numpy())
    checked = 0
    for name in model.tensor_names():
        if name in reference and reference[name].dtype == np.float32:
            np.testing.assert_allclose(model.tensor(name), reference[name], rtol=1e-4, atol=1e-5, err_msg=name)
            checked += 1
    assert checked >= model.num_nodes  # every node output has an ONNX name
