"""The `sparsebyte` command through a subprocess: help texts, every command, error exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_model import INPUT_SHAPE, tiny_net

from sparsebyte.models.export import export_onnx

COMMANDS = ["sparsify", "convert", "info", "run", "check", "profile", "bench", "demo"]


def sparsebyte(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sparsebyte", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_top_level_help_lists_every_command() -> None:
    result = sparsebyte("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command: str) -> None:
    result = sparsebyte(command, "--help")
    assert result.returncode == 0, result.stderr
    assert f"usage: sparsebyte {command}" in result.stdout and len(result.stdout) > 200


def test_no_command_is_a_usage_error() -> None:
    result = sparsebyte()
    assert result.returncode == 2 and "required" in result.stderr


def test_convert_onnx_prints_the_layer_table(tiny_files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "t.sbn"
    result = sparsebyte("convert", tiny_files["tiny_sparse.onnx"], "-o", out, "--group", "4")
    assert result.returncode == 0, result.stderr
    assert "/pw/pw.0/Conv" in result.stdout and "sparse" in result.stdout
    assert out.stat().st_size > 0 and "wrote" in result.stderr


def test_convert_dense_flag(tiny_files: dict[str, Path], tmp_path: Path) -> None:
    result = sparsebyte("convert", tiny_files["tiny_sparse.onnx"], "-o", tmp_path / "d.sbn", "--dense")
    assert result.returncode == 0, result.stderr
    assert "0 sparse" in result.stdout


def test_convert_torch_callable(tmp_path: Path) -> None:
    tests_dir = Path(__file__).parent
    (tmp_path / "my_models.py").write_text(
        f"import sys\nsys.path.insert(0, {str(tests_dir)!r})\nfrom tiny_model import tiny_net\n")
    result = sparsebyte("convert", "--torch", "my_models:tiny_net", "--input-shape", "input=1,3,16,16", "-o",
                        "t.sbn", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    x = np.random.default_rng(0).standard_normal(INPUT_SHAPE, dtype=np.float32)
    import torch

    from sparsebyte import Model

    with torch.no_grad():
        want = tiny_net()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(Model(tmp_path / "t.sbn").run(x), want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("args, message", [
    (["convert", "missing.onnx"], "missing.onnx: no such file"),
    (["convert"], "either an ONNX or .tflite file or --torch"),
    (["convert", "--torch", "nocolon", "--input-shape", "x=1"], "expected module:callable"),
    (["convert", "--torch", "a:b", "--input-shape", "x=1,a", "-o", "x.sbn"], "name=d0,d1"),
    (["info", "missing.sbn"], "missing.sbn"),
    (["run", "missing.sbn"], "missing.sbn: no such file"),
])
def test_usage_errors_exit_2_with_a_message(args: list[str], message: str, tmp_path: Path) -> None:
    result = sparsebyte(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_broken_onnx_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.onnx").write_bytes(b"\x00garbage")
    result = sparsebyte("convert", "bad.onnx", cwd=tmp_path)
    assert result.returncode == 2 and "bad.onnx" in result.stderr and "Traceback" not in result.stderr


def test_garbage_sbn_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.sbn").write_bytes(b"SBN\x00" + b"\x01" * 200)
    for command in ("run", "info", "profile"):
        result = sparsebyte(command, "bad.sbn", cwd=tmp_path)
        assert result.returncode == 2, (command, result.stderr)
        assert "bad.sbn" in result.stderr and "Traceback" not in result.stderr


def test_info(tiny_files: dict[str, Path]) -> None:
    result = sparsebyte("info", tiny_files["tiny_sparse.sbn"])
    assert result.returncode == 0, result.stderr
    assert "input  input [1, 3, 16, 16]" in result.stdout and "output output [1, 10]" in result.stdout
    assert "/pw/pw.0/Conv" in result.stdout and "50.0%" in result.stdout
    from sparsebyte import Model

    model = Model(tiny_files["tiny_sparse.sbn"])  # every node is listed with the kernel the engine chose
    lines = result.stdout.splitlines()
    for node in model.nodes:
        assert any(line.startswith(node.name) and f" {node.op} " in line and f" {node.kernel} " in line
                   for line in lines), node
    assert f"MACs {sum(n.macs for n in model.nodes):,} of {sum(n.dense_macs for n in model.nodes):,}" in result.stdout


def test_run_with_npy_input_and_output(tiny_files: dict[str, Path], tmp_path: Path) -> None:
    x = np.random.default_rng(1).standard_normal(INPUT_SHAPE, dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    result = sparsebyte("run", tiny_files["tiny.sbn"], "--input", tmp_path / "x.npy", "--output",
                        tmp_path / "y.npy", "--repeat", "3", "--threads", "2")
    assert result.returncode == 0, result.stderr
    assert "output: shape [1, 10]" in result.stdout and "latency median" in result.stdout
    import torch

    with torch.no_grad():
        want = tiny_net()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), want, atol=1e-5, rtol=0)


def test_run_rejects_a_wrong_input_shape(tiny_files: dict[str, Path], tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((2, 3), np.float32))
    result = sparsebyte("run", tiny_files["tiny.sbn"], "--input", tmp_path / "x.npy")
    assert result.returncode == 2 and "expected shape (1, 3, 16, 16), got (2, 3)" in result.stderr


def test_check_passes_and_fails(tiny_files: dict[str, Path], tmp_path: Path) -> None:
    ok = sparsebyte("check", tiny_files["tiny.sbn"], "--reference", tiny_files["tiny.onnx"], "-n", "4",
                    "--per-layer")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "top-1 100.0%" in ok.stdout and "max abs" in ok.stdout
    other = export_onnx(tiny_net(seed=3), tmp_path / "other.onnx", INPUT_SHAPE)
    bad = sparsebyte("check", tiny_files["tiny.sbn"], "--reference", other, "-n", "4")
    assert bad.returncode == 1 and "FAIL" in bad.stdout
    pt = sparsebyte("check", tiny_files["tiny.sbn"], "--reference", tiny_files["tiny.pt"], "-n", "2")
    assert pt.returncode == 0, pt.stdout + pt.stderr


def test_profile_table_and_json(tiny_files: dict[str, Path], tmp_path: Path) -> None:
    result = sparsebyte("profile", tiny_files["tiny_sparse.sbn"], "--repeat", "2", "--plot", tmp_path / "p")
    assert result.returncode == 0, result.stderr
    assert "CONV_SPARSE" in result.stdout and "total" in result.stdout and "latency median" in result.stdout
    assert (tmp_path / "p.png").is_file() and (tmp_path / "p.html").is_file()
    result = sparsebyte("profile", tiny_files["tiny_sparse.sbn"], "--json", "--no-plot")
    import json

    profile = json.loads(result.stdout)
    assert profile["device"] == "host" and profile["metric"] == "ms"
    assert {"name", "op", "kernel", "time_ms", "macs", "dense_macs", "sparsity"} <= set(profile["rows"][0])


def test_bench_against_onnxruntime(tiny_files: dict[str, Path]) -> None:
    result = sparsebyte("bench", tiny_files["tiny.sbn"], "--onnx", tiny_files["tiny.onnx"], "--repeat", "3")
    assert result.returncode == 0, result.stderr
    assert "engine" in result.stdout and "onnxruntime" in result.stdout and "ratio" in result.stdout


def test_run_and_profile_under_qemu(tiny_files: dict[str, Path]) -> None:
    result = sparsebyte("run", tiny_files["tiny_sparse.sbn"], "--device", "qemu")
    assert result.returncode == 0, result.stderr
    assert "output: shape [1, 10]" in result.stdout and "qemu-aarch64" in result.stdout
    result = sparsebyte("profile", tiny_files["tiny_sparse.sbn"], "--device", "qemu", "--no-plot")
    assert result.returncode == 0, result.stderr
    assert "CONV_SPARSE" in result.stdout and "insns" in result.stdout and "emulated" in result.stderr


def test_demo_end_to_end_on_the_host_and_in_node(tmp_path: Path) -> None:
    result = sparsebyte("demo", "--classifier", "--out", tmp_path, "--no-qemu")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dense: Egyptian cat" in result.stdout  # the real weights classify the real photo
    assert "demo passed" in result.stdout and "onnxruntime" in result.stdout
    sizes = {name: (tmp_path / f"mobilenet_v2_{name}.sbn").stat().st_size for name in ("dense", "sparse")}
    # the demo's shipped recovered model is 30% G=4 with the classifier dense (1.28 M of 3.5 M weights) and error
    # allocation: 0.89x the dense file (make_demo_delta.py); 50% one-shot (< 0.7x) lost the cat
    assert sizes["sparse"] < 0.9 * sizes["dense"]
    assert "sparse: Egyptian cat" in result.stdout  # the recovered model keeps the dense top-1
    # WebAssembly in node (web/dist, built by the demo when missing): same top-1, logits within the tolerance
    wasm = {line.split()[0]: line for line in result.stdout.splitlines() if " wasm (wasm-simd128): " in line}
    assert set(wasm) == {"dense", "sparse"}, result.stdout
    assert "top-1 Egyptian cat" in wasm["dense"] and all(line.endswith("OK") for line in wasm.values())
    assert "wasm sparse:" in result.stdout and "over wasm dense" in result.stdout


def test_demo_wasm_switch_and_skip_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from sparsebyte.cli import build_parser
    from sparsebyte.demo import wasm_unavailable

    assert build_parser().parse_args(["demo", "--no-wasm"]).no_wasm
    assert not build_parser().parse_args(["demo"]).no_wasm
    assert wasm_unavailable() is None  # node and web/ are here: the step runs (test above)
    monkeypatch.setenv("PATH", str(tmp_path))  # no node on PATH
    assert "node not found" in (wasm_unavailable() or "")
