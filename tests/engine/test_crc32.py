"""engine/src/crc32.c (slicing by 8) against zlib.crc32 on every length 0-80 at every alignment 0-7, and its tables
against the ones recomputed here from the polynomial (the file's literals are the only copy)."""

from __future__ import annotations

import re
import subprocess
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "engine" / "src" / "crc32.c"
DRIVER = r"""
#include <stdio.h>
#include "internal.h"
int main(void) {
  static uint8_t buf[96];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)((i * 2654435761u) >> 13);
  for (size_t off = 0; off < 8; off++)
    for (size_t n = 0; n + off <= 88; n++) printf("%zu %zu %08x\n", off, n, sb_crc32(buf + off, n));
  return 0;
}
"""


def slicing_tables() -> list[list[int]]:
    t0 = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        t0.append(c)
    tables = [t0]
    for _ in range(7):
        tables.append([(v >> 8) ^ t0[v & 0xFF] for v in tables[-1]])
    return tables


def test_tables_are_the_polynomials() -> None:
    literal = [int(v, 16) for v in re.findall(r"0x([0-9a-f]{8})u", SOURCE.read_text())]
    assert literal == [v for table in slicing_tables() for v in table]


def test_matches_zlib_at_every_length_and_alignment(tmp_path: Path) -> None:
    driver = tmp_path / "crc_driver.c"
    driver.write_text(DRIVER)
    binary = tmp_path / "crc_driver"
    build = subprocess.run(["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-fsanitize=address,undefined",
                            "-fno-sanitize-recover=all", f"-I{REPO / 'engine' / 'include'}",
                            f"-I{REPO / 'engine' / 'src'}", f"-I{REPO / 'engine' / 'kernels'}", str(driver),
                            str(SOURCE), "-o", str(binary)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    out = subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout.split("\n")
    buf = bytes(((i * 2654435761) % 2**32 >> 13) & 0xFF for i in range(96))
    checked = 0
    for line in filter(None, out):
        off, n, crc = line.split()
        data = buf[int(off):int(off) + int(n)]
        assert int(crc, 16) == zlib.crc32(data), f"offset {off}, {n} bytes"
        checked += 1
    assert checked == sum(89 - off for off in range(8))
