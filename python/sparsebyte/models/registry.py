"""Model name -> builder (imports torch only when a model is built)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn


def _mobilenet_v2() -> nn.Module:
    from .mobilenet_v2 import mobilenet_v2

    return mobilenet_v2(pretrained=True)


def _mobilenet_v1() -> nn.Module:
    from .mobilenet_v1 import mobilenet_v1

    return mobilenet_v1()


MODELS: dict[str, Callable[[], nn.Module]] = {
    "mobilenet_v2": _mobilenet_v2,  # torchvision architecture, real ImageNet weights
    "mobilenet_v1": _mobilenet_v1,  # random weights, fixed seed, calibrated BN
}

INPUT_SHAPES: dict[str, tuple[int, ...]] = {"mobilenet_v2": (1, 3, 224, 224), "mobilenet_v1": (1, 3, 224, 224)}


def build(name: str) -> nn.Module:
    """An eval-mode model by name (see MODELS)."""
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known: {sorted(MODELS)}")
    return MODELS[name]()
