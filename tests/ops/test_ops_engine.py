"""Every operator case (tests/ops/op_cases.py) converted to .sbn and run by the C engine through the Python bindings
must match onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_helpers import run_ort
from op_cases import CASES, Case, convert_kwargs, feeds

import sparsebyte
from sparsebyte.converters import convert

# Known engine bugs (reported to the engine owners); strict, so a fix turns these into failures to remove.
ENGINE_BUGS: dict[str, str] = {}


def _param(c: Case):
    marks = [pytest.mark.xfail(reason=ENGINE_BUGS[c.id], strict=True)] if c.id in ENGINE_BUGS else []
    return pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("c", [_param(c) for c in CASES])
def test_engine_matches_onnxruntime(c: Case, tmp_path) -> None:
    m, x = c.build()
    expected = run_ort(m, feeds(x))["y"]
    path = tmp_path / "m.sbn"
    convert(m, path, **convert_kwargs(c))
    model = sparsebyte.Model(path)
    assert [t.name for t in model.outputs] == ["y"]
    got = model.run(feeds(x))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(expected).max())))


@pytest.mark.parametrize("c", [c for c in CASES if c.id in ("conv_bn_relu_fused", "conv3x3_stride2_odd",
                                                           "sparse3x3_g4_d50", "torch_view_chain_folded")],
                         ids=lambda c: c.id)
def test_engine_results_do_not_depend_on_threads(c: Case, tmp_path) -> None:
    m, x = c.build()
    path = tmp_path / "m.sbn"
    convert(m, path, **convert_kwargs(c))
    one = sparsebyte.Model(path, threads=1).run(x)
    two = sparsebyte.Model(path, threads=2).run(x)
    np.testing.assert_array_equal(one, two)
