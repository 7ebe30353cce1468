"""The qemu device end to end (no fakes): the static aarch64 runner under qemu-aarch64 with the instruction-counting
plugin built on demand; per-op counts, outputs, the `profile` command's table, JSON and plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from device_support import INPUT_SHAPE, make_tiny_models, sparsebyte
from PIL import Image

from sparsebyte import Model
from sparsebyte.devices import QemuDevice, get_device, tools
from sparsebyte.devices.qemu import count_program
from sparsebyte.report import build_profile, format_table


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_tiny_models(tmp_path_factory.mktemp("models"))


def test_counts_are_per_op_deterministic_and_outputs_match_the_host(models: dict[str, Path], tmp_path: Path) -> None:
    x = np.random.default_rng(1).standard_normal(INPUT_SHAPE, dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    device = get_device("qemu")
    first = device.run(models["tiny_sparse"], [tmp_path / "x.npy"], num_outputs=1)
    again = device.run(models["tiny_sparse"], [tmp_path / "x.npy"], num_outputs=1)
    np.testing.assert_allclose(first.outputs[0], Model(models["tiny_sparse"]).run(x), atol=1e-5, rtol=0)
    report = first.report
    assert report["device"] == "qemu" and report["backend"] == "neon" and device.metric == "insns"
    counts = [op["insns"] for op in report["ops"]]
    assert counts == [op["insns"] for op in again.report["ops"]]  # deterministic, unlike emulated time
    assert all(c > 0 for c in counts)
    # the per-op counts cover the run: only the executor's bookkeeping between nodes is outside them
    assert 0.9 * report["run_insns"] <= sum(counts) <= report["run_insns"] < report["process_insns"]


def test_sparse_layers_execute_fewer_instructions(models: dict[str, Path]) -> None:
    device = QemuDevice()
    sparse, dense = (build_profile(models[n], device.run(models[n]).report, device.metric)
                     for n in ("tiny_sparse", "tiny"))
    pw_sparse, pw_dense = (next(r for r in p.rows if r.name == "/pw/pw.0/Conv") for p in (sparse, dense))
    assert pw_sparse.sparsity == 0.5 and pw_dense.sparsity == 0.0
    assert pw_sparse.insns < 0.8 * pw_dense.insns and "spmm" in pw_sparse.kernel and "gemm" in pw_dense.kernel
    dw_sparse, dw_dense = (next(r for r in p.rows if r.op == "CONV" and "dwconv" in r.kernel) for p in (sparse, dense))
    assert dw_sparse.insns == pytest.approx(dw_dense.insns, rel=0.01)  # depthwise stays dense in both
    table = format_table(sparse)
    assert "insns" in table.splitlines()[0] and f"{pw_sparse.insns:,}" in table and "50%" in table


def test_without_counting_the_runner_times_are_reported(models: dict[str, Path]) -> None:
    run = QemuDevice(count_insns=False).run(models["tiny"], num_outputs=1)
    assert "insns" not in run.report["ops"][0] and run.report["latency_ms"]["median"] > 0
    assert run.outputs[0].shape == (1, 10)


def test_profile_compare_prints_both_and_writes_the_plots(models: dict[str, Path], tmp_path: Path) -> None:
    result = sparsebyte("profile", models["tiny_sparse"], "--device", "qemu", "--compare", models["tiny"],
                        "--plot", tmp_path / "cmp")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "a = " in lines[0] and lines[0].count("tiny_sparse.sbn") == 1 and "tiny.sbn (qemu)" in lines[0]
    assert "a insns" in lines[1] and "b insns" in lines[1]
    pw = next(line for line in lines if line.startswith("/pw/pw.0/Conv"))
    assert "50%" in pw and "spmm" in pw and "gemm" in pw
    # the whole-model verdict, either way round: the sparse pw layer is cheaper (above), but the tiny 3-channel stem
    # runs faster dense (the NEON few-input-channel path) than kernel-level sparse at 50 %
    assert any(f"{a} needs" in lines[-1] and f"fewer instructions than {b}" in lines[-1]
               for a, b in (("tiny_sparse", "tiny"), ("tiny", "tiny_sparse")))
    with Image.open(tmp_path / "cmp.png") as image:
        assert image.format == "PNG" and image.width > 800 and image.height > 7 * 18
        colors = {c for _, c in image.getcolors(1 << 16)}
    assert (0x3B, 0x6F, 0xB6) in colors and (0xE0, 0x7B, 0x39) in colors  # bars of both models
    page = (tmp_path / "cmp.html").read_text()
    assert page.count("<svg") == 1 and "/pw/pw.0/Conv" in page and "cost (insns)" in page


def test_profile_json_and_default_plot_names(models: dict[str, Path], tmp_path: Path) -> None:
    model = tmp_path / "net.sbn"
    model.write_bytes(models["tiny_sparse"].read_bytes())
    result = sparsebyte("profile", model, "--device", "qemu", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    profile = json.loads(result.stdout)
    assert profile["metric"] == "insns" and profile["run_insns"] > 0
    assert {"name", "op", "kernel", "time_ms", "macs", "dense_macs", "insns", "sparsity", "group"} <= set(
        profile["rows"][0])
    assert (tmp_path / "net.profile.png").is_file() and (tmp_path / "net.profile.html").is_file()


def test_per_function_counts_and_any_program(models: dict[str, Path]) -> None:
    report = QemuDevice(functions=True).run(models["tiny_sparse"]).report
    functions = report["functions"]
    spmm = {name: n for name, n in functions.items() if "spmm" in name}
    assert spmm and all(n > 0 for n in spmm.values()) and "main" in functions
    assert sum(functions.values()) <= report["process_insns"]
    # any static aarch64 program, marks by symbol name: the runner's usage path enters main once
    proc, counts, address = count_program(tools.aarch64_runner(), ["--help"], marks=("main", "sb_model_run"))
    assert proc.stdout.startswith("usage: sparsebyte-run")
    assert len(counts.at(address["main"])) == 1 and counts.at(address["sb_model_run"]) == []
    assert 0 < counts.at(address["main"])[0] < counts.total
