"""End to end: build the demo's assets, serve them with demos/browser/serve.py on 127.0.0.1, and let Debian's headless
Chromium (driven by playwright-core) classify the bundled photo; the page must show the cat."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from wasm_support import REPO, build_demo_assets, demo_server, require_browser

CAT_LABELS = {"Egyptian cat", "tabby", "tiger cat"}


@pytest.fixture(scope="module")
def demo_url(wasm_build: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 (generator fixture)
    require_browser()
    assets = tmp_path_factory.mktemp("demo_assets")
    build_demo_assets(assets, sparsity=0.5, group=4)
    with demo_server(assets) as url:
        yield url


def test_demo_classifies_the_bundled_photo(demo_url: str, tmp_path: Path) -> None:
    screenshot = tmp_path / "demo.png"
    out = subprocess.run(
        ["node", str(REPO / "tests/wasm/browser_demo.mjs"), demo_url, str(screenshot)],
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
