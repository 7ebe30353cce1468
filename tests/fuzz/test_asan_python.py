"""The Python bindings' tests also run on an ASan + UBSan build of the engine (engine/tools/asan_pytest.py, `make
asan-python` for the full set): here one bindings test file, enough to prove the sanitized extension is the one loaded
and that the cffi path (load, run, errors, profile) is clean under the sanitizers."""

from __future__ import annotations

import subprocess
import sys

from fuzz_support import REPO

sys.path.insert(0, str(REPO / "engine" / "tools"))
import asan_pytest  # noqa: E402


def test_bindings_tests_pass_on_the_sanitized_engine() -> None:
    env = asan_pytest.prepare()  # builds, and checks that `import sparsebyte._engine` resolves to the ASan build
    symbols = subprocess.run(["nm", "-D", str(asan_pytest.OUT / "site" / "sparsebyte" / "_engine.abi3.so")],
                             capture_output=True, text=True, check=True).stdout
    assert "__asan_report_load4" in symbols and "__ubsan_handle" in symbols
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/python/test_runtime_bindings.py"], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=900)
    assert "AddressSanitizer" not in proc.stderr and "runtime error:" not in proc.stderr, proc.stderr[-4000:]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert " passed" in proc.stdout
