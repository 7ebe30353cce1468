"""TVM wasm32 (SIMD128) kernels in the emscripten build of the engine, run in node, vs the scalar host build."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
from tvm_support import require

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--random-seed", "7", "--warmup", "0", "--repeat", "1", "--profile", "--json"]


def test_wasm_kernels_match_scalar(small_model: Path, tmp_path: Path) -> None:
    if small_model.name not in ("small_dense.sbn", "small_g4.sbn"):
        return  # dense kinds and one sparse G cover every wasm kernel kind; emcc links are slow
    require("emcc", "node")
    from sparsebyte.converters.tvm import build
    from sparsebyte.converters.tvm.generate import generate

    gen = generate(small_model, tmp_path, archs=("wasm32",))
    runner = build.build_wasm(gen.glue, gen.objects["wasm32"], tmp_path / "sparsebyte-run.js")
    proc = subprocess.run(["node", str(runner), str(small_model), "--output", str(tmp_path / "tvm.npy"), *ARGS],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    kernels = {op["name"]: op["kernel"] for op in json.loads(proc.stdout)["ops"]}
    for layer, symbol in gen.layers:
        assert kernels[layer.name] == f"tvm_{symbol}", layer.name

    subprocess.run(["make", "-s", "-j2", "host"], cwd=REPO, check=True, timeout=600)
    ref = subprocess.run([str(REPO / "build/host/sparsebyte-run"), str(small_model), "--output",
                          str(tmp_path / "ref.npy"), *ARGS], capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr
    want = np.load(tmp_path / "ref.npy")
    np.testing.assert_allclose(np.load(tmp_path / "tvm.npy"), want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))
