"""Builds the ASan/UBSan engine, the replay driver and the libFuzzer target once per session."""

from __future__ import annotations

import pytest
from fuzz_support import make


@pytest.fixture(scope="session")
def asan_build() -> None:
    make("asan", "build/asan/sbn-replay")


@pytest.fixture(scope="session")
def fuzzer_build() -> None:
    make("fuzz")
