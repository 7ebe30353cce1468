"""The x86 build's runtime ISA levels (docs/x86.md) through the Python extension: SPARSEBYTE_KERNELS picks the
level at model load, Model.backend names it, every node's kernel is of that level or below, the outputs match the
numpy references at every level, and a level this build does not know fails the load with a named error."""

from __future__ import annotations

import importlib.util
import platform
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import sparsebyte

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                                reason="x86-64 only: other machines build their own kernels")

# SPARSEBYTE_KERNELS value -> (backend name, the kernel-name token of its level, cpuinfo flags it needs)
LEVELS = {"scalar": ("scalar", "__scalar", ()), "sse4.1": ("x86-sse4.1", "__sse41", ("sse4_1",)),
          "avx2": ("x86-avx2", "__avx2", ("avx2", "fma")), "avx512": ("x86-avx512", "__avx512", ("avx512f",))}
ORDER = list(LEVELS)


def _engine_models() -> ModuleType:
    """tests/engine/models.py by path (a plain `import models` could pick another directory's module)."""
    spec = importlib.util.spec_from_file_location("_x86_levels_engine_models", REPO / "tests/engine/models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _cpu_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


RUNNABLE = [lv for lv, (_, _, flags) in LEVELS.items() if set(flags) <= _cpu_flags()]
MODELS = _engine_models()
CASES = [MODELS.conv_model(), MODELS.sparse_conv_model(4), MODELS.sparse_conv_model(1), MODELS.classifier_model()]


@pytest.mark.parametrize("level", RUNNABLE)
def test_each_level_runs_its_kernels_and_matches_the_reference(level: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARSEBYTE_KERNELS", level)
    backend, token, _ = LEVELS[level]
    higher = [LEVELS[h][1] for h in ORDER[ORDER.index(level) + 1:]]
    for case in CASES:
        model = sparsebyte.Model(case.bytes())
        assert model.backend == backend
        kernels = [n.kernel for n in model.nodes if n.kernel_family]
        assert kernels, case.name
        assert not [k for k in kernels if any(h in k for h in higher)], f"{case.name} at {level}: {kernels}"
        if level != "scalar":
            assert any(token in k for k in kernels) or level == "sse4.1" and any("__sse41" in k for k in kernels)
        else:
            assert all(token in k or not k.startswith("sb_") for k in kernels), kernels
        outs = model.run(case.inputs[0] if len(case.inputs) == 1 else case.inputs)
        outs = list(outs.values()) if isinstance(outs, dict) else [outs]
        for got, want in zip(outs, case.reference(case.inputs), strict=True):
            np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-4, err_msg=f"{case.name} at {level}")


def test_default_is_the_cpus_best_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPARSEBYTE_KERNELS", raising=False)
    assert sparsebyte.backend() == LEVELS[RUNNABLE[-1]][0]
    monkeypatch.setenv("SPARSEBYTE_KERNELS", "auto")
    assert sparsebyte.Model(CASES[0].bytes()).backend == LEVELS[RUNNABLE[-1]][0]


def test_unknown_level_is_a_named_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARSEBYTE_KERNELS", "neon")
    with pytest.raises(sparsebyte.ArgumentError, match=r"SPARSEBYTE_KERNELS=neon: unknown level .*avx2"):
        sparsebyte.Model(CASES[0].bytes())
    if "avx512" not in RUNNABLE:
        monkeypatch.setenv("SPARSEBYTE_KERNELS", "avx512")
        with pytest.raises(sparsebyte.ArgumentError, match="this CPU does not run that level"):
            sparsebyte.Model(CASES[0].bytes())
