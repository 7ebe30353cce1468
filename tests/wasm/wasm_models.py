"""Models for the wasm tests: a small network that uses every op the engine has a WASM kernel for (dense and
group-sparse for each G), and MobileNetV2 with the ImageNet weights, written as .sbn files with the team's converter.

    python tests/wasm/wasm_models.py OUT_DIR [--mobilenet]
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import torch
from torch import nn

from sparsebyte.converters import convert
from sparsebyte.prune import prune_groups

SMALL_INPUT_SHAPE = (1, 3, 37, 29)  # odd sizes: border pixels and every pixel-tile remainder
MOBILENET_INPUT_SHAPE = (1, 3, 224, 224)
GROUPS = (1, 2, 4, 8)


class SmallNet(nn.Module):
    """Stem conv 3x3/s2, depthwise 3x3 s1 and 5x5 s2, 1x1 convs (sparse once pruned, Cout not a multiple of 8),
    a residual add, hardswish and clip, pooling and a classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 20, 3, stride=2, padding=1), nn.BatchNorm2d(20), nn.ReLU6())
        self.dw1 = nn.Sequential(nn.Conv2d(20, 20, 3, padding=1, groups=20), nn.ReLU())
        self.pw1 = nn.Sequential(nn.Conv2d(20, 36, 1), nn.BatchNorm2d(36), nn.Hardswish())
        self.dw2 = nn.Sequential(nn.Conv2d(36, 36, 5, stride=2, padding=2, groups=36), nn.ReLU6())
        self.pw2 = nn.Conv2d(36, 36, 1)
        self.conv3 = nn.Sequential(nn.Conv2d(36, 28, 3, padding=1), nn.ReLU())
        self.pool = nn.MaxPool2d(2, ceil_mode=True)
        self.head = nn.Linear(28, 13)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dw1(self.stem(x))
        x = self.dw2(self.pw1(x))
        x = x + self.pw2(x)
        x = self.pool(self.conv3(x))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def small_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = SmallNet()
    with torch.no_grad():  # non-trivial batch-norm statistics, so folding them is tested
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model.eval()


def write_small_models(out: Path) -> dict[str, Path]:
    """small_dense.sbn and small_g{G}.sbn (60% group-sparse, every layer but the stem) for G in 1, 2, 4, 8."""
    out.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(SMALL_INPUT_SHAPE)
    paths = {"small_dense": out / "small_dense.sbn"}
    convert(small_net(), paths["small_dense"], example_input=example, force_dense=True)
    for group in GROUPS:
        model = small_net()
        prune_groups(model, 0.6, group=group)
        paths[f"small_g{group}"] = out / f"small_g{group}.sbn"
        convert(model, paths[f"small_g{group}"], example_input=example, group=group)
    return paths


def write_mobilenet_v2(out: Path, sparsity: float = 0.5, group: int = 4) -> Path:
    """MobileNetV2 with the ImageNet weights, one-shot group-pruned (no fine-tuning; a kernel-test model, not the
    demo's recovered classifier, sparsebyte.demo.sparse_classifier)."""
    from sparsebyte.models.mobilenet_v2 import mobilenet_v2

    out.mkdir(parents=True, exist_ok=True)
    model = copy.deepcopy(mobilenet_v2(pretrained=True)).eval()
    name = "mobilenet_v2_dense"
    if sparsity > 0:
        prune_groups(model, sparsity, group=group)
        name = f"mobilenet_v2_s{round(sparsity * 100)}_g{group}"
    path = out / f"{name}.sbn"
    kwargs = {"group": group} if sparsity > 0 else {"force_dense": True}
    convert(model, path, example_input=torch.zeros(MOBILENET_INPUT_SHAPE), **kwargs)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--mobilenet", action="store_true", help="also write MobileNetV2 (50%% sparse, G=4)")
    ns = parser.parse_args()
    for path in write_small_models(ns.out).values():
        print(path)
    if ns.mobilenet:
        print(write_mobilenet_v2(ns.out))


if __name__ == "__main__":
    main()
