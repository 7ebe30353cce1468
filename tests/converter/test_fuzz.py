"""Mutated models (missing initializers, wrong weight shapes, odd attribute values, other input shapes) either convert
or raise ConversionError: never another exception."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_mutate import mutate
from op_cases import CASES

from sparsebyte.converters import ConversionError, convert


@pytest.mark.parametrize("seed", range(8))
def test_mutated_models_never_crash(tmp_path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    outcomes = {"ok": 0, "error": 0}
    for c in CASES[seed::8]:
        m, _ = c.build()
        bad = mutate(m, rng)
        out = tmp_path / f"{c.id}.sbn"
        try:
            convert(bad, out)
            outcomes["ok"] += 1
        except ConversionError as e:
            assert str(e)
            assert not out.exists()
            outcomes["error"] += 1
    assert outcomes["error"] > 0
