"""sparsebyte.sbnformat, the one Python home of the .sbn format: its layout agrees with the C copy
(engine/src/sbn_layout.h) field by field, write -> read -> write is the identity, the reader agrees with the engine,
and written files get the user's umask."""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sparsebyte import Model, sbnformat
from sparsebyte.converters import opspec
from sparsebyte.sbnformat import SbnWriter, read_model, write_atomic

REPO = Path(__file__).resolve().parents[2]
LAYOUT_H = REPO / "engine" / "src" / "sbn_layout.h"


def c_layout(path: Path = LAYOUT_H) -> dict[str, int]:
    """Every integer constant of sbn_layout.h (#defines and enum entries), by name without the SBN_/SB_ prefix."""
    text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    found = {m[1]: int(m[2]) for m in re.finditer(r"#define\s+SBN?_(\w+)\s+(\d+)u?\s*$", text, flags=re.M)}
    found |= {m[1]: int(m[2]) for m in re.finditer(r"\bSBN?_(\w+)\s*=\s*(\d+)", text)}
    return found


def test_layout_constants_match_the_c_header() -> None:
    c = c_layout()
    assert len(c) > 50, sorted(c)  # the parser found the header's constants
    python = {name: getattr(sbnformat, name, None) for name in c}
    assert python == c, {k: (python[k], c[k]) for k in c if python[k] != c[k]}
    assert b'#define SBN_MAGIC "SBN\\0"' in LAYOUT_H.read_bytes() and sbnformat.MAGIC == b"SBN\x00"


def test_layout_drift_is_caught(tmp_path: Path) -> None:
    changed = tmp_path / "sbn_layout.h"
    changed.write_text(LAYOUT_H.read_text().replace("#define SBN_NODE_ATTRS 40", "#define SBN_NODE_ATTRS 44"))
    assert c_layout(changed)["NODE_ATTRS"] == 44 != sbnformat.NODE_ATTRS


def field_offsets(s: struct.Struct) -> list[int]:
    """Byte offset of every field of a little-endian struct format (arrays like 6I count as one field per element)."""
    codes = re.findall(r"(\d*)([a-zA-Z])", s.format.lstrip("<"))
    offsets, pos = [], 0
    for count, code in codes:
        n = int(count or 1)
        if code == "s":
            offsets.append(pos)
            pos += n
        else:
            for _ in range(n):
                offsets.append(pos)
                pos += struct.calcsize("<" + code)
    return offsets


@pytest.mark.parametrize("entry, size, prefix", [
    (sbnformat.HEADER, sbnformat.HEADER_SIZE, "HDR_"),
    (sbnformat.SECTION_ENTRY, sbnformat.SECTION_ENTRY_SIZE, "SEC_"),
    (sbnformat.TENSOR_ENTRY, sbnformat.TENSOR_ENTRY_SIZE, "TENSOR_"),
    (sbnformat.NODE_ENTRY, sbnformat.NODE_ENTRY_SIZE, "NODE_"),
])
def test_entry_structs_put_every_field_at_its_named_offset(entry: struct.Struct, size: int, prefix: str) -> None:
    assert entry.size == size
    named = sorted(v for k, v in vars(sbnformat).items()
                   if k.startswith(prefix) and isinstance(v, int) and not k.endswith(("_SIZE", "_CONSTANT")))
    assert set(named) <= set(field_offsets(entry)), (named, field_offsets(entry))


def every_op_writer(newer_ops: bool = True) -> SbnWriter:
    """A graph using every op, both dtypes, an empty constant, activations with parameters and every attr layout.
    newer_ops=False keeps to the ops of format 1.0, a graph the engine also loads."""
    rng = np.random.default_rng(0)
    w = SbnWriter()
    x = w.add_tensor("x", (1, 8, 6, 6))
    conv = dict(kh=3, kw=3, stride_h=1, stride_w=1, pad_top=1, pad_left=1, pad_bottom=1, pad_right=1, dilation_h=1,
                dilation_w=1, groups=1)
    c1 = w.add_tensor("c1", (1, 8, 6, 6))
    w.add_node("CONV", "conv", [x, w.add_constant("w1", rng.standard_normal((8, 8, 3, 3)))], [c1], conv,
               ("CLIP", 0.0, 6.0))
    nnz, idx = np.array([2, 0], np.int32), np.array([1, 5], np.int32)
    c2 = w.add_tensor("c2", (1, 8, 6, 6))
    w.add_node("CONV_SPARSE", "sparse", [c1, w.add_constant("nnz", nnz), w.add_constant("idx", idx),
                                         w.add_constant("val", rng.standard_normal((2, 1, 4)))], [c2],
               {**conv, "kh": 1, "kw": 1, "pad_top": 0, "pad_left": 0, "pad_bottom": 0, "pad_right": 0, "G": 4},
               ("HARDSIGMOID", 0.2, 0.5))
    names = ["ADD", "MUL", "ACTIVATION", "CHANNEL_AFFINE"]
    prev = c2
    for i, op in enumerate(names):
        y = w.add_tensor(f"e{i}", (1, 8, 6, 6))
        extra = [w.add_constant(f"k{i}", rng.standard_normal((8, 1, 1)))] if op in ("ADD", "MUL") else []
        if op == "CHANNEL_AFFINE":
            extra = [w.add_constant("s", np.ones(8)), w.add_constant("t", np.zeros(8))]
        w.add_node(op, op.lower(), [prev, *extra], [y], act=("HARDSWISH", 0.0, 0.0) if op == "ACTIVATION" else
                   ("NONE", 0.0, 0.0))
        prev = y
    cat = w.add_tensor("cat", (1, 16, 6, 6))
    w.add_node("CONCAT", "concat", [prev, c1], [cat], {"axis": 1})
    mp = w.add_tensor("mp", (1, 16, 3, 3))
    pool = dict(kh=2, kw=2, stride_h=2, stride_w=2)
    w.add_node("MAX_POOL", "maxpool", [cat], [mp], pool)
    ap = w.add_tensor("ap", (1, 16, 3, 3))
    w.add_node("AVG_POOL", "avgpool", [mp], [ap], {**pool, "kh": 1, "kw": 1, "stride_h": 1, "stride_w": 1,
                                                   "count_include_pad": 1})
    g = w.add_tensor("g", (1, 16, 1, 1))
    w.add_node("GLOBAL_AVG_POOL", "gap", [ap], [g])
    f = w.add_tensor("f", (1, 16))
    w.add_node("RESHAPE", "flatten", [g], [f])
    fc = w.add_tensor("fc", (1, 4))
    w.add_node("FC", "fc", [f, w.add_constant("wf", rng.standard_normal((4, 16))),
                            w.add_constant("bf", rng.standard_normal(4))], [fc], act=("SIGMOID", 0.0, 0.0))
    fs = w.add_tensor("fs", (1, 4))
    w.add_node("FC_SPARSE", "fc_sparse", [fc, w.add_constant("fnnz", np.array([1], np.int32)),
                                          w.add_constant("fidx", np.array([3], np.int32)),
                                          w.add_constant("fval", rng.standard_normal((1, 1, 4)))], [fs], {"G": 4})
    y = w.add_tensor("y", (1, 4))
    w.add_node("SOFTMAX", "softmax", [fs], [y], {"axis": 1})
    w.add_constant("empty", np.zeros((0, 3), np.float32))  # unused; a dim may be 0 only for constants
    outputs = [y, fc]
    if newer_ops:
        outputs.append(w.add_tensor("xt", (1, 6, 6, 8)))
        w.add_node("TRANSPOSE", "transpose", [x], [outputs[-1]], {"perm": [0, 2, 3, 1]})
        # Every other op of the spec: a node with each named slot set to a distinct value (the writer and reader
        # only, never loaded by the engine), so an op added to the spec is round-tripped without an edit here.
        for op in opspec.OPERATORS:
            if op.name in {n.op for n in w.nodes}:
                continue
            slots = op.layout.offsets() if op.layout else []
            attrs = {s.name: (list(range(1, s.length + 1)) if s.length > 1 else off + 1) for s, off in slots if s.name}
            outputs.append(w.add_tensor(f"out_{op.name.lower()}", (1, 8, 6, 6)))
            w.add_node(op.name, op.name.lower(), [x] * op.min_inputs, [outputs[-1]], attrs)
    w.set_graph([x], outputs)
    return w


def test_every_op_is_covered() -> None:
    assert {n.op for n in every_op_writer().nodes} == set(sbnformat.OPS)


@pytest.mark.parametrize("metadata", [None, {"producer": "test", "layers": [{"node": "conv", "sparsity": 0.5}]}])
def test_write_read_write_is_the_identity(metadata: dict | None) -> None:
    w = every_op_writer()
    data = w.to_bytes(metadata)
    model = read_model(data)
    assert model.version == (sbnformat.VERSION_MAJOR, sbnformat.VERSION_MINOR)
    assert model.metadata == metadata
    assert [t.name for t in model.tensors] == [t.name for t in w.tensors]
    assert [t.shape for t in model.tensors] == [t.shape for t in w.tensors]
    for t, orig in zip(model.tensors, w.tensors, strict=True):
        assert (t.data is None) == (orig.data is None)
        if t.data is not None:
            assert t.data.tobytes() == orig.data and t.dtype == ("<i4" if orig.dtype == sbnformat.DTYPE_I32 else "<f4")
    assert [(n.op, n.name, n.inputs, n.outputs, n.attrs) for n in model.nodes] == [
        (n.op, n.name, n.inputs, n.outputs, n.attrs) for n in w.nodes]
    assert [n.act for n in model.nodes] == [(a, np.float32(p0), np.float32(p1)) for a, p0, p1 in
                                            (n.act for n in w.nodes)]
    assert (model.inputs, model.outputs) == (w.inputs, w.outputs)
    assert model.to_writer().to_bytes(model.metadata) == data


def test_the_engine_reads_what_the_reader_reads() -> None:
    data = every_op_writer(newer_ops=False).to_bytes({"producer": "test"})
    parsed, engine = read_model(data), Model(data)
    assert [(n.name, n.op) for n in parsed.nodes] == [(n.name, n.op) for n in engine.nodes]
    assert engine.tensor_names() == [t.name for t in parsed.tensors]
    assert engine.metadata == parsed.metadata and engine.format_version == parsed.version


def test_seal_restores_the_writers_crcs() -> None:
    data = every_op_writer().to_bytes({"producer": "test"})
    broken = bytearray(data)
    for pos in (sbnformat.HDR_CRC, sbnformat.HDR_TABLE_CRC, sbnformat.HEADER_SIZE + sbnformat.SEC_CRC):
        struct.pack_into("<I", broken, pos, 0xDEADBEEF)
    sbnformat.seal(broken)
    assert bytes(broken) == data
    sbnformat.seal(bytearray(b"SBN\0" + b"\xff" * 100))  # garbage: no exception, nothing outside the buffer


@pytest.mark.parametrize("where, message", [(0, "not a .sbn file"), (sbnformat.HDR_CRC + 1, "header CRC mismatch"),
                                            (sbnformat.HEADER_SIZE + 4, "section table")])
def test_reader_errors_name_the_problem(where: int, message: str) -> None:
    data = bytearray(every_op_writer().to_bytes())
    data[where] ^= 0x5A
    with pytest.raises(ValueError, match=message):
        read_model(bytes(data))


# ---- output files get the user's umask ----
@pytest.fixture()
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_current_umask_reads_the_process_umask(umask_027: None) -> None:
    assert sbnformat.current_umask() == 0o027
    assert os.umask(0o027) == 0o027  # left unchanged


def test_new_files_get_the_mode_open_would_give(tmp_path: Path, umask_027: None) -> None:
    plain = tmp_path / "plain.sbn"
    with open(plain, "wb"):
        pass
    atomic = tmp_path / "atomic.sbn"
    write_atomic(atomic, b"data")
    assert mode(atomic) == mode(plain) == 0o640
    assert atomic.read_bytes() == b"data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atomic.sbn", "plain.sbn"]  # no temporary left


def test_replacing_a_file_keeps_its_mode(tmp_path: Path, umask_027: None) -> None:
    target = tmp_path / "m.sbn"
    target.write_bytes(b"old")
    target.chmod(0o604)
    every_op_writer().write(target)
    assert mode(target) == 0o604 and read_model(target).nodes


def test_a_symlink_is_written_through(tmp_path: Path, umask_027: None) -> None:
    real = tmp_path / "real.sbn"
    real.write_bytes(b"old")
    link = tmp_path / "link.sbn"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_a_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "m.sbn"
    target.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["m.sbn"]
