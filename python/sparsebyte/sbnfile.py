"""Read-only peek at a .sbn file from Python (header, sections, METADATA JSON) without the engine: enough for
`sparsebyte info`. The engine is the validator; this only trusts what it checks itself."""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass
from typing import Any

SECTION_NAMES = {1: "STRINGS", 2: "TENSORS", 3: "NODES", 4: "NODE_IO", 5: "GRAPH", 6: "WEIGHTS", 7: "METADATA"}


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
    if len(data) < 64 or data[:4] != b"SBN\x00":
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
