"""The .sbn format in Python (docs/format.md): its layout constants, the reader and the writer, in one place.

The converter writes through SbnWriter; the TVM generator and the tests read with read_model(); byte-level tests
patch images at the field offsets below and re-seal them with seal(). Operator and activation codes and attribute
slots come from the operator spec (sparsebyte.converters.opspec). The C copy of the layout is engine/src/sbn_layout.h;
tests/python/test_sbnformat.py checks that the two agree. The engine is the validator: read_model checks framing,
CRCs and index ranges, not shapes or operator semantics. What a loaded model's nodes run (kernels, MACs) and its
METADATA come from the engine itself (sparsebyte.runtime.Model.nodes / .metadata), not from here.
tests/converter/sbn_numpy.py keeps an independent reader on purpose (it checks this one).
"""

from __future__ import annotations

import json
import os
import stat
import struct
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sparsebyte.converters.opspec import (
    ACTIVATION_NAMES,
    ACTIVATIONS,
    MAX_RANK,
    NUM_ATTRS,
    OP_NAMES,
    OPS,
    AttrValue,
    pack_attrs,
)

__all__ = ["ACTIVATIONS", "ACTIVATION_NAMES", "OPS", "OP_NAMES", "NUM_ATTRS", "MAX_RANK", "SbnWriter", "SbnModel",
           "SbnTensor", "SbnNode", "read_file", "read_model", "seal", "write_atomic"]

# ---- layout (engine/src/sbn_layout.h has the same names with an SBN_ / SB_ prefix) ----
MAGIC = b"SBN\x00"
MAGIC_SIZE = 4
VERSION_MAJOR = 1
VERSION_MINOR = 0

HEADER_SIZE = 64
HDR_MAGIC = 0
HDR_VERSION_MAJOR = 4
HDR_VERSION_MINOR = 6
HDR_HEADER_SIZE = 8
HDR_SECTION_COUNT = 12
HDR_TABLE_OFFSET = 16
HDR_FILE_SIZE = 24
HDR_FLAGS = 32
HDR_TABLE_CRC = 36
HDR_RESERVED = 40
HDR_CRC = 60
MAX_SECTIONS = 64

SECTION_ENTRY_SIZE = 32
SEC_TYPE = 0
SEC_FLAGS = 4
SEC_OFFSET = 8
SEC_SIZE = 16
SEC_CRC = 24
SEC_RESERVED = 28
ALIGN = 64

SECTION_STRINGS, SECTION_TENSORS, SECTION_NODES, SECTION_NODE_IO, SECTION_GRAPH, SECTION_WEIGHTS, SECTION_METADATA = (
    range(1, 8)
)
SECTION_TYPES = 7
SECTION_NAMES = {SECTION_STRINGS: "STRINGS", SECTION_TENSORS: "TENSORS", SECTION_NODES: "NODES",
                 SECTION_NODE_IO: "NODE_IO", SECTION_GRAPH: "GRAPH", SECTION_WEIGHTS: "WEIGHTS",
                 SECTION_METADATA: "METADATA"}
SECTION_IDS = {name: stype for stype, name in SECTION_NAMES.items()}
TABLE_HEADER_SIZE = 8  # u32 count, u32 reserved (GRAPH: u32 inputs, u32 outputs)

TENSOR_ENTRY_SIZE = 64
TENSOR_NAME_OFFSET = 0
TENSOR_NAME_LENGTH = 4
TENSOR_DTYPE = 8
TENSOR_RANK = 12
TENSOR_DIMS = 16
TENSOR_FLAGS = 40
TENSOR_RESERVED = 44
TENSOR_DATA_OFFSET = 48
TENSOR_DATA_SIZE = 56
TENSOR_FLAG_CONSTANT = 1

NODE_ENTRY_SIZE = 128
NODE_OP = 0
NODE_NAME_OFFSET = 4
NODE_NAME_LENGTH = 8
NODE_INPUT_COUNT = 12
NODE_OUTPUT_COUNT = 16
NODE_IO_START = 20
NODE_ACT_KIND = 24
NODE_ACT_PARAM0 = 28
NODE_ACT_PARAM1 = 32
NODE_RESERVED = 36
NODE_ATTRS = 40

MAX_NAME = 255
DTYPE_F32, DTYPE_I32 = 1, 2
DTYPES = {DTYPE_F32: "<f4", DTYPE_I32: "<i4"}

# Whole entries as structs, field by field in the order of the offsets above.
HEADER = struct.Struct("<4sHHIIQQII20sI")
SECTION_ENTRY = struct.Struct("<IIQQII")
TENSOR_ENTRY = struct.Struct(f"<IIII{MAX_RANK}IIIQQ")
NODE_ENTRY = struct.Struct(f"<IIIIIIIffI{NUM_ATTRS}i")
TABLE_HEADER = struct.Struct("<II")


def align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def seal(data: bytearray, sections: bool = True) -> None:
    """Fills in the CRCs (every section that lies inside the buffer, the section table, the header) in place.
    The writer's last step; tests call it after patching a field so the change reaches the checks behind the CRCs.
    Tolerates any garbage: only fields inside the buffer are read or written."""
    if len(data) < HEADER_SIZE:
        return
    count = struct.unpack_from("<I", data, HDR_SECTION_COUNT)[0]
    if sections:
        for i in range(min(count, MAX_SECTIONS)):
            pos = HEADER_SIZE + i * SECTION_ENTRY_SIZE
            if pos + SECTION_ENTRY_SIZE > len(data):
                break
            offset, size = struct.unpack_from("<QQ", data, pos + SEC_OFFSET)
            if offset + size <= len(data):
                struct.pack_into("<I", data, pos + SEC_CRC, zlib.crc32(data[offset:offset + size]))
    table_end = HEADER_SIZE + count * SECTION_ENTRY_SIZE
    if table_end <= len(data):
        struct.pack_into("<I", data, HDR_TABLE_CRC, zlib.crc32(data[HEADER_SIZE:table_end]))
    struct.pack_into("<I", data, HDR_CRC, zlib.crc32(data[:HDR_CRC]))


# ---- writer ----
@dataclass
class _Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: int
    data: bytes | None  # None for activations


@dataclass
class _Node:
    op: str
    name: str
    inputs: list[int]
    outputs: list[int]
    attrs: list[int]
    act: tuple[str, float, float]


@dataclass
class SbnWriter:
    """Collects tensors and nodes, then serialises them. Indices returned by add_* are tensor ids. It checks names,
    ranks, op and activation names and attribute slots; graph structure and shapes are the engine validator's job
    (tests build malformed graphs with it on purpose)."""

    tensors: list[_Tensor] = field(default_factory=list)
    nodes: list[_Node] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    _names: dict[str, int] = field(default_factory=dict)

    def _add(self, t: _Tensor) -> int:
        if not t.name or len(t.name.encode()) > MAX_NAME:
            raise ValueError(f"tensor name {t.name!r} must be 1..{MAX_NAME} bytes")
        if t.name in self._names:
            raise ValueError(f"duplicate tensor name {t.name!r}")
        if len(t.shape) > MAX_RANK:
            raise ValueError(f"tensor {t.name!r}: rank {len(t.shape)} > {MAX_RANK}")
        self._names[t.name] = len(self.tensors)
        self.tensors.append(t)
        return len(self.tensors) - 1

    def add_tensor(self, name: str, shape: Sequence[int]) -> int:
        """An activation (or graph input): f32, no data."""
        return self._add(_Tensor(name, tuple(int(d) for d in shape), DTYPE_F32, None))

    def add_constant(self, name: str, array: np.ndarray) -> int:
        """A constant; float arrays are stored as f32, integer arrays as i32."""
        a = np.asarray(array)
        if np.issubdtype(a.dtype, np.floating):
            dtype, store = DTYPE_F32, "<f4"
        elif np.issubdtype(a.dtype, np.integer):
            dtype, store = DTYPE_I32, "<i4"
        else:
            raise ValueError(f"constant {name!r}: unsupported dtype {a.dtype}")
        # the shape of `a`, not of ascontiguousarray's result: that makes a scalar (rank 0) rank 1
        return self._add(_Tensor(name, tuple(a.shape), dtype, np.ascontiguousarray(a, dtype=store).tobytes()))

    def tensor_id(self, name: str) -> int:
        return self._names[name]

    def add_node(self, op: str, name: str, inputs: Sequence[int], outputs: Sequence[int],
                 attrs: Mapping[str, AttrValue] | Sequence[int] | None = None,
                 act: tuple[str, float, float] = ("NONE", 0.0, 0.0)) -> None:
        if act[0] not in ACTIVATIONS:
            raise ValueError(f"node {name!r}: unknown activation {act[0]!r}")
        vec = pack_attrs(op, attrs, name)  # checks the op and the attribute names
        self.nodes.append(_Node(op, name, list(inputs), list(outputs), vec, (act[0], float(act[1]), float(act[2]))))

    def set_graph(self, inputs: Sequence[int], outputs: Sequence[int]) -> None:
        self.inputs, self.outputs = list(inputs), list(outputs)

    def to_bytes(self, metadata: dict | None = None) -> bytes:
        strings = bytearray()
        string_pos: dict[str, tuple[int, int]] = {}

        def intern(s: str) -> tuple[int, int]:
            if s not in string_pos:
                b = s.encode()
                string_pos[s] = (len(strings), len(b))
                strings.extend(b)
            return string_pos[s]

        weights = bytearray()
        tensor_table = bytearray(TABLE_HEADER.pack(len(self.tensors), 0))
        for t in self.tensors:
            off, ln = intern(t.name)
            dims = list(t.shape) + [0] * (MAX_RANK - len(t.shape))
            if t.data is not None:
                data_off = len(weights)
                weights += t.data + b"\0" * (align(len(t.data)) - len(t.data))
                flags, size = TENSOR_FLAG_CONSTANT, len(t.data)
            else:
                data_off, flags, size = 0, 0, 0
            tensor_table += TENSOR_ENTRY.pack(off, ln, t.dtype, len(t.shape), *dims, flags, 0, data_off, size)

        node_io: list[int] = []
        node_table = bytearray(TABLE_HEADER.pack(len(self.nodes), 0))
        for n in self.nodes:
            off, ln = intern(n.name)
            io_start = len(node_io)
            node_io += n.inputs + n.outputs
            node_table += NODE_ENTRY.pack(OPS[n.op], off, ln, len(n.inputs), len(n.outputs), io_start,
                                          ACTIVATIONS[n.act[0]], n.act[1], n.act[2], 0, *n.attrs)

        io_section = TABLE_HEADER.pack(len(node_io), 0) + struct.pack(f"<{len(node_io)}I", *node_io)
        graph = TABLE_HEADER.pack(len(self.inputs), len(self.outputs)) + struct.pack(
            f"<{len(self.inputs) + len(self.outputs)}I", *self.inputs, *self.outputs)
        sections = [(SECTION_STRINGS, bytes(strings)), (SECTION_TENSORS, bytes(tensor_table)),
                    (SECTION_NODES, bytes(node_table)), (SECTION_NODE_IO, io_section), (SECTION_GRAPH, graph),
                    (SECTION_WEIGHTS, bytes(weights))]
        if metadata is not None:
            sections.append((SECTION_METADATA, json.dumps(metadata, sort_keys=True).encode()))

        table = bytearray()
        body = bytearray()
        pos = align(HEADER_SIZE + SECTION_ENTRY_SIZE * len(sections))
        for stype, payload in sections:
            table += SECTION_ENTRY.pack(stype, 0, pos, len(payload), 0, 0)  # CRCs: seal() below
            body += payload + b"\0" * (align(len(payload)) - len(payload))
            pos += align(len(payload))
        gap = align(HEADER_SIZE + len(table)) - (HEADER_SIZE + len(table))
        file_size = HEADER_SIZE + len(table) + gap + len(body)
        out = bytearray(HEADER.pack(MAGIC, VERSION_MAJOR, VERSION_MINOR, HEADER_SIZE, len(sections), HEADER_SIZE,
                                    file_size, 0, 0, b"\0" * 20, 0))
        out += table + b"\0" * gap + body
        assert len(out) == file_size
        seal(out)
        return bytes(out)

    def write(self, path: str | os.PathLike, metadata: dict | None = None) -> None:
        """Atomic (see write_atomic)."""
        write_atomic(path, self.to_bytes(metadata))


def current_umask() -> int:
    """The process umask, read without changing it where Linux reports it (os.umask can only set it, which races
    with other threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Writes data to a temporary file beside path and renames it into place only when complete, so a crash never
    leaves a truncated file. The result has the mode a plain open(path, "wb") would give it: a file being replaced
    keeps its mode, a new one gets 0o666 & ~umask (mkstemp alone would leave 0600). A symlink is written through to
    its target, as open() would."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~current_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---- reader ----
@dataclass
class SbnTensor:
    name: str
    shape: tuple[int, ...]
    dtype: str  # "<f4" or "<i4"
    data: np.ndarray | None = None  # constants (a read-only view of the file's bytes), None for activations


@dataclass
class SbnNode:
    op: str
    name: str
    inputs: list[int]
    outputs: list[int]
    attrs: list[int]
    act: tuple[str, float, float]


@dataclass
class SbnModel:
    version: tuple[int, int]
    tensors: list[SbnTensor]
    nodes: list[SbnNode]
    inputs: list[int]
    outputs: list[int]
    metadata: dict[str, Any] | None

    def to_writer(self) -> SbnWriter:
        """The same graph in an SbnWriter; serialise with .to_bytes(self.metadata)."""
        w = SbnWriter()
        for t in self.tensors:
            if t.data is None:
                w.add_tensor(t.name, t.shape)
            else:
                w.add_constant(t.name, t.data)
        for n in self.nodes:
            w.add_node(n.op, n.name, n.inputs, n.outputs, n.attrs, n.act)
        w.set_graph(self.inputs, self.outputs)
        return w


MAX_FILE_BYTES = 1 << 40  # the engine's SB_MAX_FILE_BYTES (model.c)


def _check_header(head: bytes, actual_size: int, where: str) -> None:
    """The checks that need only the 64-byte header, and that its declared file size is actual_size (format.c's
    sb_format_check_header): run before a file's body is read."""
    if len(head) < HEADER_SIZE or head[:MAGIC_SIZE] != MAGIC:
        raise ValueError(f"{where}: not a .sbn file (bad magic or shorter than the {HEADER_SIZE}-byte header)")
    (_magic, major, minor, header_size, count, table_off, file_size, _flags, _table_crc, _reserved,
     header_crc) = HEADER.unpack_from(head)
    if zlib.crc32(head[:HDR_CRC]) != header_crc:
        raise ValueError(f"{where}: header CRC mismatch")
    if (major != VERSION_MAJOR or header_size != HEADER_SIZE or table_off != HEADER_SIZE or file_size != actual_size
            or not 1 <= count <= MAX_SECTIONS):
        raise ValueError(f"{where}: bad header (version {major}.{minor}, {count} sections, file_size {file_size} of "
                         f"{actual_size})")


def read_file(path: str | os.PathLike) -> bytes:
    """The bytes of a .sbn file, read the way the engine's loader reads them: a path that is not a regular file
    (directory, FIFO, device) is refused before any read, opened without blocking (a FIFO has no writer), and the
    header and the size it declares are checked before the rest is read. ValueError naming the file and the
    problem (OSError when it cannot be opened)."""
    where = os.fspath(path)
    fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode)
                    else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
            raise ValueError(f"{where}: is {kind}, not a regular .sbn file")
        with os.fdopen(os.dup(fd), "rb") as f:
            head = f.read(HEADER_SIZE)
            _check_header(head, st.st_size, where)
            if st.st_size > MAX_FILE_BYTES:
                raise ValueError(f"{where}: file of {st.st_size} bytes is larger than the {MAX_FILE_BYTES}-byte limit")
            data = head + f.read(st.st_size - HEADER_SIZE)
        if len(data) != st.st_size:
            raise ValueError(f"{where}: read {len(data)} of {st.st_size} bytes (the file shrank while reading)")
        return data
    finally:
        os.close(fd)


def read_model(source: bytes | bytearray | memoryview | str | os.PathLike) -> SbnModel:
    """Parses a whole .sbn (a path is read with read_file). ValueError naming the file and the problem on a
    malformed file."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        where, data = "<bytes>", bytes(source)
    else:
        where, data = os.fspath(source), read_file(source)

    def fail(message: str) -> ValueError:
        return ValueError(f"{where}: {message}")

    _check_header(data[:HEADER_SIZE], len(data), where)
    (_magic, major, minor, header_size, count, table_off, file_size, _flags, table_crc, _reserved,
     header_crc) = HEADER.unpack_from(data)
    table = data[HEADER_SIZE:HEADER_SIZE + SECTION_ENTRY_SIZE * count]
    if len(table) != SECTION_ENTRY_SIZE * count or zlib.crc32(table) != table_crc:
        raise fail("section table truncated or CRC mismatch")
    sections: dict[int, bytes] = {}
    for i in range(count):
        stype, _f, offset, size, crc, _r = SECTION_ENTRY.unpack_from(table, SECTION_ENTRY_SIZE * i)
        name = SECTION_NAMES.get(stype, f"type{stype}")
        if stype not in SECTION_NAMES or stype in sections:
            raise fail(f"section {name} unknown or repeated")
        if offset + size > len(data):
            raise fail(f"section {name} [{offset}, {offset + size}) lies outside the file")
        payload = data[offset:offset + size]
        if zlib.crc32(payload) != crc:
            raise fail(f"section {name} CRC mismatch")
        sections[stype] = payload
    missing = [SECTION_NAMES[t] for t in range(SECTION_STRINGS, SECTION_WEIGHTS + 1) if t not in sections]
    if missing:
        raise fail(f"missing sections {missing}")
    strings, weights = sections[SECTION_STRINGS], sections[SECTION_WEIGHTS]

    def entries(stype: int, size: int) -> tuple[int, bytes]:
        payload = sections[stype]
        if len(payload) < TABLE_HEADER_SIZE:
            raise fail(f"section {SECTION_NAMES[stype]} too small")
        n = TABLE_HEADER.unpack_from(payload)[0]
        if len(payload) != TABLE_HEADER_SIZE + n * size:
            raise fail(f"section {SECTION_NAMES[stype]}: count {n} does not fit its {len(payload)} bytes")
        return n, payload

    def name_at(offset: int, length: int, what: str) -> str:
        if not 1 <= length <= MAX_NAME or offset + length > len(strings):
            raise fail(f"{what}: name slice [{offset}, +{length}) out of range")
        try:
            return strings[offset:offset + length].decode("utf-8")
        except UnicodeDecodeError as e:
            raise fail(f"{what}: name is not UTF-8") from e

    n_tensors, tensor_table = entries(SECTION_TENSORS, TENSOR_ENTRY_SIZE)
    tensors = []
    for i in range(n_tensors):
        off, ln, dtype, rank, *rest = TENSOR_ENTRY.unpack_from(tensor_table, TABLE_HEADER_SIZE + TENSOR_ENTRY_SIZE * i)
        dims, flags, data_off, data_size = rest[:MAX_RANK], rest[MAX_RANK], rest[MAX_RANK + 2], rest[MAX_RANK + 3]
        name = name_at(off, ln, f"tensor {i}")
        if dtype not in DTYPES or rank > MAX_RANK:
            raise fail(f"tensor {name!r}: dtype {dtype} / rank {rank} out of range")
        shape = tuple(dims[:rank])
        array = None
        if flags & TENSOR_FLAG_CONSTANT:
            if data_off + data_size > len(weights) or data_size != 4 * int(np.prod(shape, dtype=np.int64)):
                raise fail(f"tensor {name!r}: data [{data_off}, +{data_size}) inconsistent with WEIGHTS or its shape")
            array = np.frombuffer(weights, DTYPES[dtype], data_size // 4, data_off).reshape(shape)
        tensors.append(SbnTensor(name, shape, DTYPES[dtype], array))

    n_io, io_section = entries(SECTION_NODE_IO, 4)
    node_io = list(struct.unpack_from(f"<{n_io}I", io_section, TABLE_HEADER_SIZE))
    if any(t >= n_tensors for t in node_io):
        raise fail(f"NODE_IO: a tensor index is out of range ({n_tensors} tensors)")
    n_nodes, node_table = entries(SECTION_NODES, NODE_ENTRY_SIZE)
    nodes = []
    for i in range(n_nodes):
        op, off, ln, n_in, n_out, io_start, act, p0, p1, _r, *attrs = NODE_ENTRY.unpack_from(
            node_table, TABLE_HEADER_SIZE + NODE_ENTRY_SIZE * i)
        name = name_at(off, ln, f"node {i}")
        if op not in OP_NAMES or act not in ACTIVATION_NAMES or io_start + n_in + n_out > n_io:
            raise fail(f"node {name!r}: op {op}, activation {act} or io slice out of range")
        io = node_io[io_start:io_start + n_in + n_out]
        nodes.append(SbnNode(OP_NAMES[op], name, io[:n_in], io[n_in:], list(attrs), (ACTIVATION_NAMES[act], p0, p1)))

    graph = sections[SECTION_GRAPH]
    if len(graph) < TABLE_HEADER_SIZE:
        raise fail("section GRAPH too small")
    n_in, n_out = TABLE_HEADER.unpack_from(graph)
    if len(graph) != TABLE_HEADER_SIZE + 4 * (n_in + n_out):
        raise fail(f"section GRAPH: {n_in} inputs + {n_out} outputs do not fit its {len(graph)} bytes")
    ids = list(struct.unpack_from(f"<{n_in + n_out}I", graph, TABLE_HEADER_SIZE))
    if any(t >= n_tensors for t in ids):
        raise fail(f"GRAPH: a tensor index is out of range ({n_tensors} tensors)")
    metadata = None
    if SECTION_METADATA in sections:
        try:
            metadata = json.loads(sections[SECTION_METADATA].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise fail(f"METADATA is not JSON: {e}") from e
    return SbnModel((major, minor), tensors, nodes, ids[:n_in], ids[n_in:], metadata)
