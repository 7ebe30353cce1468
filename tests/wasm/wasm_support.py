"""Paths and checks shared by the wasm tests (a module name of its own: every test folder has a conftest)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"


def require_tools(*tools: str) -> None:
    """Fails (never skips) when a tool the wasm tests need is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed (.ci/install: apt-get install emscripten chromium)")


def require_browser() -> None:
    """Chromium and playwright-core, or a failure that says how to install them."""
    require_tools("chromium")
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        pytest.fail("web/node_modules/playwright-core missing: run `npm ci` in web/ (.ci/install does)")


def build_demo_assets(assets: Path, **options: Any) -> dict[str, Any]:
    """demos/browser/build.py's build_assets (a script, not a package module) into `assets`; returns its manifest."""
    spec = importlib.util.spec_from_file_location("sb_demo_build", REPO / "demos" / "browser" / "build.py")
    assert spec is not None and spec.loader is not None
    demo_build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo_build)
    return demo_build.build_assets(assets, build_wasm=False, **options)


@contextmanager
def demo_server(assets: Path) -> Iterator[str]:
    """demos/browser/serve.py on a free 127.0.0.1 port serving `assets`; yields the page's URL."""
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "demos/browser/serve.py"), "--port", "0", "--assets", str(assets)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert "http://127.0.0.1:" in line, f"serve.py did not start: {line!r}"
        yield line.strip().split()[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
