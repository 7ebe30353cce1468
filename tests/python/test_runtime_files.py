"""Paths that are not what they claim (issue 17, item 5): a directory, a FIFO, /dev/zero, a 5 GB sparse file. Every
reader of a .sbn path (Model, sbnformat.read_model, `sparsebyte info`) refuses them with a clear error after reading
at most the 64-byte header. Each case runs in a subprocess with a timeout (a FIFO blocked forever, /dev/zero read
until the machine ran out of memory) that also reports the child's peak RSS."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

FIVE_GB = 5 * 1024**3
RSS_LIMIT_KB = 400 * 1024  # the interpreter with numpy and the engine is ~100 MB; reading 5 GB would be 5 GB

LOAD = """
    import sys
    how, path = sys.argv[1], sys.argv[2]
    try:
        if how == "model":
            from sparsebyte import Model
            Model(path)
        else:
            from sparsebyte import sbnformat
            sbnformat.read_model(path)
        print("loaded")
    except Exception as e:
        print(type(e).__name__, e)
    # VmHWM belongs to this process image; getrusage's ru_maxrss survives exec and would report the (large)
    # pytest process this child was forked from
    hwm = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
    print("rss_kb", hwm)
"""


def load(how: str, path: str | Path) -> tuple[str, int]:
    """(the error line, peak RSS in KiB) of loading path in a fresh interpreter."""
    try:
        proc = subprocess.run([sys.executable, "-c", textwrap.dedent(LOAD), how, str(path)], capture_output=True,
                              text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{how} of {path} hung for 60 s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    message, rss = proc.stdout.strip().splitlines()
    return message, int(rss.split()[1])


@pytest.fixture()
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.sbn"
    os.mkfifo(path)
    return path


@pytest.fixture()
def sparse_5gb(tiny_files: dict[str, Path], tmp_path: Path) -> Path:
    """A valid model's bytes, then holes up to 5 GB: a good header whose declared size is not the file's."""
    path = tmp_path / "huge.sbn"
    path.write_bytes(tiny_files["tiny.sbn"].read_bytes())
    os.truncate(path, FIVE_GB)
    return path


@pytest.fixture()
def zeros_5gb(tmp_path: Path) -> Path:
    path = tmp_path / "zeros.sbn"
    with open(path, "wb") as f:
        f.truncate(FIVE_GB)
    return path


@pytest.mark.parametrize("how,error", [("model", "FileError"), ("read_model", "ValueError")])
def test_non_regular_files_are_refused_before_reading(tmp_path: Path, fifo: Path, how: str, error: str) -> None:
    for path, kind in ((tmp_path, "a directory"), (fifo, "a FIFO"), ("/dev/zero", "a device")):
        message, rss = load(how, path)
        assert message == f"{error} {path}: is {kind}{' (named pipe)' if kind == 'a FIFO' else ''}, not a regular " \
                          ".sbn file", message
        assert rss < RSS_LIMIT_KB


@pytest.mark.parametrize("how,error", [("model", "FormatError"), ("read_model", "ValueError")])
def test_a_5gb_file_is_refused_from_its_header(sparse_5gb: Path, zeros_5gb: Path, how: str, error: str) -> None:
    message, rss = load(how, sparse_5gb)
    assert message.startswith(f"{error} {sparse_5gb}: "), message
    assert ("header says" in message or "file_size" in message) and str(FIVE_GB) in message, message
    assert rss < RSS_LIMIT_KB, f"peak RSS {rss} KiB: the file was read"
    message, rss = load(how, zeros_5gb)
    assert message.startswith(f"{error} {zeros_5gb}: ") and ("magic" in message), message
    assert rss < RSS_LIMIT_KB, f"peak RSS {rss} KiB: the file was read"


def test_a_good_file_still_loads_both_ways(tiny_files: dict[str, Path]) -> None:
    for how in ("model", "read_model"):
        assert load(how, tiny_files["tiny.sbn"])[0] == "loaded"


def test_info_on_hostile_paths_is_one_line_and_exit_2(tmp_path: Path, fifo: Path, sparse_5gb: Path) -> None:
    for path in (tmp_path, fifo, "/dev/zero", sparse_5gb):
        try:
            proc = subprocess.run([sys.executable, "-m", "sparsebyte", "info", str(path)], capture_output=True,
                                  text=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"sparsebyte info {path} hung")
        assert proc.returncode == 2, (path, proc.returncode, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in proc.stderr, proc.stderr
