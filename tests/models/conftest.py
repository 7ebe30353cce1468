"""Converted MobileNets shared by the host and qemu tests: each (model, sparsity, G) is pruned and converted once."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mobilenet_cases import Converted, convert_model, pruned_model


@pytest.fixture(scope="session")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Converted:
    root = tmp_path_factory.mktemp("mobilenets")
    cache: dict[tuple[str, float, int], tuple[torch.nn.Module, Path]] = {}

    def get(name: str, sparsity: float, group: int) -> tuple[torch.nn.Module, Path]:
        key = (name, sparsity, group)
        if key not in cache:
            model = pruned_model(name, sparsity, group)
            path = convert_model(model, root / f"{name}_s{int(sparsity * 100)}_g{group}.sbn", group)
            cache[key] = (model, path)
        return cache[key]

    return get
