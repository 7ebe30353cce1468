"""Shared setup of the MobileNet accuracy tests: pruned models, their .sbn files, inputs and PyTorch logits."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from sparsebyte.converters import convert
from sparsebyte.images import sample_inputs
from sparsebyte.models.registry import build
from sparsebyte.prune import prune_groups

INPUT_SHAPE = (1, 3, 224, 224)
ATOL = 1e-4  # max abs error of the logits vs PyTorch

# (model name, sparsity, G) -> (pruned PyTorch model, its .sbn); the session fixture `converted` in conftest.py
Converted = Callable[[str, float, int], tuple[torch.nn.Module, Path]]


@lru_cache(maxsize=2)
def base_model(name: str) -> torch.nn.Module:
    return build(name)


def pruned_model(name: str, sparsity: float, group: int) -> torch.nn.Module:
    model = copy.deepcopy(base_model(name))
    if sparsity > 0:
        prune_groups(model, sparsity, group=group)
    return model


def convert_model(model: torch.nn.Module, path: Path, group: int) -> Path:
    convert(model, path, example_input=torch.zeros(INPUT_SHAPE), group=group)
    return path


@lru_cache(maxsize=1)
def _inputs() -> tuple[np.ndarray, ...]:
    photos = list(sample_inputs().values())  # real photos (4) then seeded random normal images
    rng = np.random.default_rng(0)
    return tuple(photos + [rng.standard_normal(INPUT_SHAPE, dtype=np.float32) for _ in range(20 - len(photos))])


def inputs(n: int = 20) -> list[np.ndarray]:
    return list(_inputs()[:n])


def torch_logits(model: torch.nn.Module, xs: list[np.ndarray]) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(np.concatenate(xs))).numpy()
