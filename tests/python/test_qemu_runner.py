"""run_qemu: the static aarch64 runner under qemu-aarch64 agrees with the host engine; failures are clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sparsebyte import Model
from sparsebyte.qemu import QemuError, run_qemu


@pytest.mark.parametrize("name", ["tiny", "tiny_sparse"])
def test_qemu_matches_the_host_engine(tiny_files: dict[str, Path], tiny_input: np.ndarray, name: str) -> None:
    outputs, report = run_qemu(tiny_files[f"{name}.sbn"], {"input": tiny_input}, threads=2)
    host = Model(tiny_files[f"{name}.sbn"]).run(tiny_input)
    assert list(outputs) == ["output"] and outputs["output"].shape == (1, 10)
    np.testing.assert_allclose(outputs["output"], host, atol=1e-5, rtol=0)
    assert report["backend"] == "neon" and report["threads"] == 2
    assert len(report["ops"]) == Model(tiny_files[f"{name}.sbn"]).num_nodes


def test_bad_input_shape_is_rejected_before_qemu(tiny_files: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match=r"expected shape \(1, 3, 16, 16\)"):
        run_qemu(tiny_files["tiny.sbn"], np.zeros((1, 3, 8, 8), np.float32))


def test_missing_prebuilt_runner_is_a_clear_error(tiny_files: dict[str, Path], tiny_input: np.ndarray,
                                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPARSEBYTE_AARCH64_RUNNER", str(tmp_path / "no-runner"))
    with pytest.raises(QemuError, match="no-runner: no such file"):
        run_qemu(tiny_files["tiny.sbn"], tiny_input)


def test_runner_failure_is_reported(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    with pytest.raises(QemuError, match=r"aarch64 runner failed on .*tiny.sbn .*--threads expects an integer"):
        run_qemu(tiny_files["tiny.sbn"], tiny_input, threads=1000)
