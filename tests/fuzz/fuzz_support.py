"""Shared helpers of the robustness tests: build the sanitizer binaries once, run them with sanitizers that fail
loudly, and write hostile .sbn files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for _p in (str(REPO), str(REPO / "tests" / "engine")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

FUZZ_DIR = REPO / "fuzz"
CORPUS = FUZZ_DIR / "corpus"
CRASHES = FUZZ_DIR / "crashes"
ASAN_RUNNER = REPO / "build" / "asan" / "sparsebyte-run"
REPLAY = REPO / "build" / "asan" / "sbn-replay"
FUZZER = REPO / "build" / "fuzz" / "sbn-fuzz"

from engine_support import run_binary  # noqa: E402  (tests/engine is on sys.path above)


def make(*targets: str) -> None:
    jobs = str(min(2, os.cpu_count() or 1))
    proc = subprocess.run(["make", "-j", jobs, *targets], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, f"make {' '.join(targets)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def run(binary: Path, *args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run_binary(binary, *args, timeout=timeout)


def assert_no_sanitizer_report(proc: subprocess.CompletedProcess[str]) -> None:
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer"):
        assert marker not in proc.stderr, proc.stderr[-4000:]
    assert proc.returncode != 99, proc.stderr[-4000:]
