"""The structural operator cases (PAD, RESIZE, ...: tests/ops/op_cases.py) on the other targets: the static aarch64
runner under qemu (NEON build) and the WebAssembly engine in node must match onnxruntime like the host engine does
(tests/ops/test_ops_engine.py). One run per case and target: ~0.1 s under qemu, ~0.2 s in node."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_helpers import run_ort
from op_cases import CASES, Case, convert_kwargs

from sparsebyte.converters import convert
from sparsebyte.devices import run_model

# Case-id prefixes of the structural ops (codes 16..39).
STRUCTURAL = ("pad_", "resize", "upsample", "convt_", "depth_to_space", "space_to_depth", "slice_", "split_",
              "gather_", "expand_", "tile_")
DEVICE_CASES = [c for c in CASES if c.id.startswith(STRUCTURAL)]


@pytest.mark.parametrize("device", ["qemu", "node"])
@pytest.mark.parametrize("c", DEVICE_CASES, ids=[c.id for c in DEVICE_CASES])
def test_structural_case_on_device(c: Case, device: str, tmp_path) -> None:
    m, x = c.build()
    expected = run_ort(m, {"x": x})["y"]
    path = tmp_path / "m.sbn"
    convert(m, path, **convert_kwargs(c))
    outputs, _ = run_model(path, x, device)
    got = outputs["y"]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(expected).max())))
