"""Byte-level access to .sbn files for corruption tests: locate sections and entries, patch fields, re-seal the CRCs.
The layout and the CRC sealing are sparsebyte.sbnformat's."""

from __future__ import annotations

import struct

from sparsebyte import sbnformat as fmt


class SbnBytes:
    """A mutable .sbn image. Patch fields by (section, offset within it), then call fix_crcs()."""

    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)

    @property
    def section_count(self) -> int:
        return self.get("I", fmt.HDR_SECTION_COUNT)[0]

    def table_entry_offset(self, name: str) -> int:
        stype = fmt.SECTION_IDS[name]
        for i in range(self.section_count):
            pos = fmt.HEADER_SIZE + i * fmt.SECTION_ENTRY_SIZE
            if self.get("I", pos + fmt.SEC_TYPE)[0] == stype:
                return pos
        raise KeyError(name)

    def section(self, name: str) -> tuple[int, int]:
        """(file offset, size) of a section."""
        pos = self.table_entry_offset(name)
        return self.get("Q", pos + fmt.SEC_OFFSET)[0], self.get("Q", pos + fmt.SEC_SIZE)[0]

    def put(self, code: str, file_offset: int, *values: object) -> SbnBytes:
        struct.pack_into("<" + code, self.data, file_offset, *values)
        return self

    def get(self, code: str, file_offset: int) -> tuple:
        return struct.unpack_from("<" + code, self.data, file_offset)

    def put_in(self, section: str, code: str, offset: int, *values: object) -> SbnBytes:
        return self.put(code, self.section(section)[0] + offset, *values)

    def tensor_field(self, index: int, field_offset: int) -> int:
        """File offset of a field (sbnformat.TENSOR_*) of tensor entry `index`."""
        return self.section("TENSORS")[0] + fmt.TABLE_HEADER_SIZE + index * fmt.TENSOR_ENTRY_SIZE + field_offset

    def node_field(self, index: int, field_offset: int) -> int:
        """File offset of a field (sbnformat.NODE_*) of node entry `index`."""
        return self.section("NODES")[0] + fmt.TABLE_HEADER_SIZE + index * fmt.NODE_ENTRY_SIZE + field_offset

    def node_attr(self, index: int, slot: int) -> int:
        return self.node_field(index, fmt.NODE_ATTRS + 4 * slot)

    def node_io_offset(self, index: int) -> int:
        return self.section("NODE_IO")[0] + fmt.TABLE_HEADER_SIZE + 4 * index

    def constant_offset(self, tensor_index: int) -> int:
        """File offset of a constant tensor's data."""
        data_offset = self.get("Q", self.tensor_field(tensor_index, fmt.TENSOR_DATA_OFFSET))[0]
        return self.section("WEIGHTS")[0] + data_offset

    def set_section_entry(self, name: str, offset: int | None = None, size: int | None = None) -> SbnBytes:
        pos = self.table_entry_offset(name)
        if offset is not None:
            self.put("Q", pos + fmt.SEC_OFFSET, offset)
        if size is not None:
            self.put("Q", pos + fmt.SEC_SIZE, size)
        return self

    def fix_crcs(self, sections: bool = True) -> bytes:
        """Recompute every section CRC (that fits in the file), the table CRC and the header CRC."""
        fmt.seal(self.data, sections)
        return bytes(self.data)

    def resize(self, new_size: int) -> SbnBytes:
        """Grow (zero-filled) or cut the image and update the header's file_size."""
        if new_size > len(self.data):
            self.data.extend(b"\0" * (new_size - len(self.data)))
        else:
            del self.data[new_size:]
        return self.put("Q", fmt.HDR_FILE_SIZE, new_size)
