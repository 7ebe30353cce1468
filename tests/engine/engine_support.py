"""Helpers shared by the engine tests: the repo root and running a built binary under the sanitizer settings.
(Kept out of conftest.py: several test folders have one, and `from conftest import` takes whichever loaded first.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# ASan must fail loudly (exit code 99, report on stderr) instead of hiding behind a normal error exit.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=99",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=99",
}


def run_binary(binary: Path, *args: str | Path, timeout: float = 120,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **SANITIZER_ENV, **(env or {})}
    return subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout)
