"""Whole models in the wasm engine (node) against the host engine (sparsebyte.Model, scalar kernels): the small
all-ops network dense and group-sparse for every G, and MobileNetV2 with the ImageNet weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from wasm_models import MOBILENET_INPUT_SHAPE, SMALL_INPUT_SHAPE, write_mobilenet_v2

import sparsebyte
from sparsebyte.devices import NodeDevice, RunOptions


def run_in_node(model: Path, x: np.ndarray, tmp: Path) -> tuple[np.ndarray, dict]:
    """The node device: web/tools/run-model.mjs over web/dist; (first output, the runner's JSON report)."""
    np.save(tmp / "input.npy", np.ascontiguousarray(x, dtype=np.float32))
    run = NodeDevice().run(model, [tmp / "input.npy"], num_outputs=1, options=RunOptions(warmup=0, repeat=1))
    return run.outputs[0], run.report


def host_output(model: Path, x: np.ndarray) -> np.ndarray:
    with sparsebyte.Model(model) as m:
        y = m.run(x)
    return np.asarray(y if isinstance(y, np.ndarray) else next(iter(y.values())))


def assert_close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.shape == want.shape, what
    scale = max(1.0, float(np.abs(want).max()))
    err = float(np.abs(got - want).max())
    assert err <= 1e-4 * scale, f"{what}: max abs error {err:.3g} (output scale {scale:.3g})"


@pytest.mark.parametrize("name", ["small_dense", "small_g1", "small_g2", "small_g4", "small_g8"])
def test_small_model_matches_host(name: str, wasm_build: Path, small_models: dict[str, Path], tmp_path: Path) -> None:
    x = np.random.default_rng(3).standard_normal(SMALL_INPUT_SHAPE, dtype=np.float32)
    got, report = run_in_node(small_models[name], x, tmp_path)
    assert report["backend"] == "wasm-simd128"
    assert_close(got, host_output(small_models[name], x), name)
    kernels = {row["kernel"] for row in report["ops"]}
    assert any("wasmsimd" in k for k in kernels), kernels
    if name != "small_dense":
        sparse = [r for r in report["ops"] if r["op"] in ("CONV_SPARSE", "FC_SPARSE")]
        assert sparse and all("wasmsimd" in r["kernel"] for r in sparse), sparse


def test_mobilenet_v2_sparse_matches_host(wasm_build: Path, tmp_path: Path) -> None:
    from sparsebyte.images import preprocess, sample_photo, top_k

    model = write_mobilenet_v2(tmp_path / "models", sparsity=0.5, group=4)
    x = preprocess(sample_photo("chelsea")).reshape(MOBILENET_INPUT_SHAPE)
    got, report = run_in_node(model, x, tmp_path)
    want = host_output(model, x)
    assert_close(got, want, model.name)
    assert top_k(got[0], 1)[0][0] == top_k(want[0], 1)[0][0]
    ops = {r["op"] for r in report["ops"]}
    assert "CONV_SPARSE" in ops
