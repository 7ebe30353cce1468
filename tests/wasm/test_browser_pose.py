"""The browser demo's pose tab end to end: build only the pose assets, serve them with demos/browser/serve.py, let
Debian's headless Chromium (playwright-core) detect in the bundled photo, and compare the boxes and keypoints the page
decoded in JS (demos/browser/pose.js, wasm engine) with sparsebyte.ssd's on the host engine's outputs for the same
input (the letterboxed PNG the page loads)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from wasm_support import REPO, build_demo_assets, demo_server, require_browser

# JS decodes the wasm engine's outputs in float64 from the same pixels; the host engine's differ by ~1e-6 relative
COORD_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def pose_server(wasm_build: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 (generator fixture)
    require_browser()
    assets = tmp_path_factory.mktemp("pose_assets")
    manifest = build_demo_assets(assets, classifier=False, pose=True)
    with demo_server(assets) as url:
        yield url, assets, manifest["pose"]


def _python_detections(assets: Path, pose: dict) -> dict[str, list]:
    from sparsebyte import pose_demo, ssd
    from sparsebyte.runtime import Model

    pixels = np.asarray(Image.open(assets / pose["input"]).convert("RGB"))
    x = ssd.to_tensor(pixels, ssd.POSE_DETECTION["image_to_tensor"]["output_tensor_float_range"])
    box = ssd.Letterbox(tuple(pose["padding"]))
    return {k: [d.as_dict() for d in ssd.remove_letterbox(ssd.detect(*pose_demo.outputs_of(
        Model(assets / pose[k]).run(x))), box)] for k in ("dense", "sparse")}


def test_pose_tab_boxes_equal_python(pose_server: tuple[str, Path, dict], tmp_path: Path) -> None:
    """On 2 threads (?threads=2: the pthreads build in the cross-origin-isolated page), whose results equal 1's."""
    url, assets, pose = pose_server
    shot = tmp_path / "pose.png"
    out = subprocess.run(["node", str(REPO / "tests/wasm/browser_pose.mjs"), f"{url}?threads=2", str(shot)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-4000:]
    page = json.loads(out.stdout)
    assert page["state"] == "done", page
    assert not page["tabHidden"]
    assert page["threads"] == 2, page
    assert page["consoleErrors"] == []
    want = _python_detections(assets, pose)
    assert len(want["sparse"]) >= 1, "the astronaut must be detected"
    for key in ("dense", "sparse"):
        got = page["detections"][key]
        assert [d["anchor"] for d in got] == [d["anchor"] for d in want[key]], (key, got, want[key])
        assert [d["merged"] for d in got] == [d["merged"] for d in want[key]], (key, got, want[key])
        for g, w in zip(got, want[key], strict=True):
            assert np.abs(np.subtract(g["box"], w["box"])).max() <= COORD_TOLERANCE, (key, g, w)
            assert np.abs(np.subtract(g["keypoints"], w["keypoints"])).max() <= COORD_TOLERANCE, (key, g, w)
            assert abs(g["score"] - w["score"]) <= COORD_TOLERANCE, (key, g, w)
        assert page[key].endswith(" ms"), page
    assert shot.stat().st_size > 10_000
