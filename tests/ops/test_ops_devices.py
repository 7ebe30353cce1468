"""The structural operator cases (PAD, RESIZE, CONV_TRANSPOSE, SLICE, GATHER, EXPAND and the ops lowered onto them:
tests/ops/op_cases.py) on the other targets: the static aarch64 runner under qemu (NEON build) and the WebAssembly
engine in node must match onnxruntime like the host engine does (tests/ops/test_ops_engine.py). Bundled like the
math cases (tests/ops/test_ops_math_devices.py, whose bundling and device helpers this reuses): up to BUNDLE cases
of one opset and convert() options side by side in one graph, one run per bundle and device."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx_helpers import run_ort
from op_cases import CASES, Case, convert_kwargs
from test_ops_math_devices import BUNDLE, _bundle, _device

import sparsebyte
from sparsebyte.converters import convert
from sparsebyte.devices import RunOptions

# Case-id prefixes of the structural ops (codes 16..39).
STRUCTURAL = ("pad_", "resize", "upsample", "convt_", "depth_to_space", "space_to_depth", "slice_", "split_",
              "gather_", "expand_", "tile_")
DEVICE_CASES = [c for c in CASES if c.id.startswith(STRUCTURAL)]


def _bundles() -> list[list[Case]]:
    groups: dict[str, list[Case]] = {}
    for c in DEVICE_CASES:
        opset = [o.version for o in c.build()[0].opset_import if o.domain in ("", "ai.onnx")]
        groups.setdefault(repr((sorted(convert_kwargs(c).items()), opset)), []).append(c)
    return [group[i:i + BUNDLE] for group in groups.values() for i in range(0, len(group), BUNDLE)]


BUNDLES = _bundles()


@pytest.mark.parametrize("device_name", ["qemu", "node"])
@pytest.mark.parametrize("cases", BUNDLES, ids=[f"{b[0].id}+{len(b) - 1}" for b in BUNDLES])
def test_structural_cases_on_device(cases: list[Case], device_name: str, tmp_path: Path) -> None:
    device = _device(device_name)
    model, inputs, outputs = _bundle(cases)
    expected = run_ort(model, inputs)
    path = tmp_path / "bundle.sbn"
    convert(model, path, **convert_kwargs(cases[0]))
    with sparsebyte.Model(path) as host:
        order = [t.name for t in host.inputs]
        assert [t.name for t in host.outputs] == outputs
    files = []
    for i, name in enumerate(order):
        files.append(tmp_path / f"in{i}.npy")
        np.save(files[-1], np.ascontiguousarray(inputs[name], np.float32))
    run = device.run(path, files, num_outputs=len(outputs), options=RunOptions(warmup=0, repeat=1))
    for c, name, got in zip(cases, outputs, run.outputs, strict=True):
        want = expected[name]
        assert got.shape == want.shape, c.id
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(want).max())),
                                   err_msg=f"{c.id} on {device_name}")
