"""run_model(..., "qemu"): the static aarch64 runner under qemu-aarch64 agrees with the host engine; failures are
clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sparsebyte import Model
from sparsebyte.devices import DeviceError, RunOptions, run_model


@pytest.mark.parametrize("name", ["tiny", "tiny_sparse"])
def test_qemu_matches_the_host_engine(tiny_files: dict[str, Path], tiny_input: np.ndarray, name: str) -> None:
    outputs, report = run_model(tiny_files[f"{name}.sbn"], {"input": tiny_input}, "qemu", RunOptions(0, 1, 2))
    host = Model(tiny_files[f"{name}.sbn"]).run(tiny_input)
    assert list(outputs) == ["output"] and outputs["output"].shape == (1, 10)
    np.testing.assert_allclose(outputs["output"], host, atol=1e-5, rtol=0)
    assert report["backend"] == "neon" and report["threads"] == 2 and report["device"] == "qemu"
    assert len(report["ops"]) == Model(tiny_files[f"{name}.sbn"]).num_nodes


def test_the_host_device_gives_the_same_outputs(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    outputs, report = run_model(tiny_files["tiny_sparse.sbn"], tiny_input)  # default device: host
    np.testing.assert_array_equal(outputs["output"], Model(tiny_files["tiny_sparse.sbn"]).run(tiny_input))
    assert report["device"] == "host"


def test_bad_inputs_are_rejected_before_qemu(tiny_files: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match=r"expected shape \(1, 3, 16, 16\)"):
        run_model(tiny_files["tiny.sbn"], np.zeros((1, 3, 8, 8), np.float32), "qemu")
    with pytest.raises(ValueError, match=r"expected names \['input'\]"):
        run_model(tiny_files["tiny.sbn"], {"x": np.zeros((1, 3, 16, 16), np.float32)}, "qemu")


def test_missing_prebuilt_runner_is_a_clear_error(tiny_files: dict[str, Path], tiny_input: np.ndarray,
                                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPARSEBYTE_AARCH64_RUNNER", str(tmp_path / "no-runner"))
    with pytest.raises(DeviceError, match="no-runner: no such file"):
        run_model(tiny_files["tiny.sbn"], tiny_input, "qemu")


def test_runner_failure_is_reported(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    with pytest.raises(DeviceError, match=r"qemu: the runner failed on tiny.sbn \(exit 2\): .*--threads expects an "
                                          "integer"):
        run_model(tiny_files["tiny.sbn"], tiny_input, "qemu", RunOptions(threads=1000))
