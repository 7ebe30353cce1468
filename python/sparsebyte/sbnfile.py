"""Read-only peek at a .sbn file from Python (header, sections, METADATA JSON) without the engine: enough for
`sparsebyte info`. The engine is the validator; this only trusts what it checks itself."""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass
from typing import Any

# The format's numbers have one home, the writer.
from sparsebyte.converters.sbn_writer import ACTIVATION_NAMES, DTYPE_F32, DTYPE_I32, MAGIC, OP_NAMES, SECTION_NAMES


@dataclass
class SbnSummary:
    path: str
    file_size: int
    version: tuple[int, int]
    sections: dict[str, int]  # name -> size in bytes
    metadata: dict[str, Any]


def read_summary(path: str | os.PathLike) -> SbnSummary:
    """Header, section sizes and the METADATA object (empty dict if absent). ValueError on a malformed file."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 64 or data[:4] != MAGIC:
        raise ValueError(f"{path}: not a .sbn file (bad magic or shorter than the 64-byte header)")
    major, minor, _header_size, count, table_off = struct.unpack_from("<HHIIQ", data, 4)
    if not 1 <= count <= 64 or table_off + 32 * count > len(data):
        raise ValueError(f"{path}: section table out of range ({count} sections at offset {table_off})")
    sections: dict[str, int] = {}
    metadata: dict[str, Any] = {}
    for i in range(count):
        stype, _flags, offset, size, crc = struct.unpack_from("<IIQQI", data, table_off + 32 * i)
        name = SECTION_NAMES.get(stype, f"type{stype}")
        if offset + size > len(data):
            raise ValueError(f"{path}: section {name} [{offset}, {offset + size}) lies outside the file")
        sections[name] = size
        if stype == 7:
            payload = data[offset:offset + size]
            if zlib.crc32(payload) != crc:
                raise ValueError(f"{path}: METADATA checksum mismatch")
            try:
                metadata = json.loads(payload.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise ValueError(f"{path}: METADATA is not JSON: {e}") from e
    return SbnSummary(path, len(data), (major, minor), sections, metadata)


# ---- full reader: every tensor, node and weight, back into an SbnWriter (round trip: write -> read -> write) ----

_DTYPES = {DTYPE_F32: "<f4", DTYPE_I32: "<i4"}


@dataclass
class SbnTensor:
    name: str
    shape: tuple[int, ...]
    dtype: str  # "<f4" or "<i4"
    data: Any = None  # numpy array for constants, None for activations


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

    def to_writer(self) -> Any:
        """The same graph in a converters.sbn_writer.SbnWriter; serialise with .to_bytes(self.metadata)."""
        from sparsebyte.converters.sbn_writer import SbnWriter

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


def read_model(source: bytes | str | os.PathLike) -> SbnModel:
    """Parses a whole .sbn (docs/format.md). ValueError naming the file and the problem on a malformed file; the
    engine's validator remains the authority on shapes and operator semantics."""
    import numpy as np

    if isinstance(source, bytes):
        where, data = "<bytes>", source
    else:
        where = os.fspath(source)
        with open(where, "rb") as f:
            data = f.read()

    def fail(message: str) -> ValueError:
        return ValueError(f"{where}: {message}")

    if len(data) < 64 or data[:4] != MAGIC:
        raise fail("not a .sbn file (bad magic or shorter than the 64-byte header)")
    major, minor, header_size, count, table_off, file_size, _flags, table_crc = struct.unpack_from("<HHIIQQII",
                                                                                                   data, 4)
    if zlib.crc32(data[:60]) != struct.unpack_from("<I", data, 60)[0]:
        raise fail("header CRC mismatch")
    if major != 1 or header_size != 64 or table_off != 64 or file_size != len(data) or not 1 <= count <= 64:
        raise fail(f"bad header (version {major}.{minor}, {count} sections, file_size {file_size} of {len(data)})")
    table = data[64:64 + 32 * count]
    if len(table) != 32 * count or zlib.crc32(table) != table_crc:
        raise fail("section table truncated or CRC mismatch")
    sections: dict[int, bytes] = {}
    for i in range(count):
        stype, _f, offset, size, crc = struct.unpack_from("<IIQQI", table, 32 * i)
        name = SECTION_NAMES.get(stype, f"type{stype}")
        if stype not in SECTION_NAMES or stype in sections:
            raise fail(f"section {name} unknown or repeated")
        if offset + size > len(data):
            raise fail(f"section {name} [{offset}, {offset + size}) lies outside the file")
        payload = data[offset:offset + size]
        if zlib.crc32(payload) != crc:
            raise fail(f"section {name} CRC mismatch")
        sections[stype] = payload
    missing = [SECTION_NAMES[t] for t in range(1, 7) if t not in sections]
    if missing:
        raise fail(f"missing sections {missing}")
    strings, weights = sections[1], sections[6]

    def entries(stype: int, size: int) -> tuple[int, bytes]:
        payload = sections[stype]
        if len(payload) < 8:
            raise fail(f"section {SECTION_NAMES[stype]} too small")
        n = struct.unpack_from("<I", payload)[0]
        if len(payload) != 8 + n * size:
            raise fail(f"section {SECTION_NAMES[stype]}: count {n} does not fit its {len(payload)} bytes")
        return n, payload

    def name_at(offset: int, length: int, what: str) -> str:
        if not 1 <= length <= 255 or offset + length > len(strings):
            raise fail(f"{what}: name slice [{offset}, +{length}) out of range")
        try:
            return strings[offset:offset + length].decode("utf-8")
        except UnicodeDecodeError as e:
            raise fail(f"{what}: name is not UTF-8") from e

    n_tensors, tensor_table = entries(2, 64)
    tensors = []
    for i in range(n_tensors):
        off, ln, dtype, rank, *rest = struct.unpack_from("<IIII6IIIQQ", tensor_table, 8 + 64 * i)
        dims, flags, data_off, data_size = rest[:6], rest[6], rest[8], rest[9]
        name = name_at(off, ln, f"tensor {i}")
        if dtype not in _DTYPES or rank > 6:
            raise fail(f"tensor {name!r}: dtype {dtype} / rank {rank} out of range")
        shape = tuple(dims[:rank])
        array = None
        if flags & 1:
            if data_off + data_size > len(weights) or data_size != 4 * int(np.prod(shape, dtype=np.int64)):
                raise fail(f"tensor {name!r}: data [{data_off}, +{data_size}) inconsistent with WEIGHTS or its shape")
            array = np.frombuffer(weights, _DTYPES[dtype], data_size // 4, data_off).reshape(shape)
        tensors.append(SbnTensor(name, shape, _DTYPES[dtype], array))

    n_io, io_section = entries(4, 4)
    node_io = list(struct.unpack_from(f"<{n_io}I", io_section, 8))
    n_nodes, node_table = entries(3, 128)
    nodes = []
    for i in range(n_nodes):
        op, off, ln, n_in, n_out, io_start, act, p0, p1, _r = struct.unpack_from("<IIIIIIIffI", node_table, 8 + 128 * i)
        attrs = list(struct.unpack_from("<22i", node_table, 8 + 128 * i + 40))
        name = name_at(off, ln, f"node {i}")
        if op not in OP_NAMES or act not in ACTIVATION_NAMES or io_start + n_in + n_out > n_io:
            raise fail(f"node {name!r}: op {op}, activation {act} or io slice out of range")
        io = node_io[io_start:io_start + n_in + n_out]
        nodes.append(SbnNode(OP_NAMES[op], name, io[:n_in], io[n_in:], attrs, (ACTIVATION_NAMES[act], p0, p1)))

    graph = sections[5]
    if len(graph) < 8:
        raise fail("section GRAPH too small")
    n_in, n_out = struct.unpack_from("<II", graph)
    if len(graph) != 8 + 4 * (n_in + n_out):
        raise fail(f"section GRAPH: {n_in} inputs + {n_out} outputs do not fit its {len(graph)} bytes")
    ids = list(struct.unpack_from(f"<{n_in + n_out}I", graph, 8))
    metadata = None
    if 7 in sections:
        try:
            metadata = json.loads(sections[7].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise fail(f"METADATA is not JSON: {e}") from e
    return SbnModel((major, minor), tensors, nodes, ids[:n_in], ids[n_in:], metadata)
