"""The part every kernels_wasm/*/gen.py shares: which files a generator writes, which committed ones are stale, and
the write / --check command line. Each gen.py supplies its variants, file names, sources and list.h."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


def outputs(here: Path, variants: list[tuple[int, int]], file_name: Callable[[int, int], str],
            kernel_source: Callable[[int, int], str], list_header: Callable[[], str]) -> dict[Path, str]:
    files = {here / file_name(g, t): kernel_source(g, t) for g, t in variants}
    files[here / "list.h"] = list_header()
    return files


def stale(here: Path, want: dict[Path, str], glob: str) -> list[str]:
    """Files that differ from what the generator writes, and generated-looking files it no longer writes."""
    bad = [p.name for p, text in want.items() if not p.is_file() or p.read_text() != text]
    bad += [p.name for p in here.glob(glob) if p not in want]
    return bad


def main(here: Path, want: Callable[[], dict[Path, str]], glob: str, script: str) -> int:
    if "--check" in sys.argv[1:]:
        bad = stale(here, want(), glob)
        if bad:
            print(f"out of date: {', '.join(bad)} (run python3 {script})", file=sys.stderr)
        return 1 if bad else 0
    for old in here.glob(glob):
        old.unlink()
    for path, text in want().items():
        path.write_text(text)
    return 0
