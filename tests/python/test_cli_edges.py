"""The CLI at its edges: paths that would lose data (output = input, empty -o, Ctrl-C), files that are valid to the
engine but odd elsewhere (METADATA of any JSON shape), references that do not fit, and the one error path: a
one-line message, exit 2 for usage/input errors, 1 only for a failed check, 3 for a bug, 130 for Ctrl-C."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from sparsebyte import cli, sbnformat


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    status = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status: int, err: str, expected_status: int, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert status == expected_status, err
    assert len(lines) == 1 and lines[0].startswith("sparsebyte: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], err


# ---- convert: never overwrite the input, never leave a file after Ctrl-C ----
@pytest.mark.parametrize("how", ["same path", "relative and absolute", "hard link", "symlink", "default output"])
def test_convert_refuses_to_overwrite_its_input(how: str, tiny_files: dict[str, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = tmp_path / ("model.sbn" if how == "default output" else "model.onnx")  # ONNX bytes named .sbn
    original = tiny_files["tiny.onnx"].read_bytes()
    source.write_bytes(original)
    args = [source.name]
    if how == "same path":
        args += ["-o", source.name]
    elif how == "relative and absolute":
        args += ["-o", tmp_path / "." / source.name]
    elif how == "hard link":
        os.link(source, tmp_path / "other.onnx")
        args += ["-o", "other.onnx"]
    elif how == "symlink":
        (tmp_path / "out.sbn").symlink_to(source)
        args += ["-o", "out.sbn"]
    status, _, err = run_cli(capsys, "convert", *args)
    assert_one_line_error(status, err, 2, "refusing to overwrite", "input model")
    assert source.read_bytes() == original


def test_convert_refuses_an_empty_output_name(tiny_files: dict[str, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "m.onnx"
    source.write_bytes(tiny_files["tiny.onnx"].read_bytes())
    for empty in ("", "  "):
        status, _, err = run_cli(capsys, "convert", source, "-o", empty)
        assert_one_line_error(status, err, 2, "-o/--output is empty")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]  # not the default m.sbn either


def test_convert_writes_through_a_symlinked_output(tiny_files: dict[str, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "store" / "model.sbn"
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o644)
    (tmp_path / "link.sbn").symlink_to(target)
    status, _, err = run_cli(capsys, "convert", tiny_files["tiny.onnx"], "-o", tmp_path / "link.sbn")
    assert status == 0, err
    assert (tmp_path / "link.sbn").is_symlink() and target.read_bytes()[:4] == b"SBN\0"
    assert target.stat().st_mode & 0o777 == 0o644


def _interrupt(*_: object, **__: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("moment", ["converting", "right after the rename", "printing the report"])
@pytest.mark.parametrize("existing", [False, True])
def test_ctrl_c_in_convert_leaves_no_new_file(moment: str, existing: bool, tiny_files: dict[str, Path],
                                              tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import sparsebyte.converters.api as api

    out = tmp_path / "out.sbn"
    if existing:
        out.write_bytes(b"previous")
    if moment == "converting":
        monkeypatch.setattr(api, "sparsify", _interrupt)
    elif moment == "right after the rename":  # the signal lands between os.replace and write_atomic's return
        real_replace = os.replace

        def replace_then_interrupt(src: str, dst: str) -> None:
            real_replace(src, dst)
            raise KeyboardInterrupt

        monkeypatch.setattr(os, "replace", replace_then_interrupt)
    else:
        monkeypatch.setattr(api.ConversionReport, "__str__", _interrupt)
    status, _, err = run_cli(capsys, "convert", tiny_files["tiny.onnx"], "-o", out)
    assert status == 130 and err.strip().splitlines() == ["sparsebyte: interrupted"], err
    left = sorted(p.name for p in tmp_path.iterdir())
    if existing and moment == "converting":  # interrupted before the rename: the previous file is untouched
        assert left == ["out.sbn"] and out.read_bytes() == b"previous"
    else:
        assert left == [], left  # exit 130 never leaves a new (complete) output, nor a temporary file


IMPORT_INTERRUPT = """
import sys

class Interrupt:  # a Ctrl-C that lands while `module` is being imported
    def find_spec(self, name, path=None, target=None):
        if name == sys.argv[1]:
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, Interrupt())
from sparsebyte.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("module", ["numpy", "onnx"])
def test_ctrl_c_during_imports_is_one_line(module: str, tiny_files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.sbn"
    result = subprocess.run([sys.executable, "-c", IMPORT_INTERRUPT, module, "convert", str(tiny_files["tiny.onnx"]),
                             "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 130 and result.stderr.strip().splitlines() == ["sparsebyte: interrupted"], \
        result.stderr
    assert not out.exists()


# ---- info / profile: METADATA passes its CRC but has any JSON shape ----
def with_metadata(src: Path, raw: bytes, dst: Path) -> Path:
    """src's graph with the METADATA section's bytes replaced by raw (JSON allows the trailing blanks)."""
    holder = {"p": "x" * (len(raw) + 8)}
    data = bytearray(sbnformat.read_model(src).to_writer().to_bytes(holder))
    payload = json.dumps(holder, sort_keys=True).encode()
    at = data.index(payload)
    data[at:at + len(payload)] = raw.ljust(len(payload), b" ")
    sbnformat.seal(data)
    dst.write_bytes(bytes(data))
    return dst


ODD_METADATA = {
    "a list": b"[1, 2]", "a number": b"42", "a string": b'"notes"', "not JSON": b"{layers",
    "layers a number": b'{"layers": 5}', "layers a string": b'{"layers": "abc"}',
    "layers an object": b'{"layers": {"node": "x"}}', "totals a list": b'{"totals": [1], "layers": []}',
    "totals of strings": b'{"totals": {"layers": "3", "sparse_layers": null}}',
    "odd layer fields": json.dumps({"layers": [{"node": "/stem/stem.0/Conv", "sparsity": "half", "group": [4],
                                                "choice": 3}, {"node": ["x"]}, None, 1, "s"]}).encode(),
    "odd numbers": b'{"layers": [{"node": "/stem/stem.0/Conv", "sparsity": 1e400, "group": true}]}',
    "producer an object": b'{"producer": {"a": 1}, "source": null}',
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep nesting inside": b'{"layers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}
IGNORED = {"a list", "a number", "a string", "not JSON", "deep nesting"}  # the METADATA as a whole is unusable


@pytest.mark.parametrize("shape", sorted(ODD_METADATA))
def test_info_and_profile_take_any_metadata_shape(shape: str, tiny_files: dict[str, Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = with_metadata(tiny_files["tiny_sparse.sbn"], ODD_METADATA[shape], tmp_path / "odd.sbn")
    for command in (["info", path], ["profile", path, "--no-plot", "--repeat", "1", "--warmup", "0"]):
        status, out, err = run_cli(capsys, *command)
        assert status == 0, (command[0], err)
        assert "/pw/pw.0/Conv" in out and "MACs" in out, (command[0], out)  # the engine's part is all there
        warnings = [line for line in err.splitlines() if "warning" in line]
        if shape in IGNORED or shape == "deep nesting inside":
            assert len(warnings) == 1 and "METADATA ignored" in warnings[0], (command[0], err)
        else:
            assert not warnings, err


def test_info_still_reads_good_metadata(tiny_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "info", tiny_files["tiny_sparse.sbn"])
    assert status == 0 and "50.0%" in out and "conv/fc layers sparse" in out


# ---- check / bench: references that do not fit ----
@pytest.fixture(scope="module")
def odd_references(tmp_path_factory: pytest.TempPathFactory, tiny_files: dict[str, Path]) -> dict[str, Path]:
    import torch
    from tiny_model import tiny_net

    from sparsebyte.models.export import export_onnx

    root = tmp_path_factory.mktemp("references")

    class TwoClasses(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, :2].mean((2, 3))

    data = tiny_files["tiny.onnx"].read_bytes()
    (root / "truncated.onnx").write_bytes(data[: len(data) // 2])
    (root / "garbage.onnx").write_bytes(b"\x00garbage")
    return {"other input shape": export_onnx(tiny_net(), root / "shape.onnx", (1, 3, 20, 20)),
            "other output size": export_onnx(TwoClasses(), root / "out.onnx", (1, 3, 16, 16)),
            "truncated": root / "truncated.onnx", "garbage": root / "garbage.onnx"}


@pytest.mark.parametrize("case, fragment", [("other input shape", "[1, 3, 20, 20]"), ("truncated", "truncated.onnx"),
                                            ("garbage", "garbage.onnx"), ("other output size", "(1, 2)")])
def test_check_with_a_reference_that_does_not_fit(case: str, fragment: str, odd_references: dict[str, Path],
                                                  tiny_files: dict[str, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "check", tiny_files["tiny.sbn"], "--reference", odd_references[case], "-n", "2")
    assert_one_line_error(status, err, 2, fragment)


@pytest.mark.parametrize("case, fragment", [("other input shape", "[1, 3, 20, 20]"), ("truncated", "truncated.onnx"),
                                            ("garbage", "garbage.onnx"), ("other output size", "not the same model")])
def test_bench_with_an_onnx_model_that_does_not_fit(case: str, fragment: str, odd_references: dict[str, Path],
                                                    tiny_files: dict[str, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "bench", tiny_files["tiny.sbn"], "--onnx", odd_references[case], "--repeat", "1")
    assert_one_line_error(status, err, 2, fragment)


def test_bench_reports_how_far_the_outputs_are(tiny_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    onnx_path = tiny_files["tiny.onnx"]
    status, out, _ = run_cli(capsys, "bench", tiny_files["tiny.sbn"], "--onnx", onnx_path, "--repeat", "1")
    assert status == 0
    diff = float(out.split("max abs difference ")[1].split()[0])
    assert 0 <= diff < 1e-4


def test_check_inputs_that_are_not_usable(tiny_files: dict[str, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    images = tmp_path / "images"
    images.mkdir()
    (images / "a.jpg").write_text("not an image")
    ref = tiny_files["tiny.onnx"]
    status, _, err = run_cli(capsys, "check", tiny_files["tiny.sbn"], "--reference", ref, "--images", images)
    assert_one_line_error(status, err, 2, "a.jpg", "cannot read image")
    for n in ("0", "-3"):
        status, _, err = run_cli(capsys, "check", tiny_files["tiny.sbn"], "--reference", ref, "-n", n)
        assert_one_line_error(status, err, 2, f"-n {n}")


# ---- run --output ----
def test_run_output_into_a_missing_folder_fails_before_the_run(tiny_files: dict[str, Path], tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "run", tiny_files["tiny.sbn"], "--output", tmp_path / "nowhere" / "y.npy")
    assert_one_line_error(status, err, 2, "nowhere", "does not exist")
    assert out == ""  # nothing ran


def test_run_output_names_the_file_it_writes(tiny_files: dict[str, Path], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "run", tiny_files["tiny.sbn"], "--output", tmp_path / "name")
    assert status == 0 and f"saved {tmp_path / 'name.npy'}" in err
    assert [p.name for p in tmp_path.iterdir()] == ["name.npy"] and np.load(tmp_path / "name.npy").shape == (1, 10)


def test_run_output_of_several_outputs_with_path_like_names(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from sparsebyte.converters import convert

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["/block/relu:0"]), helper.make_node("Sigmoid", ["x"], ["../sig"])], "two",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 4]) for n in ("/block/relu:0", "../sig")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "two.onnx")
    convert(tmp_path / "two.onnx", tmp_path / "two.sbn")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    status, _, err = run_cli(capsys, "run", tmp_path / "two.sbn", "--output", out_dir / "y.npy")
    assert status == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["y_block_relu_0.npy", "y_sig.npy"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "two.onnx", "two.sbn"]  # nothing outside out/


# ---- the one error path ----
def test_a_bug_is_one_line_and_exit_3(tiny_files: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import sparsebyte.report as report

    def broken(*_: object) -> None:
        raise RuntimeError("an unexpected state")

    monkeypatch.setattr(report, "layer_notes", broken)
    status, _, err = run_cli(capsys, "info", tiny_files["tiny.sbn"])
    assert_one_line_error(status, err, 3, "internal error: RuntimeError: an unexpected state", "SPARSEBYTE_TRACEBACK")
    monkeypatch.setenv("SPARSEBYTE_TRACEBACK", "1")
    status, _, err = run_cli(capsys, "info", tiny_files["tiny.sbn"])
    assert status == 3 and "Traceback" in err and err.strip().splitlines()[-1].startswith("sparsebyte: error: ")


def test_os_errors_are_input_errors(tiny_files: dict[str, Path], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.npy").mkdir()  # a folder where the input file should be
    status, _, err = run_cli(capsys, "run", tiny_files["tiny.sbn"], "--input", tmp_path / "x.npy")
    assert_one_line_error(status, err, 2, "x.npy")
