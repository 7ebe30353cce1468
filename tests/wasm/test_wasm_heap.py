"""The JS loader against a full wasm heap: buffers the 2 GiB wasm32 heap cannot take are a SparsebyteError
SB_ERR_NOMEM naming the size (not a RangeError, not a copy to address 0), and a model loaded before keeps working.
Needs ~2.2 GB of RAM for a few seconds (the heap's maximum)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from wasm_support import REPO


def test_too_large_buffers_are_sparsebyte_errors(wasm_build: Path, small_models: dict[str, Path]) -> None:
    out = subprocess.run(["node", str(REPO / "tests/wasm/heap_limits.mjs"), str(small_models["small_g4"])],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout)
    fitting, too_large = report["results"][:2], report["results"][2:]
    for row in fitting:  # the JS copy fits the heap, the engine's own copy does not (or the header is refused)
        assert row.get("error") == "SparsebyteError", row
    for row in too_large:
        assert row.get("error") == "SparsebyteError" and row["status"] == "SB_ERR_NOMEM", row
        assert f"cannot allocate {row['size']} bytes" in row["message"], row
    for row in report["results"]:
        assert row.get("sameOutput") is True, row
    assert report["reloadSame"] is True
