"""Opsets 7..21: PyTorch exports at opsets 11, 12, 13, 18 and hand-built old-opset models convert (old ones through
passes/onnx_upgrade.py) and match onnxruntime running the original model; what cannot be upgraded fails naming the
opset and the node; external-data models load from their directory."""

from __future__ import annotations

import io

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from onnx_helpers import run_ort
from sbn_numpy import SbnFile

import sparsebyte
from sparsebyte.converters import ConversionError, convert


class _Net(torch.nn.Module):
    """Conv-BN-ReLU, max pool, a softmax over channels of a 4-D tensor (coerced to 2-D before opset 13), avg pool,
    flatten, linear: the ops whose exports differ between opsets 11 and 18."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(11)
        self.conv = torch.nn.Conv2d(3, 6, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(6)
        self.fc = torch.nn.Linear(6 * 3 * 4, 5)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            self.bn.running_mean.copy_(torch.randn(6, generator=g))
            self.bn.running_var.copy_(torch.rand(6, generator=g) + 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn(self.conv(x)))
        y = torch.nn.functional.max_pool2d(y, 2)
        y = torch.softmax(y, dim=1) + torch.nn.functional.avg_pool2d(y, 3, stride=1, padding=1)
        y = torch.clamp(y, 0.0, 6.0)
        return self.fc(y.flatten(1))


def _export(opset: int) -> onnx.ModelProto:
    buf = io.BytesIO()
    torch.onnx.export(_Net().eval(), (torch.zeros(1, 3, 7, 9),), buf, dynamo=False, opset_version=opset,
                      input_names=["x"], output_names=["y"])
    return onnx.load_from_string(buf.getvalue())


def _check(m: onnx.ModelProto, x: np.ndarray, tmp_path, atol: float = 1e-4) -> SbnFile:
    want = run_ort(m, {"x": x})["y"]
    path = tmp_path / "m.sbn"
    convert(m, path)
    got = sparsebyte.Model(path).run(x)
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=atol * scale)
    sbn = SbnFile.load(str(path))
    np.testing.assert_allclose(sbn.run(x)["y"], want, rtol=1e-4, atol=atol * scale)
    return sbn


@pytest.mark.parametrize("opset", [11, 12, 13, 18])
def test_torch_export_at_opset(tmp_path, opset: int) -> None:
    m = _export(opset)
    assert m.opset_import[0].version == opset
    x = np.random.default_rng(opset).standard_normal((1, 3, 7, 9)).astype(np.float32)
    sbn = _check(m, x, tmp_path)
    assert "SOFTMAX" in [n.op for n in sbn.nodes]


def _graph(nodes: list[onnx.NodeProto], x_shape: tuple[int, ...], opset: int,
           inits: dict[str, np.ndarray] | None = None) -> onnx.ModelProto:
    g = helper.make_graph(nodes, "old", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    return m


def _bn_params(rng: np.random.Generator, c: int) -> dict[str, np.ndarray]:
    return {"s": rng.standard_normal(c).astype(np.float32), "b": rng.standard_normal(c).astype(np.float32),
            "m": rng.standard_normal(c).astype(np.float32), "v": (rng.random(c) + 0.5).astype(np.float32)}


@pytest.mark.parametrize("opset", [7, 8, 9, 10, 11, 12])
def test_hand_built_old_opset(tmp_path, opset: int) -> None:
    """Attribute forms of the old opsets: Clip min/max and Dropout ratio attributes, BatchNormalization spatial=1,
    Softmax/LogSoftmax-era axis=1 on a 4-D tensor (coerced to 2-D: the whole C*H*W row), Flatten, Gemm."""
    rng = np.random.default_rng(opset)
    clip = (helper.make_node("Clip", ["r"], ["c"], min=-0.5, max=0.75) if opset < 11 else
            helper.make_node("Clip", ["r", "lo", "hi"], ["c"]))
    bn_attrs = {"spatial": 1} if opset < 9 else {}
    nodes = [helper.make_node("Conv", ["x", "W"], ["a"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("BatchNormalization", ["a", "s", "b", "m", "v"], ["n"], name="bn", **bn_attrs),
             helper.make_node("Relu", ["n"], ["r"]), clip,
             helper.make_node("Dropout", ["c"], ["d"], **({"ratio": 0.3} if opset < 12 else {})),
             helper.make_node("Softmax", ["d"], ["sm"], axis=1, name="softmax"),
             helper.make_node("Flatten", ["sm"], ["f"], axis=1),
             helper.make_node("Gemm", ["f", "G", "C"], ["y"], transB=1)]
    inits = {"W": rng.standard_normal((4, 3, 3, 3)).astype(np.float32), **_bn_params(rng, 4),
             "G": rng.standard_normal((3, 4 * 5 * 6)).astype(np.float32),
             "C": rng.standard_normal(3).astype(np.float32)}
    if opset >= 11:
        inits.update(lo=np.array(-0.5, np.float32), hi=np.array(0.75, np.float32))
    m = _graph(nodes, (1, 3, 5, 6), opset, inits)
    x = rng.standard_normal((1, 3, 5, 6)).astype(np.float32)
    _check(m, x, tmp_path)


def test_softmax_before_13_is_over_the_flattened_row(tmp_path) -> None:
    """The trap itself: at opset 11 Softmax(axis=1) of [1,3,4,5] normalises over all 60 values, not over 3."""
    m = _graph([helper.make_node("Softmax", ["x"], ["y"], axis=1)], (1, 3, 4, 5), 11)
    x = np.random.default_rng(1).standard_normal((1, 3, 4, 5)).astype(np.float32)
    _check(m, x, tmp_path)
    got = sparsebyte.Model(tmp_path / "m.sbn").run(x)
    assert abs(float(got.sum()) - 1.0) < 1e-5


def test_opset_19_to_21_native(tmp_path) -> None:
    for opset in (19, 20, 21):
        nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Reshape", ["r", "shape"], ["y"])]
        m = _graph(nodes, (1, 3, 4), opset, {"shape": np.array([1, 12], np.int64)})
        m.ir_version = 10
        _check(m, np.random.default_rng(opset).standard_normal((1, 3, 4)).astype(np.float32), tmp_path)


def _fails(m: onnx.ModelProto, tmp_path, *fragments: str) -> None:
    out = tmp_path / "bad.sbn"
    with pytest.raises(ConversionError) as e:
        convert(m, out)
    for f in fragments:
        assert f in str(e.value), str(e.value)
    assert not out.exists()


def test_batchnorm_spatial0_is_refused(tmp_path) -> None:
    rng = np.random.default_rng(0)
    m = _graph([helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], spatial=0, name="bn0")],
               (1, 3, 2, 2), 7, _bn_params(rng, 3))
    _fails(m, tmp_path, "opset 7", "'bn0' (BatchNormalization)", "spatial=0")


def test_operator_from_a_later_opset_is_refused(tmp_path) -> None:
    m = _graph([helper.make_node("HardSwish", ["x"], ["y"], name="hs")], (1, 3), 11)
    _fails(m, tmp_path, "opset 11", "'hs' (HardSwish)", "not an operator of this opset")


def test_node_the_version_converter_fails_on_is_named(tmp_path) -> None:
    """onnx 1.23 has an adapter for every op of 7..12; when one fails (here Pad-2 lacking its required pads) the
    error names the node, not just the C++ assertion."""
    m = _graph([helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Pad", ["r"], ["y"], name="pad")], (1, 4), 9)
    _fails(m, tmp_path, "opset 9", "'pad' (Pad)", "cannot be upgraded to opset 13", "pads")


@pytest.mark.parametrize("opset", [6, 22])
def test_opsets_outside_7_to_21(tmp_path, opset: int) -> None:
    m = _graph([helper.make_node("Relu", ["x"], ["y"])], (1, 3), opset)
    _fails(m, tmp_path, f"unsupported opset {opset}", "7..21")


def test_external_data_model(tmp_path) -> None:
    m = _export(13)
    x = np.random.default_rng(5).standard_normal((1, 3, 7, 9)).astype(np.float32)
    want = run_ort(m, {"x": x})["y"]
    onnx.save_model(m, tmp_path / "ext.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                    location="ext.weights", size_threshold=16)
    assert (tmp_path / "ext.weights").stat().st_size > 1000
    convert(tmp_path / "ext.onnx", tmp_path / "ext.sbn")
    np.testing.assert_allclose(sparsebyte.Model(tmp_path / "ext.sbn").run(x), want, rtol=1e-4, atol=1e-4)
    (tmp_path / "ext.weights").unlink()
    _fails_path = tmp_path / "ext2.sbn"
    with pytest.raises(ConversionError, match="ext.onnx"):
        convert(tmp_path / "ext.onnx", _fails_path)
    assert not _fails_path.exists()


class _Interp(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = torch.nn.functional
        a = f.interpolate(x, scale_factor=2, mode="nearest")
        b = f.interpolate(x, size=(14, 18), mode="bilinear", align_corners=True)
        c = f.interpolate(x, size=(14, 18), mode="bilinear", align_corners=False)
        return a + b + c


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_torch_interpolate_at_opset(tmp_path, opset: int) -> None:
    buf = io.BytesIO()
    torch.onnx.export(_Interp(), (torch.zeros(1, 2, 7, 9),), buf, dynamo=False, opset_version=opset,
                      input_names=["x"], output_names=["y"])
    x = np.random.default_rng(opset).standard_normal((1, 2, 7, 9)).astype(np.float32)
    sbn = _check(onnx.load_from_string(buf.getvalue()), x, tmp_path)
    assert [n.op for n in sbn.nodes].count("RESIZE") == 3


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_deprecated_upsample_in_opset_10_to_12(tmp_path, mode: str) -> None:
    """Opset 10-12 exports still carry Upsample (deprecated, so onnxruntime refuses it): it converts as Resize with
    Upsample-9's semantics, checked against onnxruntime running the same node at opset 9."""
    scales = {"s": np.array([1, 1, 2, 1.5], np.float32)}
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 4)).astype(np.float32)
    want = run_ort(_graph([helper.make_node("Upsample", ["x", "s"], ["y"], mode=mode)], x.shape, 9, scales),
                   {"x": x})["y"]
    for opset in (10, 11, 12):
        m = _graph([helper.make_node("Upsample", ["x", "s"], ["y"], mode=mode)], x.shape, opset, scales)
        convert(m, tmp_path / "u.sbn")
        np.testing.assert_allclose(sparsebyte.Model(tmp_path / "u.sbn").run(x), want, rtol=1e-5, atol=1e-6)


class _Structural(torch.nn.Module):
    """The structural ops as PyTorch exports them: F.pad (reflect, constant), ConvTranspose2d, pixel_shuffle /
    pixel_unshuffle (DepthToSpace / SpaceToDepth), chunk (Split), strided slicing, index_select (Gather), repeat
    (Tile), expand."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(5)
        self.up = torch.nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1)
        self.conv = torch.nn.Conv2d(4, 8, 3)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = torch.nn.functional
        y = f.pad(x, (1, 2, 1, 0), mode="reflect")  # [1,4,7,11]
        y = torch.relu(self.up(y))  # [1,4,14,22]
        y = self.conv(f.pad(y, (1, 1, 1, 1)))  # constant zero pad folds into the conv: [1,8,14,22]
        a, b = torch.chunk(y, 2, dim=1)
        y = f.pixel_shuffle(a * b, 2)  # [1,1,28,44]
        y = f.pixel_unshuffle(y[:, :, ::2, 1::2], 2)  # [1,4,7,11]
        y = torch.index_select(y, 1, torch.tensor([3, 0, 2]))
        y = y.repeat(1, 2, 1, 1) + x[:, :1].expand(1, 6, 5, 8)[:, :, :1, :1]
        return f.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_torch_structural_ops_at_opset(tmp_path, opset: int) -> None:
    buf = io.BytesIO()
    torch.onnx.export(_Structural().eval(), (torch.zeros(1, 4, 5, 8),), buf, dynamo=False, opset_version=opset,
                      input_names=["x"], output_names=["y"])
    x = np.random.default_rng(opset).standard_normal((1, 4, 5, 8)).astype(np.float32)
    sbn = _check(onnx.load_from_string(buf.getvalue()), x, tmp_path)
    ops = [n.op for n in sbn.nodes]
    for op in ("PAD", "CONV_TRANSPOSE", "TRANSPOSE", "SLICE", "GATHER", "EXPAND", "RESIZE"):
        assert op in ops, (op, ops)
    assert ops.count("PAD") == 1  # the zero pad before the conv folded
