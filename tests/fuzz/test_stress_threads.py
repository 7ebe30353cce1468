"""Thread stress of the C API (tests/fuzz/stress_threads.c): 8 threads share one model (sb_model_infer, with thread
count and profiling changes and profile reads racing the runs) and then run one model each; every result must equal
the single-threaded reference bit for bit, and so must one model run with every engine thread count 1..8 (also on
tests/engine/test_threads.py's model, whose layers are large enough for the partitioning to split). Under ASan+UBSan
(the engine library of `make asan`) and under TSan (the engine compiled with clang -fsanitize=thread). STRESS_RUNS
sets the runs per thread (CI default below; the figures in docs/robustness.md are from STRESS_RUNS=1000)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from fuzz_support import CORPUS, REPO, assert_no_sanitizer_report, make, run
from test_threads import write_fused_model, write_model  # tests/engine is on sys.path (fuzz_support)

THREADS = 8
# model -> the driver's tolerance: mobilenetish_sparse's inverted residuals run fused with 2-4 engine threads
# (engine/src/fuse.c: their projections summed in one part per thread), so to 1e-5 there; the other bit for bit
MODELS = {"mobilenetish_sparse.sbn": "1e-5", "pools_activations.sbn": "0"}
ASAN_RUNS = int(os.environ.get("STRESS_RUNS", "500"))
TSAN_RUNS = int(os.environ.get("STRESS_RUNS", "150"))


def engine_sources() -> list[str]:
    """What `make host` compiles on x86 (engine/sources.mk: engine/src, ops, scalar kernels, the registry)."""
    srcs = sorted((REPO / "engine" / "src").glob("*.c")) + sorted((REPO / "engine" / "src" / "ops").glob("*.c"))
    srcs += sorted((REPO / "engine" / "kernels").glob("*/scalar.c")) + [REPO / "engine" / "kernels" / "registry.c"]
    return [str(s) for s in srcs]


def figures(stdout: str) -> dict[str, tuple[int, int, int]]:
    found = re.findall(r"^(shared|separate|counts): threads (\d+), runs (\d+), mismatches (\d+), errors (\d+)$",
                       stdout, re.M)
    return {mode: (int(runs), int(mismatches), int(errors)) for mode, _t, runs, mismatches, errors in found}


def check(proc: subprocess.CompletedProcess[str], runs: int, threads: int = THREADS) -> None:
    assert_no_sanitizer_report(proc)
    assert "ThreadSanitizer" not in proc.stderr, proc.stderr[-4000:]
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]
    # counts: every engine thread count 1..8 on each of the driver's threads + 3 inputs
    want = {"counts": (8 * (threads + 3), 0, 0)}
    if runs:
        want |= {"shared": (THREADS * runs, 0, 0), "separate": (THREADS * runs, 0, 0)}
    assert figures(proc.stdout) == want, proc.stdout
    print(proc.stdout, end="")


@pytest.fixture(scope="module")
def asan_driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    make("asan")
    binary = tmp_path_factory.mktemp("stress") / "stress_asan"
    proc = subprocess.run(["clang", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-g",
                           "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                           f"-I{REPO / 'engine' / 'include'}", str(REPO / "tests" / "fuzz" / "stress_threads.c"),
                           str(REPO / "build" / "asan" / "libsparsebyte.a"), "-lm", "-lpthread", "-o", str(binary)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return binary


@pytest.fixture(scope="module")
def tsan_driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    binary = tmp_path_factory.mktemp("stress") / "stress_tsan"
    proc = subprocess.run(["clang", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-g", "-fsanitize=thread",
                           f"-I{REPO / 'engine' / 'include'}", f"-I{REPO / 'engine' / 'kernels'}", f"-I{REPO}",
                           *engine_sources(), str(REPO / "tests" / "fuzz" / "stress_threads.c"), "-lm", "-lpthread",
                           "-o", str(binary)], capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0 and "-fsanitize=thread" in proc.stderr and "unsupported" in proc.stderr:
        pytest.skip(f"clang cannot build with TSan here: {proc.stderr[-300:]}")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return binary


@pytest.mark.parametrize("model", MODELS)
def test_eight_threads_shared_and_separate_models_under_asan(asan_driver: Path, model: str) -> None:
    check(run(asan_driver, CORPUS / model, str(THREADS), str(ASAN_RUNS), MODELS[model], timeout=600), ASAN_RUNS)


@pytest.mark.parametrize("model", MODELS)
def test_eight_threads_shared_and_separate_models_under_tsan(tsan_driver: Path, model: str) -> None:
    env = {**os.environ, "TSAN_OPTIONS": "halt_on_error=1:exitcode=66:second_deadlock_stack=1"}
    proc = subprocess.run([str(tsan_driver), str(CORPUS / model), str(THREADS), str(TSAN_RUNS), MODELS[model]],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode != 66, proc.stderr[-4000:]
    check(proc, TSAN_RUNS)


@pytest.fixture(scope="module", params=["threads", "fused"])
def threads_model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """test_threads.py's models: the one whose every layer splits (bit for bit), the fused inverted residuals (to
    1e-5: their projections are summed in one part per thread)."""
    if request.param == "threads":
        return write_model(tmp_path_factory.mktemp("threads_model"))[0], "0"
    return write_fused_model(tmp_path_factory.mktemp("fused_model"))[0], "1e-5"


def test_every_engine_thread_count_under_asan(asan_driver: Path, threads_model: tuple[Path, str]) -> None:
    check(run(asan_driver, threads_model[0], "1", "0", threads_model[1], timeout=600), 0, threads=1)


def test_every_engine_thread_count_under_tsan(tsan_driver: Path, threads_model: tuple[Path, str]) -> None:
    env = {**os.environ, "TSAN_OPTIONS": "halt_on_error=1:exitcode=66:second_deadlock_stack=1"}
    proc = subprocess.run([str(tsan_driver), str(threads_model[0]), "1", "0", threads_model[1]], capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode != 66, proc.stderr[-4000:]
    check(proc, 0, threads=1)
