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


@pytest.mark.parametrize("first_seed", [0, 50])
def test_structure_aware_fuzzing_keeps_every_promise(first_seed: int) -> None:
    """fuzz_converter.run: 1..3 structure-aware mutations per model (attributes, shapes, types, initializers, op
    types, opsets, wiring) and mutated METADATA JSON; any other exception, a half-written file, a converted file the
    engine refuses or `sparsebyte info` failing on the METADATA is a finding."""
    from fuzz_converter import run

    result = run(first_seed, 50)
    assert result["findings"] == [], "\n---\n".join(result["findings"][:5])
    outcomes = result["outcomes"]
    assert sum(outcomes.values()) == 100
    assert outcomes.get("onnx refused", 0) > 0 and outcomes.get("onnx converted", 0) > 0, outcomes
    assert outcomes.get("metadata read", 0) > 0 and outcomes.get("metadata ignored", 0) > 0, outcomes
