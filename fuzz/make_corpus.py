"""Seed corpus for the .sbn fuzzer: small real models written by the converter (torch -> ONNX -> .sbn), covering
every operator, every group size G, dense and sparse convs, and one MobileNet-ish network.

    python3 fuzz/make_corpus.py fuzz/corpus

Deterministic (fixed seeds), so regenerating gives the same files unless the converter changes."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sparsebyte.converters import convert
from sparsebyte.models.mobilenet_v2 import ConvBNReLU, InvertedResidual


def group_prune_(module: nn.Module, g: int, density: float, seed: int) -> None:
    """Zero whole (group of g output channels, input channel) kernels of every groups=1 conv/linear with > 3 inputs."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.from_numpy(rng.standard_normal(m.num_features).astype(np.float32) * 0.1))
                m.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2, m.num_features).astype(np.float32)))
            weight = getattr(m, "weight", None)
            if not isinstance(m, (nn.Conv2d, nn.Linear)) or weight is None or weight.shape[1] <= 3:
                continue
            if isinstance(m, nn.Conv2d) and m.groups != 1:
                continue
            cout, cin = weight.shape[:2]
            keep = rng.random(((cout + g - 1) // g, cin)) < density
            keep[:, 0] = True  # no empty group: keeps the layer worth packing
            mask = np.repeat(keep, g, axis=0)[:cout]
            weight.mul_(torch.from_numpy(mask.reshape(cout, cin, *([1] * (weight.dim() - 2))).astype(np.float32)))


class PoolsAndActivations(nn.Module):
    """Every pooling flavour, the fused activations, a standalone BatchNorm (CHANNEL_AFFINE), concat, mul."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, 1, 1)
        self.dilated = nn.Conv2d(8, 8, 3, 1, 2, dilation=2, groups=2)
        self.bn = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = nn.functional.hardswish(self.conv(x))
        b = torch.sigmoid(self.dilated(a))
        y = torch.cat([nn.functional.max_pool2d(a, 3, 2, 1, ceil_mode=True),
                       nn.functional.avg_pool2d(b, 3, 2, 1, ceil_mode=True, count_include_pad=False)], dim=1)
        y = self.bn(y) * nn.functional.hardsigmoid(y)
        y = nn.functional.avg_pool2d(y, 2, 2, count_include_pad=True)
        y = nn.functional.adaptive_avg_pool2d(y, 1).flatten(1)
        return torch.softmax(self.fc(y), dim=1)


class SparsePointwise(nn.Module):
    """Stem (kernel-level sparse 3x3 when pruned), pointwise convs (spmm), residual add, FC."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(8, 16, 3, 2, 1)
        self.pw1 = nn.Conv2d(16, 24, 1)
        self.pw2 = nn.Conv2d(24, 16, 1)
        self.fc = nn.Linear(16, 12)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.stem(x))
        h = h + self.pw2(nn.functional.relu6(self.pw1(h)))
        return self.fc(nn.functional.adaptive_avg_pool2d(h, 1).flatten(1))


class MobileNetish(nn.Module):
    """MobileNetV2's blocks at a tiny width: stem, inverted residuals (expand/depthwise/project, residual), head."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            ConvBNReLU(3, 8, stride=2),
            InvertedResidual(8, 8, 1, 1),
            InvertedResidual(8, 12, 2, 4),
            InvertedResidual(12, 12, 1, 4),
            InvertedResidual(12, 16, 2, 4),
            ConvBNReLU(16, 32, kernel_size=1),
        )
        self.classifier = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
        return self.classifier(x)


def seeds() -> list[tuple[str, Callable[[], nn.Module], tuple[int, ...], dict]]:
    return [
        ("pools_activations", PoolsAndActivations, (1, 3, 9, 9), {"force_dense": True}),
        ("sparse_pointwise_g1", SparsePointwise, (1, 8, 8, 8), {"group": 1, "sparse_threshold": 1.0}),
        ("sparse_pointwise_g2", SparsePointwise, (1, 8, 8, 8), {"group": 2, "sparse_threshold": 1.0}),
        ("sparse_pointwise_g4", SparsePointwise, (2, 8, 6, 6), {"group": 4, "sparse_threshold": 1.0}),
        ("sparse_pointwise_g8", SparsePointwise, (1, 8, 8, 8), {"group": 8, "sparse_threshold": 1.0}),
        ("mobilenetish_dense", MobileNetish, (1, 3, 16, 16), {"force_dense": True}),
        ("mobilenetish_sparse", MobileNetish, (1, 3, 16, 16), {"group": 4, "sparse_threshold": 1.0}),
    ]


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    for i, (name, make, shape, options) in enumerate(seeds()):
        torch.manual_seed(i)
        model = make().eval()
        group = options.get("group", 4)
        group_prune_(model, g=group if isinstance(group, int) else 4, density=0.4, seed=i)
        with tempfile.TemporaryDirectory() as tmp:
            report = convert(model, Path(tmp) / "m.sbn", example_input=torch.randn(*shape), **options)
            data = (Path(tmp) / "m.sbn").read_bytes()
        (out / f"{name}.sbn").write_bytes(data)
        print(f"{name}.sbn: {len(data)} bytes, {report.node_count} nodes, {report.sparse_layers} sparse layers")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus")
