"""TVM kernels inside the static aarch64 runner, under qemu-aarch64, against the scalar reference build."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
from tvm_support import require

REPO = Path(__file__).resolve().parents[2]


def run(runner: Path, model: Path, out: Path, *extra: str) -> dict:
    proc = subprocess.run(["qemu-aarch64", str(runner), str(model), "--random-seed", "7", "--output", str(out),
                           "--warmup", "0", "--repeat", "1", "--profile", "--json", *extra],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def scalar_runner() -> Path:
    subprocess.run(["make", "-s", "-j2", "aarch64-scalar"], cwd=REPO, check=True, timeout=600)
    return REPO / "build/aarch64-scalar/sparsebyte-run"


def test_every_layer_tvm_matches_scalar(small_model: Path, tmp_path: Path) -> None:
    require("qemu-aarch64", "aarch64-linux-gnu-gcc")
    from sparsebyte.converters.tvm import build
    from sparsebyte.converters.tvm.generate import generate

    gen = generate(small_model, tmp_path, archs=("aarch64",))
    kinds = {layer.kind for layer, _ in gen.layers}
    dense = "dense" in small_model.name
    assert kinds == ({"f32_conv", "f32_gemm", "f32_dwconv"} if dense else {"f32_spmm", "f32_dwconv"})
    runner = build.build_aarch64(gen.glue, gen.objects["aarch64"], tmp_path / "sparsebyte-run")
    tvm_profile = run(runner, small_model, tmp_path / "tvm.npy")
    run(scalar_runner(), small_model, tmp_path / "ref.npy")

    by_node = {op["name"]: op["kernel"] for op in tvm_profile["ops"]}
    for layer, symbol in gen.layers:  # the TVM kernel really ran for every generated layer
        assert by_node[layer.name] == f"tvm_{symbol}", layer.name
    got, want = np.load(tmp_path / "tvm.npy"), np.load(tmp_path / "ref.npy")
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))

    # two threads split nodes into slices: the adapters hand slices to the registry kernel, results unchanged
    run(runner, small_model, tmp_path / "tvm2.npy", "--threads", "2")
    np.testing.assert_allclose(np.load(tmp_path / "tvm2.npy"), want, rtol=1e-4,
                               atol=1e-4 * float(np.abs(want).max()))


def test_auto_choice_follows_counts(small_model: Path, tmp_path: Path) -> None:
    require("qemu-aarch64", "aarch64-linux-gnu-gcc")
    if small_model.name != "small_g4.sbn":
        return  # one model is enough for the choice logic (qemu runs dominate the time)
    from sparsebyte.converters.tvm.choose import choose_kernels, record_path

    record = choose_kernels(small_model, "auto", "aarch64", tmp_path)
    assert record_path(small_model).exists()
    assert json.loads(record_path(small_model).read_text()) == record
    for row in record["layers"]:
        assert row["choice"] == ("tvm" if row["tvm"] < row["hand"] else "hand"), row
        assert row["hand"] > 0 and row["tvm"] > 0
    profile = run(Path(record["runner"]), small_model, tmp_path / "auto.npy")
    kernels = {op["name"]: op["kernel"] for op in profile["ops"]}
    for row in record["layers"]:
        assert kernels[row["node"]].startswith("tvm_") == (row["choice"] == "tvm"), row
    run(scalar_runner(), small_model, tmp_path / "ref.npy")
    want = np.load(tmp_path / "ref.npy")
    np.testing.assert_allclose(np.load(tmp_path / "auto.npy"), want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))
