"""Tiny models for the sparsify tests: every channel-coupling case the rearrangement handles."""

from __future__ import annotations

import torch
from torch import nn

torch.set_num_threads(1)  # the machine is shared; tiny models gain nothing from threads


def _randomize_bn(model: nn.Module, seed: int) -> nn.Module:
    """Non-trivial BN statistics and affine terms, so that a wrong permutation of any of them shows."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=g) * 0.2)
    return model.eval()


class CouplingNet(nn.Module):
    """Stem -> residual add -> depthwise -> concat with a second branch -> 1x1 -> SE-like mul -> pool -> FC."""

    def __init__(self, width: int = 8, classes: int = 5):
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU())
        self.branch = nn.Sequential(nn.Conv2d(w, w, 1, bias=False), nn.BatchNorm2d(w))
        self.dw = nn.Sequential(nn.Conv2d(w, w, 3, padding=1, groups=w, bias=False), nn.BatchNorm2d(w), nn.ReLU6())
        self.side = nn.Conv2d(w, w, 1)
        self.mix = nn.Sequential(nn.Conv2d(2 * w, 2 * w, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU())
        self.gate = nn.Conv2d(2 * w, 2 * w, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * w, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stem(x)
        r = s + self.branch(s)
        d = self.dw(r)
        c = torch.cat([d, self.side(r)], dim=1)
        m = self.mix(c)
        m = m * torch.sigmoid(self.gate(m))
        return self.fc(torch.flatten(self.pool(m), 1))


def coupling_net(seed: int = 0) -> CouplingNet:
    torch.manual_seed(seed)
    return _randomize_bn(CouplingNet(), seed)


class PlainNet(nn.Module):
    """conv -> BN -> ReLU -> 1x1 -> pool -> flatten -> FC: the CLI's --torch test model."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                                      nn.Conv2d(16, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(32, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


def plain_net() -> PlainNet:
    torch.manual_seed(1)
    return _randomize_bn(PlainNet(), 1)
