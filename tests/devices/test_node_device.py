"""The node device: the WebAssembly build (web/dist) in node through web/tools/run-model.mjs, which takes the native
runner's command line and prints its JSON report, so `run`/`profile --device node` and run_model work as for qemu."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from device_support import INPUT_SHAPE, make_tiny_models, sparsebyte

from sparsebyte import Model
from sparsebyte.devices import DeviceError, NodeDevice, QemuDevice, RunOptions, run_model


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_tiny_models(tmp_path_factory.mktemp("models"))


def test_outputs_match_the_host_and_the_report_has_the_runner_shape(models: dict[str, Path]) -> None:
    x = np.random.default_rng(2).standard_normal(INPUT_SHAPE, dtype=np.float32)
    outputs, report = run_model(models["tiny_sparse"], x, "node", RunOptions(warmup=1, repeat=3, threads=2))
    np.testing.assert_allclose(outputs["output"], Model(models["tiny_sparse"]).run(x), atol=1e-5, rtol=0)
    # threads=2: the pthreads build (node worker threads)
    assert report["device"] == "node" and report["backend"] == "wasm-simd128" and report["threads"] == 2
    assert "note" not in report
    latency = report["latency_ms"]
    assert 0 < latency["min"] <= latency["median"] <= latency["max"]
    assert report["arena_bytes"] > 0 and report["weight_bytes"] > 0 and report["peak_rss_kb"] > 0
    assert report["outputs"] == [{"name": "output", "shape": [1, 10]}]
    pw = next(op for op in report["ops"] if op["name"] == "/pw/pw.0/Conv")
    assert "wasmsimd" in pw["kernel"] and pw["macs"] == pw["dense_macs"] // 2 and pw["time_ms"] >= 0
    assert len(report["ops"]) == Model(models["tiny_sparse"]).num_nodes


def test_random_inputs_are_the_native_runners(models: dict[str, Path]) -> None:
    # no --input: both runners draw the same seeded splitmix64 inputs, so the outputs agree
    options = RunOptions(warmup=0, repeat=1, seed=7)
    wasm = NodeDevice().run(models["tiny"], num_outputs=1, options=options).outputs[0]
    neon = QemuDevice(count_insns=False).run(models["tiny"], num_outputs=1, options=options).outputs[0]
    other = NodeDevice().run(models["tiny"], num_outputs=1, options=RunOptions(0, 1, seed=8)).outputs[0]
    np.testing.assert_allclose(wasm, neon, atol=1e-5, rtol=0)
    assert np.abs(wasm - other).max() > 1e-3


def test_run_and_profile_commands(models: dict[str, Path], tmp_path: Path) -> None:
    x = np.random.default_rng(4).standard_normal(INPUT_SHAPE, dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    result = sparsebyte("run", models["tiny"], "--device", "node", "--input", tmp_path / "x.npy",
                        "--output", tmp_path / "y.npy")
    assert result.returncode == 0, result.stderr
    assert "on node (wasm-simd128" in result.stdout
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), Model(models["tiny"]).run(x), atol=1e-5, rtol=0)
    result = sparsebyte("profile", models["tiny_sparse"], "--device", "node", "--json", "--no-plot")
    assert result.returncode == 0, result.stderr
    profile = json.loads(result.stdout)
    assert profile["device"] == "node" and profile["metric"] == "ms" and profile["backend"] == "wasm-simd128"
    assert {r["name"]: r for r in profile["rows"]}["/pw/pw.0/Conv"]["sparsity"] == 0.5
    np.save(tmp_path / "small.npy", np.zeros((1, 3, 8, 8), np.float32))
    result = sparsebyte("run", models["tiny"], "--device", "node", "--input", tmp_path / "small.npy")
    assert result.returncode == 2
    assert "--input: input 'input': expected shape (1, 3, 16, 16), got (1, 3, 8, 8)" in result.stderr


def test_failures_are_device_errors(tmp_path: Path, models: dict[str, Path]) -> None:
    garbage = tmp_path / "garbage.sbn"
    garbage.write_bytes(b"SBN\x00" + bytes(100))
    with pytest.raises(DeviceError, match=r"node: the runner failed on garbage.sbn \(exit 1\): run-model: load model"):
        NodeDevice().run(garbage)
    np.save(tmp_path / "f8.npy", np.zeros(INPUT_SHAPE))
    with pytest.raises(DeviceError, match=r"exit 1\): run-model: .*f8.npy: dtype must be float32"):
        NodeDevice().run(models["tiny"], [tmp_path / "f8.npy"])
    with pytest.raises(DeviceError, match=r"exit 2\): run-model: --repeat expects an integer in 1..1000000, got '0'"):
        NodeDevice().run(models["tiny"], options=RunOptions(repeat=0))
