"""Builds tests/engine/test_api.c against the ASan/UBSan engine library and runs it on a small model, including an
in-process fuzz loop of CRC-repaired mutants (every one must load cleanly or fail with a message)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from engine_support import REPO, run_binary
from models import classifier_model, elementwise_model, sparse_conv_model

HERE = Path(__file__).resolve().parent


def test_c_api(engine_build: Path, tmp_path: Path) -> None:
    binary = tmp_path / "test_api"
    flags = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-g", "-fsanitize=address,undefined",
             "-fno-sanitize-recover=all", f"-I{REPO / 'engine' / 'include'}",
             f"-I{REPO / 'engine' / 'src'}"]
    build = subprocess.run(["clang", *flags, str(HERE / "test_api.c"), str(engine_build / "asan" / "libsparsebyte.a"),
                            "-lm", "-lpthread", "-o", str(binary)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    model = tmp_path / "elementwise.sbn"
    model.write_bytes(elementwise_model().bytes())
    extra = []
    for case in (sparse_conv_model(4), classifier_model()):
        extra.append(tmp_path / f"{case.name}.sbn")
        extra[-1].write_bytes(case.bytes())
    proc = run_binary(binary, model, "10000", *extra, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all API checks passed" in proc.stdout
    assert proc.stdout.count("fuzz: 10000 iterations") == 3
