"""The Python bindings' tests also run on an ASan + UBSan build of the engine (engine/tools/asan_pytest.py, `make
asan-python` for the full set): here one bindings test file, enough to prove the sanitized extension is the one loaded
and that the cffi path (load, run, errors, profile) is clean under the sanitizers; and the thread stress of the
Python API (8 threads on one shared Model and on one Model each, then close() racing runs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest
from fuzz_support import CORPUS, REPO

sys.path.insert(0, str(REPO / "engine" / "tools"))
import asan_pytest  # noqa: E402

STRESS_RUNS = int(os.environ.get("STRESS_RUNS", "250"))  # per thread; docs/robustness.md has the 1000-run figures


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return asan_pytest.prepare()  # builds, and checks that `import sparsebyte._engine` resolves to the ASan build


def test_bindings_tests_pass_on_the_sanitized_engine(env: dict[str, str]) -> None:
    symbols = subprocess.run(["nm", "-D", str(asan_pytest.OUT / "site" / "sparsebyte" / "_engine.abi3.so")],
                             capture_output=True, text=True, check=True).stdout
    assert "__asan_report_load4" in symbols and "__ubsan_handle" in symbols
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/python/test_runtime_bindings.py"], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=900)
    assert "AddressSanitizer" not in proc.stderr and "runtime error:" not in proc.stderr, proc.stderr[-4000:]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert " passed" in proc.stdout


PYTHON_STRESS = """
    import sys, threading
    import numpy as np
    from sparsebyte import Model, ModelClosedError
    path, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    reference = Model(path, threads=2)  # the stressed models' count: fused chains (engine/src/fuse.c) give its bits
    rng = np.random.default_rng(0)
    feeds = [{t.name: rng.standard_normal(t.shape, dtype=np.float32) for t in reference.inputs}
             for _ in range(threads + 3)]
    want = [reference.run(f) for f in feeds]

    def same(a, b):
        return all(np.array_equal(a[k], b[k]) for k in a) if isinstance(a, dict) else np.array_equal(a, b)

    def stress(mode, models):
        bad = [0] * threads
        def work(t):
            for r in range(runs):
                k = (t + r) % len(feeds)
                bad[t] += not same(models[t].run(feeds[k]), want[k])
        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for w in workers: w.start()
        for w in workers: w.join()
        print(f"{mode}: threads {threads}, runs {threads * runs}, mismatches {sum(bad)}")

    shared = Model(path, threads=2)
    stress("shared", [shared] * threads)
    stress("separate", [Model(path, threads=2) for _ in range(threads)])
    closed = [0]
    def until_closed():
        try:
            while True: shared.run(feeds[0])
        except ModelClosedError:
            closed[0] += 1
    workers = [threading.Thread(target=until_closed) for _ in range(threads)]
    for w in workers: w.start()
    shared.close()
    for w in workers: w.join()
    print(f"close: threads {threads}, ModelClosedError {closed[0]}")
"""


@pytest.mark.parametrize("model", ["mobilenetish_sparse.sbn", "pools_activations.sbn"])
def test_threads_sharing_a_model_on_the_sanitized_engine(env: dict[str, str], model: str) -> None:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(PYTHON_STRESS), str(CORPUS / model), "8",
                           str(STRESS_RUNS)], env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert "AddressSanitizer" not in proc.stderr and "runtime error:" not in proc.stderr, proc.stderr[-4000:]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    runs = 8 * STRESS_RUNS
    assert re.findall(r"^\w+: .*$", proc.stdout, re.M) == [
        f"shared: threads 8, runs {runs}, mismatches 0", f"separate: threads 8, runs {runs}, mismatches 0",
        "close: threads 8, ModelClosedError 8"], proc.stdout
    print(proc.stdout, end="")
