"""Robustness of the converter: every class of malformed ONNX gets a ConversionError naming the problem and leaves no
file (an existing output stays untouched), writes are atomic under a real write failure, byte-mutated ONNX files never
raise anything but ConversionError, and a converted model round-trips (write -> read -> write gives the same bytes)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx_helpers import model, node, rand, sparse_weight
from op_cases import CASES

from sparsebyte.converters import ConversionError, convert
from sparsebyte.sbnformat import read_model

REPO = Path(__file__).resolve().parents[2]
PREVIOUS = b"previous contents"


def conv_relu(w: np.ndarray | None = None, opset: int = 17, x_shape: tuple = (1, 3, 8, 8),
              inits: bool = True) -> onnx.ModelProto:
    w = rand(np.random.default_rng(0), 4, 3, 3, 3) if w is None else w
    return model([node("Conv", ["x", "W"], ["c"], name="stem_conv", pads=[1, 1, 1, 1]), node("Relu", ["c"], ["y"])],
                 {"x": x_shape}, ["y"], {"W": w} if inits else {}, opset=opset, check=False)


def with_weight(value: float) -> bytes:
    w = rand(np.random.default_rng(1), 4, 3, 3, 3)
    w[2, 1, 0, 2] = value
    return conv_relu(w).SerializeToString()


def non_utf8_node_name() -> bytes:
    data = conv_relu().SerializeToString()
    return data.replace(b"stem_conv", b"stem\xff\xfeonv")


def dynamic_spatial_dims() -> bytes:
    return conv_relu(x_shape=(1, 3, "height", "width")).SerializeToString()


def reshape_to_runtime_shape() -> bytes:
    """Reshape whose target shape is computed from a second graph input: not resolvable at conversion time."""
    g = helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape_dyn")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 12]),
                           helper.make_tensor_value_info("s", TensorProto.FLOAT, [2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


# (id, bytes of the .onnx file, fragments the error must contain)
MALFORMED: list[tuple[str, Callable[[], bytes], tuple[str, ...]]] = [
    ("random_bytes", lambda: np.random.default_rng(3).bytes(700), ("bad ONNX file", "cannot parse")),
    ("truncated", lambda: conv_relu().SerializeToString()[:150], ("bad ONNX file", "cannot parse")),
    ("empty_file", lambda: b"", ("bad ONNX file", "has no graph")),
    ("tensor_not_model", lambda: numpy_helper.from_array(np.ones(4, np.float32), "t").SerializeToString(),
     ("bad ONNX file",)),
    ("non_utf8_name", non_utf8_node_name, ("bad ONNX file", "not valid UTF-8")),
    ("missing_initializer", lambda: conv_relu(inits=False).SerializeToString(),
     ("stem_conv", "Conv", "'W'", "missing initializer")),
    ("dynamic_input_shape", dynamic_spatial_dims, ("graph input 'x' has dynamic shape", "height", "input_shapes")),
    ("dynamic_reshape_target", reshape_to_runtime_shape, ("reshape_dyn", "Reshape")),
    ("opset_too_old", lambda: conv_relu(opset=6).SerializeToString(), ("unsupported opset 6",)),
    ("opset_too_new", lambda: conv_relu(opset=99).SerializeToString(), ("unsupported opset 99",)),
    ("nan_weight", lambda: with_weight(float("nan")), ("stem_conv", "NaN or Inf")),
    ("inf_weight", lambda: with_weight(float("inf")), ("stem_conv", "NaN or Inf")),
    ("minus_inf_weight", lambda: with_weight(-float("inf")), ("stem_conv", "NaN or Inf")),
]


@pytest.mark.parametrize("case_id,build,fragments", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_onnx_named_error_and_no_file(tmp_path: Path, case_id: str, build: Callable[[], bytes],
                                                fragments: tuple[str, ...]) -> None:
    src = tmp_path / "bad.onnx"
    src.write_bytes(build())
    out = tmp_path / "out.sbn"
    out.write_bytes(PREVIOUS)
    with pytest.raises(ConversionError) as info:
        convert(src, out)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))
    assert out.read_bytes() == PREVIOUS
    assert sorted(os.listdir(tmp_path)) == ["bad.onnx", "out.sbn"]  # no temporary file left behind


@pytest.mark.parametrize("case_id", ["random_bytes", "non_utf8_name", "nan_weight"])
def test_cli_reports_malformed_onnx_without_traceback(tmp_path: Path, case_id: str) -> None:
    build, fragments = next((b, f) for i, b, f in MALFORMED if i == case_id)
    src = tmp_path / "bad.onnx"
    src.write_bytes(build())
    proc = subprocess.run([sys.executable, "-m", "sparsebyte", "convert", str(src), "-o", str(tmp_path / "o.sbn")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr
    assert fragments[-1] in proc.stderr, proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["bad.onnx"]


def test_write_failure_is_atomic(tmp_path: Path) -> None:
    """A real write failure half-way (RLIMIT_FSIZE below the file size, in a child process): the converter raises
    ConversionError, the previous output is intact and no temporary file is left."""
    src = tmp_path / "m.onnx"
    onnx.save(conv_relu(rand(np.random.default_rng(2), 64, 3, 3, 3)), src)
    out = tmp_path / "out.sbn"
    out.write_bytes(PREVIOUS)
    script = textwrap.dedent(f"""
        import resource, signal, sys
        from sparsebyte.converters import ConversionError, convert
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            convert({str(src)!r}, {str(out)!r})
        except ConversionError as e:
            print("ConversionError:", e)
            sys.exit(3)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "cannot write" in proc.stdout
    assert out.read_bytes() == PREVIOUS
    assert sorted(os.listdir(tmp_path)) == ["m.onnx", "out.sbn"]
    convert(src, out)  # without the limit the same conversion succeeds and replaces the file
    assert out.read_bytes()[:4] == b"SBN\0"


@pytest.mark.parametrize("seed", range(4))
def test_byte_mutated_onnx_only_raises_conversion_error(tmp_path: Path, seed: int) -> None:
    """Random byte edits of real ONNX files (names, dims, attributes, raw weights): convert or ConversionError."""
    rng = np.random.default_rng(seed)
    outcomes = {"ok": 0, "error": 0}
    src, out = tmp_path / "m.onnx", tmp_path / "m.sbn"
    for case in CASES[seed::8]:
        data = bytearray(case.build()[0].SerializeToString())
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        src.write_bytes(bytes(data))
        try:
            convert(src, out)
            outcomes["ok"] += 1
        except ConversionError as e:
            assert str(e)
            outcomes["error"] += 1
        out.unlink(missing_ok=True)
    assert outcomes["error"] > 0 and outcomes["ok"] > 0, outcomes


def sparse_net(g: int) -> onnx.ModelProto:
    rng = np.random.default_rng(g)
    inits = {"W1": sparse_weight(rng, 16, 8, 1, 1, g, 0.4), "W2": sparse_weight(rng, 12, 16, 3, 3, g, 0.5),
             "B2": rand(rng, 12), "Wf": rand(rng, 5, 12)}
    nodes = [node("Conv", ["x", "W1"], ["a"], name="pw"), node("Relu", ["a"], ["r"]),
             node("Conv", ["r", "W2", "B2"], ["b"], name="k3", pads=[1, 1, 1, 1], strides=[2, 2]),
             node("GlobalAveragePool", ["b"], ["p"]), node("Flatten", ["p"], ["f"]),
             node("Gemm", ["f", "Wf"], ["y"], name="fc", transB=1)]
    return model(nodes, {"x": (1, 8, 8, 8)}, ["y"], inits)


ROUND_TRIP = [("dense_conv", lambda: conv_relu(), {}), *[(f"sparse_g{g}", (lambda g=g: sparse_net(g)),
                                                          {"group": g, "sparse_threshold": 1.0}) for g in (1, 2, 4, 8)]]


@pytest.mark.parametrize("name,build,options", ROUND_TRIP, ids=[r[0] for r in ROUND_TRIP])
def test_round_trip_write_read_write(tmp_path: Path, name: str, build: Callable[[], onnx.ModelProto],
                                     options: dict) -> None:
    out = tmp_path / f"{name}.sbn"
    report = convert(build(), out, **options)
    original = out.read_bytes()
    parsed = read_model(out)
    assert len(parsed.nodes) == report.node_count
    assert parsed.metadata is not None and parsed.metadata["source"] == report.source
    if options:
        assert any(n.op == "CONV_SPARSE" for n in parsed.nodes)
    assert parsed.to_writer().to_bytes(parsed.metadata) == original
    again = read_model(original)
    assert again.to_writer().to_bytes(again.metadata) == original


def test_round_trip_of_the_fuzz_seed_corpus() -> None:
    """The seed corpus (converter output for every op and G, and a MobileNet-ish net) round-trips byte for byte."""
    files = sorted((REPO / "fuzz" / "corpus").glob("*.sbn"))
    assert files
    for path in files:
        parsed = read_model(path)
        assert parsed.to_writer().to_bytes(parsed.metadata) == path.read_bytes(), path.name


@pytest.mark.parametrize("where,message", [(0, "not a .sbn file"), (61, "header CRC mismatch"),
                                           (70, "section table"), (b"producer", "section METADATA CRC mismatch")])
def test_reader_rejects_corrupt_files_by_name(tmp_path: Path, where: int | bytes, message: str) -> None:
    out = tmp_path / "m.sbn"
    convert(conv_relu(), out)
    data = bytearray(out.read_bytes())
    data[where if isinstance(where, int) else data.find(where)] ^= 0x5A
    bad = tmp_path / "bad.sbn"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=message) as info:
        read_model(bad)
    assert str(bad) in str(info.value)
