"""The .sbn fuzzer as regression tests: the seed corpus is valid, every kept reproducer replays cleanly under
ASan/UBSan (and gets a named error), and a bounded libFuzzer run (FUZZ_SECONDS, default 30) finds nothing new.
A longer run: `make fuzz-run FUZZ_SECONDS=3600` (docs/robustness.md)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from fuzz_support import (
    ASAN_RUNNER,
    CORPUS,
    CRASHES,
    FUZZER,
    REPLAY,
    assert_no_sanitizer_report,
    make,
    run,
)

# Every reproducer in fuzz/crashes/ with the error it must now get (a new reproducer needs an entry here).
REPRODUCERS = {
    "conv_sparse_kernel_area_overflow.sbn": "area exceeds the cap 2^24",
}


@pytest.fixture(scope="module", autouse=True)
def asan_build() -> None:
    make("asan", "build/asan/sbn-replay")


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.sbn"))


def test_seed_corpus_is_valid() -> None:
    """Seeds the validator rejected would waste the fuzzer's time on the first checks."""
    files = corpus_files()
    assert len(files) >= 5
    for path in files:
        proc = run(ASAN_RUNNER, path, "--warmup", "0")
        assert_no_sanitizer_report(proc)
        assert proc.returncode == 0, (path.name, proc.stderr)


def test_every_reproducer_has_an_expected_error() -> None:
    kept = sorted(p.name for p in CRASHES.iterdir() if p.is_file() and p.suffix == ".sbn")
    assert kept == sorted(REPRODUCERS)
    for name, message in REPRODUCERS.items():
        proc = run(ASAN_RUNNER, CRASHES / name, "--warmup", "0")
        assert_no_sanitizer_report(proc)
        assert proc.returncode == 1 and message in proc.stderr, (name, proc.stderr)


def test_replay_corpus_and_reproducers() -> None:
    """The fuzz target itself (load, validate, every query, run, outputs, keep_intermediates) over every kept file."""
    files = corpus_files() + sorted(CRASHES.glob("*.sbn"))
    proc = run(REPLAY, *files)
    assert_no_sanitizer_report(proc)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert f"replayed {len(files)} files" in proc.stdout


def test_bounded_fuzz_run(tmp_path: Path) -> None:
    make("fuzz")
    seconds = int(os.environ.get("FUZZ_SECONDS", "30"))
    work = tmp_path / "corpus"
    shutil.copytree(CORPUS, work)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    proc = run(FUZZER, f"-max_total_time={seconds}", "-max_len=262144", "-timeout=10", "-rss_limit_mb=2048",
               "-print_final_stats=1", f"-artifact_prefix={artifacts}/", work, timeout=seconds + 300)
    found = sorted(p.name for p in artifacts.iterdir())
    assert proc.returncode == 0 and not found, (
        f"the fuzzer found a crash ({found}); keep the input in fuzz/crashes/ as a reproducer:\n{proc.stderr[-6000:]}")
    execs = int(re.search(r"stat::number_of_executed_units:\s*(\d+)", proc.stderr).group(1))
    assert execs > 100, proc.stderr[-2000:]
    print(f"fuzzed {execs} inputs in {seconds} s")
