"""The dense kxk conv cases that run as im2col + f32-gemm in SIMD builds (tests/ops/op_cases.py, ids im2col_*) on
the emulated aarch64 device (qemu, NEON build) and in WebAssembly (node, SIMD128 build) against onnxruntime, bundled
(tests/ops/device_bundles.py): one device run per bundle."""

from __future__ import annotations

from pathlib import Path

import pytest
from device_bundles import DEVICES, bundle_ids, bundles, check_on_device
from op_cases import CASES, Case

BUNDLES = bundles([c for c in CASES if c.id.startswith("im2col_")])


def test_im2col_cases_exist() -> None:
    assert sum(len(b) for b in BUNDLES) >= 7


@pytest.mark.parametrize("device_name", DEVICES)
@pytest.mark.parametrize("cases", BUNDLES, ids=bundle_ids(BUNDLES))
def test_im2col_conv_cases_on_device_match_onnxruntime(cases: list[Case], device_name: str, tmp_path: Path) -> None:
    check_on_device(cases, device_name, tmp_path)
