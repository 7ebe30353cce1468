"""Where the package finds its non-Python parts, in a source checkout and in an installed wheel alike.

The C sources that devices build on demand (the static aarch64 runner, the qemu instruction-count plugin) and the
WebAssembly build of `web/dist` are either in the checkout this package was imported from, or shipped as package
data under `sparsebyte/_native/` (same relative paths). Build products go to a writable directory: the checkout's
`build/`, or a per-version cache directory for an installed package. Every module asks here; none computes
`Path(__file__).parents[N]`.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import __version__

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parents[1]  # python/sparsebyte -> repository root, when imported from a checkout
CACHE_ENV = "SPARSEBYTE_CACHE"


class ResourceError(RuntimeError):
    """A resource the command needs is not in this installation (the message says which and how to get it)."""


def in_checkout() -> bool:
    """True when imported from a source checkout (editable install or PYTHONPATH)."""
    return (_CHECKOUT / "engine" / "include" / "sparsebyte.h").is_file() and (_CHECKOUT / "pyproject.toml").is_file()


def source_root() -> Path:
    """The directory holding engine/, kernels_arm/, tools/qemu-insn-count/ and the Makefile."""
    if in_checkout():
        return _CHECKOUT
    packaged = _PACKAGE / "_native"
    if (packaged / "engine" / "include" / "sparsebyte.h").is_file():
        return packaged
    raise ResourceError(f"no engine sources in {packaged} (a broken installation: reinstall sparsebyte)")


def build_root() -> Path:
    """A writable directory for programs built on demand: <checkout>/build, else $SPARSEBYTE_CACHE or
    ~/.cache/sparsebyte/<version>."""
    if in_checkout():
        return _CHECKOUT / "build"
    base = os.environ.get(CACHE_ENV) or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache",
                                                     "sparsebyte", __version__)
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_file(name: str) -> Path:
    """A file shipped in sparsebyte/data/ (labels, ...)."""
    path = _PACKAGE / "data" / name
    if not path.is_file():
        raise ResourceError(f"{path}: missing package data file (reinstall sparsebyte)")
    return path
