"""End to end: build the demo's assets, serve them with demos/browser/serve.py on 127.0.0.1, and let Debian's headless
Chromium (driven by playwright-core) classify the bundled photo; the page must show the cat."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from wasm_support import REPO, WEB, require_tools

CAT_LABELS = {"Egyptian cat", "tabby", "tiger cat"}


@pytest.fixture(scope="module")
def demo_server(wasm_build: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 (generator fixture)
    require_tools("chromium")
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        pytest.fail("web/node_modules/playwright-core missing: run `npm ci` in web/ (.ci/install does)")
    assets = tmp_path_factory.mktemp("demo_assets")
    spec = importlib.util.spec_from_file_location("sb_demo_build", REPO / "demos" / "browser" / "build.py")
    assert spec is not None and spec.loader is not None
    demo_build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo_build)
    demo_build.build_assets(assets, sparsity=0.5, group=4, build_wasm=False)
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "demos/browser/serve.py"), "--port", "0", "--assets", str(assets)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert "http://127.0.0.1:" in line, f"serve.py did not start: {line!r}"
        yield line.strip().split()[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_demo_classifies_the_bundled_photo(demo_server: str, tmp_path: Path) -> None:
    screenshot = tmp_path / "demo.png"
    out = subprocess.run(
        ["node", str(REPO / "tests/wasm/browser_demo.mjs"), demo_server, str(screenshot)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    page = json.loads(out.stdout)
    assert page["state"] == "done", page
    assert page["dense"]["top1"] in CAT_LABELS, page
    assert "wasm-simd128" in page["backend"]
    for column in ("dense", "sparse"):
        assert len(page[column]["labels"]) == 5, page
        assert page[column]["latency"].endswith(" ms"), page
    assert page["consoleErrors"] == []
    assert screenshot.stat().st_size > 10_000
