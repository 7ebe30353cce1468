"""Fixtures of the wasm tests: the emscripten build of the engine (web/build.sh) and the test models."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from wasm_support import REPO, WEB, require_tools


@pytest.fixture(scope="session")
def wasm_build() -> Path:
    """web/dist/sparsebyte.{js,wasm}, (re)built incrementally."""
    require_tools("emcc", "node", "make")
    out = subprocess.run([str(WEB / "build.sh")], cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    assert out.returncode == 0, f"web/build.sh failed:\n{out.stdout}\n{out.stderr}"
    return WEB / "dist"


@pytest.fixture(scope="session")
def small_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from wasm_models import write_small_models

    return write_small_models(tmp_path_factory.mktemp("wasm_models"))
