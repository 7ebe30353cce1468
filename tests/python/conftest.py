"""Fixtures for the Python-package tests: the tiny CNN of tiny_model.py converted to .sbn, dense and sparse."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_model import INPUT_SHAPE, tiny_net


@pytest.fixture(scope="session")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tiny.onnx / tiny.sbn (dense) and tiny_sparse.onnx / tiny_sparse.sbn (50% group-sparse, G=4), tiny.pt."""
    from sparsebyte.converters import convert
    from sparsebyte.models.export import export_onnx
    from sparsebyte.prune import prune_groups

    root = tmp_path_factory.mktemp("tiny")
    dense = tiny_net()
    sparse = copy.deepcopy(dense)
    prune_groups(sparse, 0.5, group=4, skip_first=False)
    files = {}
    for name, model in (("tiny", dense), ("tiny_sparse", sparse)):
        onnx_path = root / f"{name}.onnx"
        export_onnx(model, onnx_path, INPUT_SHAPE)
        convert(onnx_path, root / f"{name}.sbn", group=4, force_dense=name == "tiny")
        files[f"{name}.onnx"], files[f"{name}.sbn"] = onnx_path, root / f"{name}.sbn"
    torch.jit.trace(dense, torch.zeros(INPUT_SHAPE)).save(str(root / "tiny.pt"))
    files["tiny.pt"] = root / "tiny.pt"
    return files


@pytest.fixture()
def tiny_input() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(INPUT_SHAPE, dtype=np.float32)
