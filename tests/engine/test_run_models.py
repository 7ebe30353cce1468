"""Valid models run through the ASan/UBSan build of sparsebyte-run: outputs match numpy, the JSON report is complete,
and thread counts do not change a single bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from engine_support import run_binary
from models import ALL_CASES, Case

CASES = [make() for make in ALL_CASES]


def write_case(case: Case, tmp_path: Path) -> tuple[Path, list[str]]:
    model = tmp_path / f"{case.name}.sbn"
    model.write_bytes(case.bytes())
    args: list[str] = []
    for i, x in enumerate(case.inputs):
        np.save(tmp_path / f"in{i}.npy", x)
        args += ["--input", str(tmp_path / f"in{i}.npy")]
    return model, args


def run_case(runner: Path, case: Case, tmp_path: Path, *extra: str) -> list[np.ndarray]:
    model, args = write_case(case, tmp_path)
    n_out = len(case.writer.outputs)
    for i in range(n_out):
        args += ["--output", str(tmp_path / f"out{i}.npy")]
    proc = run_binary(runner, model, *args, *extra)
    assert proc.returncode == 0, proc.stderr
    return [np.load(tmp_path / f"out{i}.npy") for i in range(n_out)]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_outputs_match_numpy(asan_runner: Path, case: Case, tmp_path: Path) -> None:
    outputs = run_case(asan_runner, case, tmp_path)
    for got, want in zip(outputs, case.reference(case.inputs), strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_threads_bit_identical(engine_build: Path, case: Case, tmp_path: Path) -> None:
    runner = engine_build / "host" / "sparsebyte-run"
    one = run_case(runner, case, tmp_path, "--threads", "1")
    for threads in ("2", "3"):
        many = run_case(runner, case, tmp_path, "--threads", threads)
        for a, b in zip(one, many, strict=True):
            assert a.tobytes() == b.tobytes()


def test_json_report(asan_runner: Path, tmp_path: Path) -> None:
    case = CASES[1]  # sparse convs: kept MACs < dense MACs
    model, _ = write_case(case, tmp_path)
    proc = run_binary(asan_runner, model, "--json", "--repeat", "3", "--warmup", "1", "--threads", "2")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["backend"] == "scalar"
    assert report["threads"] == 2
    lat = report["latency_ms"]
    assert 0 <= lat["min"] <= lat["median"] <= lat["max"]
    assert report["weight_bytes"] > 0
    # x (3136 bytes) lives all run; h (3920 -> 3968 aligned) and y (1024) are live together at sp3x3
    assert report["arena_bytes"] == 3136 + 3968 + 1024
    ops = report["ops"]
    assert [o["name"] for o in ops] == ["sp1x1", "sp3x3"]
    assert ops[0]["op"] == "CONV_SPARSE" and "spmm" in ops[0]["kernel"]
    assert "spconv" in ops[1]["kernel"]
    for o in ops:
        assert 0 < o["macs"] < o["dense_macs"]
        assert o["time_ms"] >= 0
    assert report["outputs"] == [{"name": "y", "shape": [2, 8, 4, 4]}]


def test_random_inputs_are_reproducible(asan_runner: Path, tmp_path: Path) -> None:
    model, _ = write_case(CASES[0], tmp_path)
    outs = []
    for seed in ("7", "7", "8"):
        out = tmp_path / f"o{len(outs)}.npy"
        proc = run_binary(asan_runner, model, "--random-seed", seed, "--output", out)
        assert proc.returncode == 0, proc.stderr
        outs.append(np.load(out))
    assert outs[0].tobytes() == outs[1].tobytes()
    assert outs[0].tobytes() != outs[2].tobytes()


def test_profile_table(asan_runner: Path, tmp_path: Path) -> None:
    model, args = write_case(CASES[4], tmp_path)
    proc = run_binary(asan_runner, model, *args, "--profile")
    assert proc.returncode == 0, proc.stderr
    for node in ("dw", "maxpool", "avgpool", "gap", "flatten", "fc", "fc_sparse", "softmax"):
        assert f"\n{node} " in proc.stdout
    assert "dwconv" in proc.stdout  # depthwise dispatch


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no model given"),
        (["--threads", "0"], "--threads expects an integer"),
        (["--bogus"], "unknown option"),
        (["--input"], "needs a value"),
    ],
)
def test_usage_errors(asan_runner: Path, tmp_path: Path, args: list[str], message: str) -> None:
    model, _ = write_case(CASES[0], tmp_path)
    proc = run_binary(asan_runner, *([model] if args else []), *args)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_input_errors(asan_runner: Path, tmp_path: Path) -> None:
    model, _ = write_case(CASES[0], tmp_path)
    np.save(tmp_path / "wrong.npy", np.zeros((1, 3, 10, 9), np.float32))
    proc = run_binary(asan_runner, model, "--input", tmp_path / "wrong.npy")
    assert proc.returncode == 1
    assert "has 270 elements, input 'x' needs 300" in proc.stderr
    np.save(tmp_path / "f64.npy", np.zeros((1, 3, 10, 10)))
    proc = run_binary(asan_runner, model, "--input", tmp_path / "f64.npy")
    assert proc.returncode == 1 and "float32" in proc.stderr
    proc = run_binary(asan_runner, tmp_path / "missing.sbn")
    assert proc.returncode == 1 and "cannot open" in proc.stderr
