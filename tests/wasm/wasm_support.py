"""Paths and checks shared by the wasm tests (a module name of its own: every test folder has a conftest)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"


def require_tools(*tools: str) -> None:
    """Fails (never skips) when a tool the wasm tests need is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed (.ci/install: apt-get install emscripten chromium)")
