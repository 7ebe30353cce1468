"""Zoo models (zoo/registry.py) converted once per session with the `sparsebyte convert` command line, their feeds and
onnxruntime's outputs: shared by the wheel-model tests here and the seeded-model tests (test_seeded_*.py). The model
files themselves are cached across sessions under ~/.cache/sparsebyte-test (tools/fetch_models.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
for _p in (REPO / "tests" / "converter", REPO / "tests" / "ops", REPO):  # onnx_helpers/op_cases/device_bundles, zoo
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import zoo  # noqa: E402
from zoo import harness  # noqa: E402


@dataclass
class Converted:
    model: zoo.ZooModel
    sbn: Path
    feeds: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]  # onnxruntime's outputs on the feeds, by output name


@pytest.fixture(scope="session")
def zoo_converted(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Converted]:
    """zoo_converted(name): the model converted (once per session), its feeds and the reference outputs."""
    root = tmp_path_factory.mktemp("zoo")
    cache: dict[str, Converted] = {}

    def get(name: str) -> Converted:
        if name not in cache:
            model = zoo.get(name)
            sbn = harness.convert(model, root / f"{model.name}.sbn")
            feeds = model.feeds()
            cache[name] = Converted(model, sbn, feeds, harness.reference(model, feeds))
        return cache[name]

    return get
