"""Byte-level access to .sbn files for corruption tests: locate sections and entries, patch fields, fix the CRCs."""

from __future__ import annotations

import struct
import zlib

HEADER_SIZE = 64
SECTION_ENTRY_SIZE = 32
SECTION_TYPES = {"STRINGS": 1, "TENSORS": 2, "NODES": 3, "NODE_IO": 4, "GRAPH": 5, "WEIGHTS": 6, "METADATA": 7}
TENSOR_ENTRY_SIZE = 64
NODE_ENTRY_SIZE = 128


class SbnBytes:
    """A mutable .sbn image. Patch fields by (section, offset within it), then call fix_crcs()."""

    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)

    @property
    def section_count(self) -> int:
        return struct.unpack_from("<I", self.data, 12)[0]

    def table_entry_offset(self, name: str) -> int:
        stype = SECTION_TYPES[name]
        for i in range(self.section_count):
            pos = HEADER_SIZE + i * SECTION_ENTRY_SIZE
            if struct.unpack_from("<I", self.data, pos)[0] == stype:
                return pos
        raise KeyError(name)

    def section(self, name: str) -> tuple[int, int]:
        """(file offset, size) of a section."""
        pos = self.table_entry_offset(name)
        _, _, offset, size = struct.unpack_from("<IIQQ", self.data, pos)
        return offset, size

    def put(self, fmt: str, file_offset: int, *values: object) -> SbnBytes:
        struct.pack_into("<" + fmt, self.data, file_offset, *values)
        return self

    def get(self, fmt: str, file_offset: int) -> tuple:
        return struct.unpack_from("<" + fmt, self.data, file_offset)

    def put_in(self, section: str, fmt: str, offset: int, *values: object) -> SbnBytes:
        return self.put(fmt, self.section(section)[0] + offset, *values)

    def tensor_field(self, index: int, field_offset: int) -> int:
        """File offset of a field of tensor entry `index`."""
        return self.section("TENSORS")[0] + 8 + index * TENSOR_ENTRY_SIZE + field_offset

    def node_field(self, index: int, field_offset: int) -> int:
        return self.section("NODES")[0] + 8 + index * NODE_ENTRY_SIZE + field_offset

    def node_io_offset(self, index: int) -> int:
        return self.section("NODE_IO")[0] + 8 + 4 * index

    def constant_offset(self, tensor_index: int) -> int:
        """File offset of a constant tensor's data."""
        data_offset = self.get("Q", self.tensor_field(tensor_index, 48))[0]
        return self.section("WEIGHTS")[0] + data_offset

    def set_section_entry(self, name: str, offset: int | None = None, size: int | None = None) -> SbnBytes:
        pos = self.table_entry_offset(name)
        if offset is not None:
            self.put("Q", pos + 8, offset)
        if size is not None:
            self.put("Q", pos + 16, size)
        return self

    def fix_crcs(self, sections: bool = True) -> bytes:
        """Recompute every section CRC (that fits in the file), the table CRC and the header CRC."""
        n = self.section_count
        if sections:
            for i in range(min(n, 64)):
                pos = HEADER_SIZE + i * SECTION_ENTRY_SIZE
                if pos + SECTION_ENTRY_SIZE > len(self.data):
                    break
                _, _, offset, size = struct.unpack_from("<IIQQ", self.data, pos)
                if offset + size <= len(self.data):
                    struct.pack_into("<I", self.data, pos + 24, zlib.crc32(self.data[offset:offset + size]))
        table_end = HEADER_SIZE + n * SECTION_ENTRY_SIZE
        if table_end <= len(self.data):
            struct.pack_into("<I", self.data, 36, zlib.crc32(self.data[HEADER_SIZE:table_end]))
        struct.pack_into("<I", self.data, 60, zlib.crc32(self.data[:60]))
        return bytes(self.data)

    def resize(self, new_size: int) -> SbnBytes:
        """Grow (zero-filled) or cut the image and update the header's file_size."""
        if new_size > len(self.data):
            self.data.extend(b"\0" * (new_size - len(self.data)))
        else:
            del self.data[new_size:]
        return self.put("Q", 24, new_size)
