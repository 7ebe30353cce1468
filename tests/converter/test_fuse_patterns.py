"""Activations as torch writes them out in ONNX (opsets 13 and 17) fold back into one activation fused into the conv
(passes/fuse_patterns.py), and the converted model matches torch in the engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

import sparsebyte
from sparsebyte.converters import convert
from sparsebyte.sbnformat import read_model


class ConvAct(nn.Module):
    def __init__(self, act: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x))


ACTS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], str]] = {
    "silu": (F.silu, "SILU"),
    "swish_written_out": (lambda x: x * torch.sigmoid(x), "SILU"),
    "gelu": (F.gelu, "GELU"),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), "GELU_TANH"),
    "gelu_tanh_pow": (lambda x: 0.5 * x * (1 + torch.tanh(0.7978845608 * (x + 0.044715 * x.pow(3)))), "GELU_TANH"),
    "hardswish_written_out": (lambda x: x * F.relu6(x + 3) / 6, "HARDSWISH"),
    "hardswish": (F.hardswish, "HARDSWISH"),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), "LEAKYRELU"),
    "elu": (F.elu, "ELU"),
    "tanh": (torch.tanh, "TANH"),
}


class Block(nn.Module):
    """A transformer-style block: LayerNorm, a linear layer, GELU."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(12)
        self.fc = nn.Linear(12, 12)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.fc(self.norm(x)))


@pytest.mark.parametrize("opset", [13, 17])
def test_torch_layer_norm_is_one_op(opset: int, tmp_path: Path) -> None:
    """opset 13 writes LayerNorm out (fuse_patterns folds it), opset 17 exports LayerNormalization."""
    torch.manual_seed(5)
    net = Block().eval()
    with torch.no_grad():
        net.norm.weight.uniform_(0.5, 1.5)
        net.norm.bias.uniform_(-0.5, 0.5)
    x = 2 * torch.randn(1, 5, 12) + 1
    convert(_export(net, x, tmp_path / "m.onnx", opset), tmp_path / "m.sbn", force_dense=True)
    ops = [n.op for n in read_model((tmp_path / "m.sbn").read_bytes()).nodes]
    assert ops[0] == "LAYER_NORM" and ops.count("LAYER_NORM") == 1 and "REDUCE_MEAN" not in ops, ops
    with torch.no_grad():
        want = net(x).numpy()
    np.testing.assert_allclose(sparsebyte.Model(tmp_path / "m.sbn").run(x.numpy()), want, rtol=1e-4, atol=1e-5)


def _export(module: nn.Module, x: torch.Tensor, path: Path, opset: int) -> onnx.ModelProto:
    torch.onnx.export(module, (x,), str(path), dynamo=False, opset_version=opset, input_names=["input"],
                      output_names=["output"])
    return onnx.load(str(path))


@pytest.mark.parametrize("opset", [13, 17])
@pytest.mark.parametrize("name", list(ACTS))
def test_torch_activation_fuses_into_the_conv(name: str, opset: int, tmp_path: Path) -> None:
    fn, kind = ACTS[name]
    torch.manual_seed(3)
    net = ConvAct(fn).eval()
    x = 3 * torch.randn(1, 3, 9, 7)
    m = _export(net, x, tmp_path / "m.onnx", opset)
    convert(m, tmp_path / "m.sbn", force_dense=True)
    nodes = read_model((tmp_path / "m.sbn").read_bytes()).nodes
    assert [(n.op, n.act[0]) for n in nodes] == [("CONV", kind)]
    with torch.no_grad():
        want = net(x).numpy()
    got = sparsebyte.Model(tmp_path / "m.sbn").run(x.numpy())
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))
