"""Small torch models in the shape of the networks sparsebyte targets (MobileNet-style blocks), with group-sparse
pointwise weights; shared by the converter tests and the engine tests."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class Block(nn.Module):
    """Inverted residual with squeeze-excite: 1x1 expand, 3x3 depthwise, SE, 1x1 project, residual add."""

    def __init__(self, c: int, expand: int, stride: int = 1) -> None:
        super().__init__()
        h = c * expand
        self.expand = nn.Sequential(nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6())
        self.dw = nn.Sequential(nn.Conv2d(h, h, 3, stride, 1, groups=h, bias=False), nn.BatchNorm2d(h), nn.Hardswish())
        self.se_fc1 = nn.Conv2d(h, max(4, h // 4), 1)
        self.se_fc2 = nn.Conv2d(max(4, h // 4), h, 1)
        self.project = nn.Sequential(nn.Conv2d(h, c, 1, bias=False), nn.BatchNorm2d(c))
        self.residual = stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dw(self.expand(x))
        s = torch.nn.functional.adaptive_avg_pool2d(y, 1)
        s = torch.sigmoid(self.se_fc2(torch.relu(self.se_fc1(s))))
        y = self.project(y * s)
        return x + y if self.residual else y


class TinyNet(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 12, 3, 2, 1, bias=False), nn.BatchNorm2d(12), nn.ReLU())
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.b1 = Block(12, 3)
        self.b2 = Block(12, 2, stride=2)
        self.head = nn.Conv2d(12, 40, 1)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(40, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.stem(x))
        x = self.b2(self.b1(x))
        x = torch.relu(self.head(x))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1)
        x = x.view(x.size(0), -1)
        return torch.softmax(self.fc(self.drop(x)), dim=1)


def group_prune_(module: nn.Module, g: int = 4, density: float = 0.4, seed: int = 0) -> None:
    """Zero whole (group of g output channels, input channel) kernels of every groups=1 conv / linear layer with more
    than 3 input channels, in place; randomise BN statistics so folding is exercised."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.from_numpy(rng.standard_normal(m.num_features).astype(np.float32)) * 0.1)
                m.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2, m.num_features).astype(np.float32)))
                m.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, m.num_features).astype(np.float32)))
                m.bias.copy_(torch.from_numpy(rng.standard_normal(m.num_features).astype(np.float32)) * 0.1)
            w = getattr(m, "weight", None)
            if not isinstance(m, (nn.Conv2d, nn.Linear)) or (isinstance(m, nn.Conv2d) and m.groups != 1):
                continue
            cout, cin = w.shape[:2]
            if cin <= 3:
                continue
            ng = -(-cout // g)
            keep = rng.random((ng, cin)) < density
            mask = np.repeat(keep, g, axis=0)[:cout].astype(np.float32)
            w.mul_(torch.from_numpy(mask).reshape(cout, cin, *([1] * (w.dim() - 2))))


def tiny_net(seed: int = 0) -> TinyNet:
    torch.manual_seed(seed)
    net = TinyNet()
    group_prune_(net, 4, 0.4, seed)
    return net.eval()
