"""ONNX / PyTorch to .sbn converter: `convert(source, "model.sbn")`.

The names below load on first use, so importing a light submodule (the operator spec `opspec`, which
sparsebyte.sbnformat reads) does not import onnx."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import ConversionReport, build_graph, convert
    from .ir import ConversionError

__all__ = ["convert", "build_graph", "ConversionError", "ConversionReport"]

_HOMES = {"convert": ".api", "build_graph": ".api", "ConversionReport": ".api", "ConversionError": ".ir"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
