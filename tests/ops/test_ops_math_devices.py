"""The math op cases (tests/ops/op_cases.py: MATH_CASES) on the emulated aarch64 device (qemu, the NEON build) and
in WebAssembly (node, the SIMD128 build) against onnxruntime, bundled several cases per device run
(tests/ops/device_bundles.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from device_bundles import DEVICES, bundle_ids, bundles, check_on_device
from op_cases import MATH_CASES, Case

BUNDLES = bundles(MATH_CASES)


@pytest.mark.parametrize("device_name", DEVICES)
@pytest.mark.parametrize("cases", BUNDLES, ids=bundle_ids(BUNDLES))
def test_math_cases_on_device_match_onnxruntime(cases: list[Case], device_name: str, tmp_path: Path) -> None:
    check_on_device(cases, device_name, tmp_path)
