"""A MobileViT-like block exported by torch (opsets 13 and 17): conv + SiLU, LayerNorm, multi-head attention written
with reshape/permute/matmul/softmax, GELU MLP, residuals. It converts with every norm, activation and bias folded
(LAYER_NORM x2, MATMUL x2, one SOFTMAX, no bias ADD) and matches torch in the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import sparsebyte
from sparsebyte.converters import convert
from sparsebyte.sbnformat import read_model


class Attention(nn.Module):
    def __init__(self, d: int = 16, heads: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 2 * d), nn.Linear(2 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5).softmax(dim=-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.fc2(nn.functional.gelu(self.fc1(self.norm2(x))))


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.attn = Attention()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = nn.functional.silu(self.conv(x))
        b, c, h, w = f.shape
        t = self.attn(f.flatten(2).transpose(1, 2))
        return t.transpose(1, 2).reshape(b, c, h, w).mean(dim=(2, 3))


@pytest.mark.parametrize("opset", [13, 17])
def test_vit_block_converts_folded_and_matches_torch(opset: int, tmp_path: Path) -> None:
    torch.manual_seed(opset)
    net = Block().eval()
    x = torch.randn(1, 3, 5, 6)
    onnx_path = tmp_path / "block.onnx"
    torch.onnx.export(net, (x,), str(onnx_path), dynamo=False, opset_version=opset)
    convert(onnx_path, tmp_path / "block.sbn", force_dense=True)
    nodes = read_model((tmp_path / "block.sbn").read_bytes()).nodes
    ops = [n.op for n in nodes]
    assert ops.count("LAYER_NORM") == 2 and ops.count("MATMUL") == 2 and ops.count("SOFTMAX") == 1, ops
    assert ops.count("ADD") == 2, ops  # the two residuals; every Linear's bias is in its FC
    assert [n.act[0] for n in nodes if n.op == "CONV"] == ["SILU"]
    assert "GELU" in [n.act[0] for n in nodes if n.op == "FC"]
    with torch.no_grad():
        want = net(x).numpy()
    got = sparsebyte.Model(tmp_path / "block.sbn").run(x.numpy())
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
