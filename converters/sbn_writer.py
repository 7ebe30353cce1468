"""Writer for the .sbn format (docs/format.md). Knows bytes, not ONNX: the converter builds graphs through it."""

from __future__ import annotations

import json
import os
import struct
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Operator and activation codes and attribute slots come from the one spec (converters/opspec.py); re-exported here.
from .opspec import ACTIVATION_NAMES as ACTIVATION_NAMES
from .opspec import ACTIVATIONS as ACTIVATIONS
from .opspec import ATTR_NAMES as ATTR_NAMES
from .opspec import MAX_RANK as MAX_RANK
from .opspec import NUM_ATTRS as NUM_ATTRS
from .opspec import OP_NAMES as OP_NAMES
from .opspec import OPS as OPS
from .opspec import AttrValue, pack_attrs

MAGIC = b"SBN\x00"
VERSION_MAJOR = 1
VERSION_MINOR = 0
HEADER_SIZE = 64
SECTION_ENTRY_SIZE = 32
TENSOR_ENTRY_SIZE = 64
NODE_ENTRY_SIZE = 128
ALIGN = 64

SECTION_STRINGS, SECTION_TENSORS, SECTION_NODES, SECTION_NODE_IO, SECTION_GRAPH, SECTION_WEIGHTS, SECTION_METADATA = (
    range(1, 8)
)

SECTION_NAMES = {SECTION_STRINGS: "STRINGS", SECTION_TENSORS: "TENSORS", SECTION_NODES: "NODES",
                 SECTION_NODE_IO: "NODE_IO", SECTION_GRAPH: "GRAPH", SECTION_WEIGHTS: "WEIGHTS",
                 SECTION_METADATA: "METADATA"}

DTYPE_F32, DTYPE_I32 = 1, 2
TENSOR_FLAG_CONSTANT = 1


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


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
    """Collects tensors and nodes, then serialises them. Indices returned by add_* are tensor ids."""

    tensors: list[_Tensor] = field(default_factory=list)
    nodes: list[_Node] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    _names: dict[str, int] = field(default_factory=dict)

    def _add(self, t: _Tensor) -> int:
        if not t.name or len(t.name.encode()) > 255:
            raise ValueError(f"tensor name {t.name!r} must be 1..255 bytes")
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
            a, dtype = np.ascontiguousarray(a, dtype="<f4"), DTYPE_F32
        elif np.issubdtype(a.dtype, np.integer):
            a, dtype = np.ascontiguousarray(a, dtype="<i4"), DTYPE_I32
        else:
            raise ValueError(f"constant {name!r}: unsupported dtype {a.dtype}")
        return self._add(_Tensor(name, tuple(a.shape), dtype, a.tobytes()))

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

    # ---- serialisation ----
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
        tensor_table = bytearray(struct.pack("<II", len(self.tensors), 0))
        for t in self.tensors:
            off, ln = intern(t.name)
            dims = list(t.shape) + [0] * (MAX_RANK - len(t.shape))
            if t.data is not None:
                data_off = len(weights)
                weights.extend(t.data)
                weights.extend(b"\0" * (_align(len(weights)) - len(weights)))
                flags, size = TENSOR_FLAG_CONSTANT, len(t.data)
            else:
                data_off, flags, size = 0, 0, 0
            tensor_table += struct.pack("<IIII6III QQ".replace(" ", ""), off, ln, t.dtype, len(t.shape), *dims,
                                        flags, 0, data_off, size)

        node_io: list[int] = []
        node_table = bytearray(struct.pack("<II", len(self.nodes), 0))
        for n in self.nodes:
            off, ln = intern(n.name)
            io_start = len(node_io)
            node_io += n.inputs + n.outputs
            node_table += struct.pack("<IIIIIIIffI", OPS[n.op], off, ln, len(n.inputs), len(n.outputs), io_start,
                                      ACTIVATIONS[n.act[0]], n.act[1], n.act[2], 0)
            node_table += struct.pack(f"<{NUM_ATTRS}i", *n.attrs)

        io_section = struct.pack(f"<II{len(node_io)}I", len(node_io), 0, *node_io)
        graph = struct.pack(f"<II{len(self.inputs)}I{len(self.outputs)}I", len(self.inputs), len(self.outputs),
                            *self.inputs, *self.outputs)
        sections = [(SECTION_STRINGS, bytes(strings)), (SECTION_TENSORS, bytes(tensor_table)),
                    (SECTION_NODES, bytes(node_table)), (SECTION_NODE_IO, io_section), (SECTION_GRAPH, graph),
                    (SECTION_WEIGHTS, bytes(weights))]
        if metadata is not None:
            sections.append((SECTION_METADATA, json.dumps(metadata, sort_keys=True).encode()))

        table_off = HEADER_SIZE
        pos = _align(table_off + SECTION_ENTRY_SIZE * len(sections))
        table = bytearray()
        body = bytearray()
        for stype, payload in sections:
            table += struct.pack("<IIQQII", stype, 0, pos, len(payload), zlib.crc32(payload), 0)
            body += payload + b"\0" * (_align(len(payload)) - len(payload))
            pos += _align(len(payload))
        gap = _align(table_off + len(table)) - (table_off + len(table))
        file_size = HEADER_SIZE + len(table) + gap + len(body)
        head = struct.pack("<4sHHIIQQII20s", MAGIC, VERSION_MAJOR, VERSION_MINOR, HEADER_SIZE, len(sections),
                           table_off, file_size, 0, zlib.crc32(table), b"\0" * 20)
        head += struct.pack("<I", zlib.crc32(head))
        out = head + table + b"\0" * gap + body
        assert len(out) == file_size
        return bytes(out)

    def write(self, path: str | os.PathLike, metadata: dict | None = None) -> None:
        """Atomic: the bytes go to a temporary file beside `path`, renamed into place only when complete."""
        write_atomic(path, self.to_bytes(metadata))


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
