"""The cffi bindings: load errors, io info, run, profile, threads, intermediates."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from tiny_model import INPUT_SHAPE

import sparsebyte
from sparsebyte import ArgumentError, FileError, FormatError, Model, SparsebyteError, VersionError, sbnformat


def onnx_run(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


# ---- loading ----
def test_missing_file_raises_file_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.sbn"
    with pytest.raises(FileError, match="nope.sbn"):
        Model(path)


def test_garbage_bytes_raise_format_error_with_message() -> None:
    with pytest.raises(FormatError) as info:
        Model(b"this is not a model" * 10)
    assert info.value.message and info.value.status == "SB_ERR_FORMAT"


def test_truncated_file_raises_format_error(tiny_files: dict[str, Path]) -> None:
    data = tiny_files["tiny.sbn"].read_bytes()
    for size in (0, 10, 64, len(data) // 2, len(data) - 1):
        with pytest.raises(FormatError):
            Model(data[:size])


def test_flipped_weight_byte_fails_the_checksum(tiny_files: dict[str, Path]) -> None:
    data = bytearray(tiny_files["tiny.sbn"].read_bytes())
    data[-100] ^= 0xFF  # inside the last section; no valid file changes here without fixing the CRC
    with pytest.raises(FormatError):
        Model(bytes(data))


def test_newer_major_version_raises_version_error(tiny_files: dict[str, Path]) -> None:
    data = bytearray(tiny_files["tiny.sbn"].read_bytes())
    struct.pack_into("<H", data, sbnformat.HDR_VERSION_MAJOR, 2)
    sbnformat.seal(data)
    with pytest.raises(VersionError):
        Model(bytes(data))


def test_errors_are_sparsebyte_errors() -> None:
    assert issubclass(FormatError, SparsebyteError) and issubclass(ArgumentError, ValueError)


def test_load_from_bytes_equals_load_from_file(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    a = Model(tiny_files["tiny.sbn"]).run(tiny_input)
    b = Model(tiny_files["tiny.sbn"].read_bytes()).run(tiny_input)
    np.testing.assert_array_equal(a, b)


# ---- io info and running ----
def test_io_info(tiny_files: dict[str, Path]) -> None:
    m = Model(tiny_files["tiny.sbn"])
    assert [(t.name, t.shape) for t in m.inputs] == [("input", INPUT_SHAPE)]
    assert [(t.name, t.shape) for t in m.outputs] == [("output", (1, 10))]
    assert m.arena_bytes > 0
    assert m.weight_bytes >= 4 * (3 * 16 * 9 + 16 * 9 + 16 * 16 + 16 * 10)
    assert m.backend in ("scalar", "neon", "neon-simde", "wasm-simd128", "x86-sse4.1", "x86-avx2", "x86-avx512")
    assert "input" in repr(m)


@pytest.mark.parametrize("name", ["tiny", "tiny_sparse"])
def test_run_matches_onnxruntime(tiny_files: dict[str, Path], tiny_input: np.ndarray, name: str) -> None:
    out = Model(tiny_files[f"{name}.sbn"]).run(tiny_input)
    assert out.shape == (1, 10) and out.dtype == np.float32
    np.testing.assert_allclose(out, onnx_run(tiny_files[f"{name}.onnx"], tiny_input), atol=1e-5, rtol=0)


def test_float32_inputs_of_any_layout_are_accepted(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    m = Model(tiny_files["tiny.sbn"])
    want = m.run(tiny_input)
    fortran = np.asfortranarray(tiny_input)
    np.testing.assert_array_equal(m.run(fortran), want)
    np.testing.assert_array_equal(m.run({"input": tiny_input}), want)


def test_run_without_inputs_reuses_the_last_ones(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    m = Model(tiny_files["tiny.sbn"])
    np.testing.assert_array_equal(m.run(tiny_input), m.run())


def test_bad_inputs_get_clear_errors(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    m = Model(tiny_files["tiny.sbn"])
    with pytest.raises(ArgumentError, match=r"input 'input': expected shape \(1, 3, 16, 16\), got \(3, 16, 16\)"):
        m.run(tiny_input[0])
    with pytest.raises(ArgumentError, match="unknown \\['x'\\]"):
        m.run({"x": tiny_input})
    with pytest.raises(ArgumentError, match="dtype"):
        m.run(np.full(INPUT_SHAPE, "a"))


def test_threads_do_not_change_results(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    m = Model(tiny_files["tiny_sparse.sbn"])
    one = m.run(tiny_input)
    m.set_threads(2)
    assert m.threads == 2
    np.testing.assert_array_equal(m.run(tiny_input), one)
    np.testing.assert_array_equal(Model(tiny_files["tiny_sparse.sbn"], threads=3).run(tiny_input), one)
    with pytest.raises(ArgumentError, match="threads"):
        m.set_threads(0)


# ---- profile and intermediates ----
def test_profile_reports_every_node(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    m = Model(tiny_files["tiny_sparse.sbn"])
    rows = m.profile(tiny_input)
    assert len(rows) == m.num_nodes > 0
    assert set(rows[0]) == {"name", "op", "kernel", "kernel_family", "time_ms", "macs", "dense_macs"}
    assert all(r["time_ms"] >= 0 and 0 <= r["macs"] <= r["dense_macs"] for r in rows)
    sparse = [r for r in rows if r["op"].endswith("_SPARSE")]
    assert sparse, [r["op"] for r in rows]
    assert all(r["macs"] < r["dense_macs"] and r["kernel"] for r in sparse)
    assert not m.profiling  # profile() turns profiling back off


def test_nodes_are_known_at_load_and_match_the_profile(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    m = Model(tiny_files["tiny_sparse.sbn"])
    nodes = m.nodes  # before any run
    rows = m.profile(tiny_input)
    assert [(n.name, n.op, n.kernel, n.kernel_family, n.macs, n.dense_macs) for n in nodes] == [
        (r["name"], r["op"], r["kernel"], r["kernel_family"], r["macs"], r["dense_macs"]) for r in rows]
    families = {n.op: n.kernel_family for n in nodes}
    assert families["CONV_SPARSE"] in ("f32_spmm", "f32_spconv") and families["ADD"] == "f32_vadd"
    assert all(n.kernel for n in nodes)
    assert all(n.kernel_family == "" for n in nodes if n.kernel.startswith(("ref_", "alias")))


def test_metadata_and_format_version_come_from_the_engine(tiny_files: dict[str, Path]) -> None:
    m = Model(tiny_files["tiny_sparse.sbn"])
    assert m.format_version == (1, 0)
    meta = m.metadata
    assert meta["producer"].startswith("sparsebyte ") and meta["layers"]
    assert m.metadata_bytes is not None and json.loads(m.metadata_bytes) == meta
    layer_nodes = {lay["node"] for lay in meta["layers"]}
    assert layer_nodes <= {n.name for n in m.nodes}


def test_metadata_absent_or_not_json(tiny_files: dict[str, Path]) -> None:
    parsed = sbnformat.read_model(tiny_files["tiny.sbn"])
    bare = Model(parsed.to_writer().to_bytes(None))
    assert bare.metadata_bytes is None and bare.metadata == {}
    broken = Model(parsed.to_writer().to_bytes(["not", "an", "object"]))  # type: ignore[arg-type]
    with pytest.raises(FormatError, match="METADATA is not a JSON object"):
        _ = broken.metadata
    data = bytearray(tiny_files["tiny.sbn"].read_bytes())
    count = struct.unpack_from("<I", data, sbnformat.HDR_SECTION_COUNT)[0]
    entries = [sbnformat.SECTION_ENTRY.unpack_from(data, sbnformat.HEADER_SIZE + i * sbnformat.SECTION_ENTRY_SIZE)
               for i in range(count)]
    offset = next(e[2] for e in entries if e[0] == sbnformat.SECTION_METADATA)
    data[offset] = ord("x")  # was "{"; the CRC is resealed, so only the JSON is wrong
    sbnformat.seal(data)
    with pytest.raises(FormatError, match="METADATA is not JSON"):
        _ = Model(bytes(data)).metadata


def test_keep_intermediates_exposes_tensors(tiny_files: dict[str, Path], tiny_input: np.ndarray) -> None:
    m = Model(tiny_files["tiny.sbn"])
    m.keep_intermediates = True
    out = m.run(tiny_input)
    np.testing.assert_array_equal(m.tensor("output"), out)
    names = m.tensor_names()
    assert "input" in names and "output" in names
    np.testing.assert_array_equal(m.tensor("input"), tiny_input)
    with pytest.raises(ArgumentError, match="no tensor named 'missing'"):
        m.tensor("missing")


def test_import_does_not_load_torch() -> None:
    code = "import sys, sparsebyte; sparsebyte.backend; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert sparsebyte.engine_version()
