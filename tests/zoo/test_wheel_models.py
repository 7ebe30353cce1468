"""The real pretrained models of the zoo that come from public wheels (zoo/registry.py: WHEEL_MODELS; nudenet's
YOLOv8n, PaddleOCR's PP-OCRv6 detector and recogniser, openwakeword's log-mel front end and speech embedding):
each converts with `sparsebyte convert` (only --input-shape for its dynamic input) and matches onnxruntime within
the entry's tolerance on the host, under qemu-aarch64 (the NEON build) and in node (the WebAssembly SIMD128 build).
One device process per model and device."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import onnx
import pytest
from device_bundles import device

import sparsebyte
import zoo
from sparsebyte.devices import run_model
from zoo import harness
from zoo.registry import WHEEL_MODELS, WheelFile

if TYPE_CHECKING:  # only an annotation: `from conftest import` takes whichever folder's conftest loaded first
    from conftest import Converted

NAMES = [m.name for m in WHEEL_MODELS]
BACKENDS = {"qemu": "neon", "node": "wasm-simd128"}


@pytest.mark.parametrize("name", NAMES)
def test_registry_entry_describes_the_wheel_file(name: str) -> None:
    """Opset, input names, fixed dims and which inputs are dynamic: as the file declares them."""
    m = zoo.get(name)
    assert isinstance(m.source, WheelFile)
    proto = onnx.load(str(zoo.model_file(m)), load_external_data=False)
    assert next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) == m.opset
    inits = {i.name for i in proto.graph.initializer}
    declared = {i.name: i.type.tensor_type.shape.dim for i in proto.graph.input if i.name not in inits}
    assert list(declared) == [i.name for i in m.inputs]
    for inp in m.inputs:
        dims = declared[inp.name]
        assert len(dims) == len(inp.shape), inp.name
        fixed = [d.dim_value if d.HasField("dim_value") else None for d in dims]
        assert all(f is None or f == s for f, s in zip(fixed, inp.shape, strict=True)), (inp.name, fixed)
        # a free leading batch dim becomes 1 by itself; any other free dim needs --input-shape
        assert inp.dynamic == (None in fixed[1:] or (fixed[0] is None and inp.shape[0] != 1)), inp.name


@pytest.mark.parametrize("name", NAMES)
def test_host_matches_onnxruntime(name: str, zoo_converted) -> None:
    c: Converted = zoo_converted(name)
    with sparsebyte.Model(c.sbn) as model:
        assert [t.name for t in model.outputs] == list(c.reference)
        out = model.run(c.feeds)
    got = out if isinstance(out, dict) else {next(iter(c.reference)): out}
    assert not harness.problems(c.model, got, c.reference)
    for want in c.reference.values():  # the feed makes the model compute something (not all zeros or constant)
        assert np.ptp(want) > 0


@pytest.mark.parametrize("device_name", ["qemu", "node"])
@pytest.mark.parametrize("name", NAMES)
def test_device_matches_onnxruntime(name: str, device_name: str, zoo_converted) -> None:
    c: Converted = zoo_converted(name)
    got, report = run_model(c.sbn, c.feeds, device(device_name))
    assert report["backend"] == BACKENDS[device_name]
    assert not harness.problems(c.model, got, c.reference)
