"""torch.nn.Module conversion, per-tensor names against onnxruntime, METADATA, the report and logging."""

from __future__ import annotations

import json
import logging

import numpy as np
import onnx
import torch
from model_zoo import tiny_net
from onnx_helpers import model, node, rand, run_ort
from sbn_numpy import SbnFile

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


def test_torch_module_converts_and_matches_torch(tmp_path) -> None:
    net = tiny_net()
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    net.train()
    report = convert(net, tmp_path / "tiny.sbn", example_input=x)
    assert net.training  # the caller's mode is restored
    net.eval()
    with torch.no_grad():
        want = net(x).numpy()
    sbn = SbnFile.load(str(tmp_path / "tiny.sbn"))
    got = sbn.run(x.numpy())["output"]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    ops = [n.op for n in sbn.nodes]
    assert "CONV_SPARSE" in ops and "FC_SPARSE" in ops and "MAX_POOL" in ops and "SOFTMAX" in ops
    assert ops.count("CONV") >= 3  # stem (3 input channels) and depthwise convs stay dense
    assert report.sparse_layers >= 5 and report.macs < report.dense_macs
    # pruned in groups of 4: recovered wherever Cout is a multiple of 4 (else padding lanes cost > 5 %)
    assert {r.group for r in report.layers if r.choice == "sparse" and r.weight_shape[0] % 4 == 0} == {4}


def test_every_activation_tensor_matches_onnxruntime_by_name(tmp_path) -> None:
    net = tiny_net(1)
    x = torch.randn(1, 3, 24, 24, generator=torch.Generator().manual_seed(2))
    onnx_model = export_torch(net, x)
    convert(onnx_model, tmp_path / "t.sbn")
    sbn = SbnFile.load(str(tmp_path / "t.sbn"))
    ours = sbn.run(x.numpy())
    reference = run_ort(_with_all_outputs(onnx_model), {"input": x.numpy()}) | {"input": x.numpy()}
    activations = [t.name for t in sbn.tensors if t.data is None]
    assert len(activations) > 10
    for name in activations:
        assert name in reference, f"{name} is not an ONNX tensor name"
        np.testing.assert_allclose(ours[name], reference[name], rtol=1e-4, atol=1e-5, err_msg=name)


def test_metadata_and_report(tmp_path, caplog) -> None:
    rng = np.random.default_rng(0)
    w = rand(rng, 16, 8, 1, 1)
    w[:, ::2] = 0  # half the inputs dropped for every group
    m = model([node("Conv", ["x", "W"], ["c"], name="pw"), node("Relu", ["c"], ["y"])], {"x": ("N", 8, 5, 5)},
              ["y"], {"W": w})
    path = tmp_path / "m.sbn"
    with caplog.at_level(logging.INFO, logger="sparsebyte.converters"):
        report = convert(m, path)
    assert any("wrote" in r.getMessage() for r in caplog.records)
    meta = SbnFile.load(str(path)).metadata
    assert meta["producer"].startswith("sparsebyte ")
    (layer,) = meta["layers"]
    assert layer["node"] == "pw" and layer["op"] == "ConvSparse" and layer["group"] == 8
    assert layer["choice"] == "sparse" and layer["sparsity"] == 0.5 and layer["density"] == 0.5
    assert meta["options"] == {"group": "auto", "sparse_threshold": 0.75, "force_dense": False}
    assert meta["inputs"] == {"x": [1, 8, 5, 5]}
    assert report.file_size == path.stat().st_size
    text = str(report)
    assert "pw" in text and "sparse" in text and "2.00x fewer" in text
    json.dumps(report.as_dict())  # serialisable for the CLI


def test_source_name_from_path(tmp_path) -> None:
    m = model([node("Relu", ["x"], ["y"])], {"x": (1, 3)}, ["y"])
    onnx.save(m, tmp_path / "relu_model.onnx")
    convert(tmp_path / "relu_model.onnx", tmp_path / "m.sbn")
    assert SbnFile.load(str(tmp_path / "m.sbn")).metadata["source"] == "relu_model.onnx"
