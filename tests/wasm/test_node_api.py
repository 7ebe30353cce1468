"""Runs the JS API's node tests (web/test/*.test.mjs) against the emscripten build."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from wasm_support import WEB


def test_node_api_tests_pass(wasm_build: Path, small_models: dict[str, Path]) -> None:
    env = dict(os.environ, SB_WASM_TEST_MODELS=str(small_models["small_g4"].parent))
    tests = sorted(str(p.relative_to(WEB)) for p in (WEB / "test").glob("*.test.mjs"))
    assert tests, "no node tests found in web/test"
    out = subprocess.run(
        ["node", "--test", *tests], cwd=WEB, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    log = out.stdout + out.stderr
    passed = re.search(r"^# pass (\d+)$", log, re.M)
    failed = re.search(r"^# fail (\d+)$", log, re.M)
    assert out.returncode == 0 and failed is not None and failed.group(1) == "0", log[-6000:]
    assert passed is not None and int(passed.group(1)) >= 9, log[-3000:]
