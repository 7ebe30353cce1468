"""The pthreads build of the wasm engine (web/dist/sparsebyte-mt.*): in node its outputs equal the single-thread
build's for threads 1..4, loadModel picks it only for threads > 1, the worker pool is created once and reused, bad
threads values are a named error; in headless Chromium a cross-origin-isolated page runs 2 threads and a page without
COOP/COEP falls back to one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from wasm_support import REPO, WEB, require_tools

HERE = Path(__file__).resolve().parent
MODELS = ("small_dense", "small_g1", "small_g4", "small_g8")


def run_json(script: str, *args: str, timeout: float = 120) -> dict:
    out = subprocess.run(["node", str(HERE / script), *args], cwd=REPO, capture_output=True, text=True,
                         timeout=timeout, check=False)
    assert out.returncode == 0, f"{script} failed:\n{out.stdout}\n{out.stderr}"
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def node_report(wasm_build: Path, small_models: dict[str, Path]) -> dict:
    for name in ("sparsebyte-mt.js", "sparsebyte-mt.wasm", "mt-worker/sparsebyte-mt.worker.js"):
        assert (wasm_build / name).is_file(), f"web/build.sh did not write web/dist/{name}"
    return run_json("test_wasm_threads_node.mjs", str(small_models["small_dense"].parent), *MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_threads_1_to_4_equal_the_single_thread_build(node_report: dict, name: str) -> None:
    assert node_report["supported"] is True  # node has SharedArrayBuffer
    for threads, row in node_report["models"][name].items():
        assert row["threads"] == int(threads), (name, threads, row)
        assert row["diff"] <= 1e-5, (name, threads, row)


def test_the_threads_build_only_when_asked_and_its_workers_are_reused(node_report: dict) -> None:
    picks = node_report["picks"]
    assert picks["default"] == {"threads": 1, "single": True} and picks["one"] == {"threads": 1, "single": True}
    assert picks["three"] == {"threads": 3, "threaded": True} and picks["two"] == {"threads": 2, "threaded": True}
    assert picks["auto"]["threads"] == picks["auto"]["cores"]  # 'auto': the machine's cores
    w = node_report["workers"]
    assert w["before"] == {"running": 0, "idle": 3}  # started at load: threads - 1 of the first threaded model
    assert w["during"] == {"running": 3, "idle": 0}  # 2 + 1 workers for the two models
    assert w["after"] == {"running": 0, "idle": 3}  # free() gives them back
    assert w["reused"] == {"running": 3, "idle": 0}  # and the next model takes them (none created)


def test_bad_threads_values_are_a_named_error(node_report: dict) -> None:
    for value, error in node_report["errors"].items():
        assert error is not None, value
        assert error["name"] == "SparsebyteError" and error["status"] == "SB_ERR_ARGUMENT", (value, error)
        assert "threads must be an integer in 1..64 or 'auto'" in error["message"], (value, error)


def test_chromium_runs_two_threads_only_when_cross_origin_isolated(wasm_build: Path,
                                                                   small_models: dict[str, Path]) -> None:
    require_tools("chromium")
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        pytest.fail("web/node_modules/playwright-core missing: run `npm ci` in web/ (.ci/install does)")
    report = run_json("test_wasm_threads_browser.mjs", str(small_models["small_g4"]), timeout=180)
    assert report["isolated"]["isolated"] is True and report["isolated"]["threads"] == 2, report
    assert report["isolated"]["diff"] <= 1e-5 and report["isolated"]["errors"] == [], report
    assert report["plain"]["isolated"] is False and report["plain"]["threads"] == 1, report  # the fallback
    assert report["plain"]["errors"] == [], report
