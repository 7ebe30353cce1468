"""mypy over the shipped Python: python/sparsebyte and converters/, checked as the installed package lays them out
(converters/ is sparsebyte.converters), with the [tool.mypy] config of pyproject.toml. The layout is a directory of
symlinks (mypy follows no import hooks, so it cannot see the editable install's mapping); errors are reported with
the checkout's paths."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging_support import REPO, clean_env


def _layout(root: Path) -> Path:
    """root/sparsebyte: every entry of python/sparsebyte (but the compiled extension), converters/ as converters."""
    package = root / "sparsebyte"
    package.mkdir(parents=True)
    for entry in (REPO / "python" / "sparsebyte").iterdir():
        if entry.name in ("converters", "__pycache__", "_native") or entry.suffix in (".so", ".c"):
            continue
        (package / entry.name).symlink_to(entry)
    (package / "converters").symlink_to(REPO / "converters")
    return package


def test_mypy_accepts_the_package(tmp_path: Path) -> None:
    if shutil.which("mypy") is None and subprocess.run([sys.executable, "-m", "mypy", "--version"],
                                                       capture_output=True).returncode != 0:
        pytest.fail("mypy is not installed: pip install -e '.[dev]' (.ci/install does)")
    package = _layout(tmp_path / "src")
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
                             "--cache-dir", str(REPO / "build" / "mypy-cache"), "-p", "sparsebyte"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=900,
                            env=clean_env(MYPYPATH=str(package.parent)))
    report = (result.stdout + result.stderr).replace("src/sparsebyte/converters/", "converters/")
    report = report.replace("src/sparsebyte/", "python/sparsebyte/")
    assert result.returncode == 0, report[-8000:]
    assert "Success: no issues found" in report
