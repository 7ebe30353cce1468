"""Builds the host and ASan engine binaries once per session (make host asan); helpers are in engine_support.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
for _p in (str(REPO), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

@pytest.fixture(scope="session")
def engine_build() -> Path:
    jobs = str(min(2, os.cpu_count() or 1))
    proc = subprocess.run(["make", "-j", jobs, "host", "asan"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, f"make host asan failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return REPO / "build"


@pytest.fixture(scope="session")
def asan_runner(engine_build: Path) -> Path:
    return engine_build / "asan" / "sparsebyte-run"

