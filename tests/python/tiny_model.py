"""A small CNN with every block MobileNets use (stem conv, depthwise, pointwise, residual add, pool, FC)."""

from __future__ import annotations

import torch
from torch import nn

INPUT_SHAPE = (1, 3, 16, 16)


class TinyNet(nn.Module):
    """Stem 3x3 conv, depthwise 3x3, pointwise 1x1 with a residual add, global pool, FC."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.dw = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.pw = nn.Sequential(nn.Conv2d(16, 16, 1, bias=False), nn.BatchNorm2d(16))
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = x + self.pw(self.dw(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def tiny_net(seed: int = 0) -> TinyNet:
    """Deterministic weights and non-trivial BN statistics."""
    torch.manual_seed(seed)
    model = TinyNet()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return model.eval()
