"""The op cases of the lowerings the wheel models needed (tests/ops/op_cases.py: Conv over [N, C, L], Clip with
computed bounds, a conv bias Add folded) on qemu-aarch64 and in node against onnxruntime, bundled
(tests/ops/device_bundles.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from device_bundles import DEVICES, bundle_ids, bundles, check_on_device
from op_cases import CASES, Case

BUNDLES = bundles([c for c in CASES if c.id.startswith(("conv1d_", "clip_by_", "conv_bias_add_"))])


def test_the_cases_exist() -> None:
    assert sum(len(b) for b in BUNDLES) >= 5


@pytest.mark.parametrize("device_name", DEVICES)
@pytest.mark.parametrize("cases", BUNDLES, ids=bundle_ids(BUNDLES))
def test_zoo_lowerings_on_device(cases: list[Case], device_name: str, tmp_path: Path) -> None:
    check_on_device(cases, device_name, tmp_path)
