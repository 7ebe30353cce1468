"""sparsebyte: inference engine for fine-grained group-sparse CNNs.

The engine bindings load on first use (`sparsebyte.Model`), so `import sparsebyte` imports neither the compiled
extension nor torch."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_RUNTIME_NAMES = ("Model", "TensorInfo", "NodeInfo", "SparsebyteError", "FileError", "FormatError", "VersionError",
                  "UnsupportedError", "NoMemoryError", "ArgumentError", "ModelClosedError", "backend", "engine_version")

__all__ = ["__version__", *_RUNTIME_NAMES]


def __getattr__(name: str) -> Any:
    if name in _RUNTIME_NAMES:
        from . import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module 'sparsebyte' has no attribute {name!r}")
