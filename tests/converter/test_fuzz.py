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
    types, opsets, wiring), corrupted and truncated .tflite files and mutated METADATA JSON; any other exception, a
    half-written file, a converted file the engine refuses or `sparsebyte info` failing on the METADATA is a
    finding."""
    from fuzz_converter import run

    result = run(first_seed, 50)
    assert result["findings"] == [], "\n---\n".join(result["findings"][:5])
    outcomes = result["outcomes"]
    assert sum(outcomes.values()) == 150
    assert outcomes.get("onnx refused", 0) > 0 and outcomes.get("onnx converted", 0) > 0, outcomes
    assert outcomes.get("tflite refused", 0) > 0, outcomes  # ~6% of the corrupted files still convert (and run)
    assert outcomes.get("metadata read", 0) > 0 and outcomes.get("metadata ignored", 0) > 0, outcomes


def test_a_mistyped_attribute_of_an_old_opset_is_refused_before_the_version_converter(tmp_path) -> None:
    """Found by fuzz_converter.py (seed 1129): Upsample-7 with scales as a STRING made onnx's version converter
    segfault; the schema's attribute types are checked before it runs."""
    import subprocess
    import sys

    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Upsample", ["x"], ["y"], mode="nearest", scales="2")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 7)])
    model.ir_version = 3
    (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
    script = ("import sys\nfrom sparsebyte.converters import ConversionError, convert\ntry:\n"
              f"    convert({str(tmp_path / 'm.onnx')!r}, {str(tmp_path / 'm.sbn')!r})\n"
              "except ConversionError as e:\n    print(e)\n    sys.exit(3)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stdout + proc.stderr  # a segfault would be -11
    assert "'scales' is STRING" in proc.stdout and "FLOATS" in proc.stdout
    assert not (tmp_path / "m.sbn").exists()
