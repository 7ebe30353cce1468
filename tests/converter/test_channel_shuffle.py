"""passes/channel_shuffle: a Reshape-Transpose-Reshape channel permutation becomes a Gather of axis 1, folded into
channel Slices (Split), Gathers and dense Convs that read it; anything else keeps the Gather, and a chain that is not
a channel permutation stays a Transpose. Each graph matches onnxruntime through the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

import sparsebyte
from sparsebyte import sbnformat
from sparsebyte.converters import convert


def shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class SplitAfter(nn.Module):  # ShuffleNetV2's unit: shuffle, then chunk
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = shuffle(x, 2).chunk(2, dim=1)
        return torch.cat((torch.relu(a), b * 2), 1)


class ConvAfter(nn.Module):  # 3 groups, permute spelled differently; a 3x3 conv reads it
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(12, 5, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        return self.conv(x.reshape(n, 3, c // 3, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w))


class DepthwiseAfter(nn.Module):  # a depthwise conv and a graph output read it: the Gather stays
    def __init__(self) -> None:
        super().__init__()
        self.dw = nn.Conv2d(12, 12, 3, padding=1, groups=12)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = shuffle(x, 4)
        return self.dw(y), y


class NotAChannelPermutation(nn.Module):  # moves rows, not channels
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        return torch.relu(x.reshape(n, c, 2, h // 2, w).transpose(2, 3).reshape(n, c, h, w))


CASES = {"split": (SplitAfter, {"GATHER": 2, "TRANSPOSE": 0, "SLICE": 0}),
         "conv": (ConvAfter, {"GATHER": 0, "TRANSPOSE": 0}),
         "depthwise": (DepthwiseAfter, {"GATHER": 1, "TRANSPOSE": 0}),
         "rows": (NotAChannelPermutation, {"GATHER": 0, "TRANSPOSE": 1})}


@pytest.mark.parametrize("case", list(CASES))
def test_channel_shuffle_folds(case: str, tmp_path: Path) -> None:
    factory, want_counts = CASES[case]
    torch.manual_seed(0)
    model = factory().eval()
    x = torch.randn(1, 12, 6, 8)
    onnx_path, sbn_path = tmp_path / "m.onnx", tmp_path / "m.sbn"
    torch.onnx.export(model, (x,), str(onnx_path), dynamo=False, opset_version=13, input_names=["x"])
    convert(onnx_path, sbn_path)
    ops = [n.op for n in sbnformat.read_model(sbn_path).nodes]
    assert {op: ops.count(op) for op in want_counts} == want_counts, ops
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    want = sess.run(None, {"x": x.numpy()})
    with sparsebyte.Model(sbn_path) as engine:
        got = engine.run(x.numpy())
        got_list = [got[t.name] for t in engine.outputs] if isinstance(got, dict) else [got]
    for g, w in zip(got_list, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
