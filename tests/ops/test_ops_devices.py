"""The structural operator cases (PAD, RESIZE, CONV_TRANSPOSE, SLICE, GATHER, EXPAND and the ops lowered onto them:
tests/ops/op_cases.py) on the other targets: the static aarch64 runner under qemu (NEON build) and the WebAssembly
engine in node must match onnxruntime like the host engine does (tests/ops/test_ops_engine.py). Bundled like the
math cases (tests/ops/device_bundles.py): up to BUNDLE cases of one opset and convert() options side by side in one
graph, one run per bundle and device."""

from __future__ import annotations

from pathlib import Path

import pytest
from device_bundles import DEVICES, bundle_ids, bundles, check_on_device
from op_cases import CASES, Case

# Case-id prefixes of the structural ops (codes 16..39).
STRUCTURAL = ("pad_", "resize", "upsample", "convt_", "depth_to_space", "space_to_depth", "slice_", "split_",
              "gather_", "expand_", "tile_", "transpose_")
BUNDLES = bundles([c for c in CASES if c.id.startswith(STRUCTURAL)])


@pytest.mark.parametrize("device_name", DEVICES)
@pytest.mark.parametrize("cases", BUNDLES, ids=bundle_ids(BUNDLES))
def test_structural_cases_on_device(cases: list[Case], device_name: str, tmp_path: Path) -> None:
    check_on_device(cases, device_name, tmp_path)
