"""What the converter accepts the engine must load and run: mutated models that convert are loaded and run."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_mutate import mutate
from op_cases import CASES

import sparsebyte
from sparsebyte.converters import ConversionError, convert


@pytest.mark.parametrize("seed", range(4))
def test_converted_mutants_load_and_run(tmp_path, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    ran = 0
    for c in CASES[seed::4]:
        m, _ = c.build()
        out = tmp_path / f"{c.id}.sbn"
        try:
            convert(mutate(m, rng), out)
        except ConversionError:
            continue
        model = sparsebyte.Model(out)
        y = model.run({t.name: np.ones(t.shape, np.float32) for t in model.inputs})
        assert y.shape == model.outputs[0].shape
        ran += 1
    assert ran >= 5
