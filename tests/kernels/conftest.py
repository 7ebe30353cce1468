"""Fixtures shared by the kernel tests: the harness binaries, built once per build configuration and session (the
x86 levels and the emulated runs share one compile: Config.build_key)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def harness_binaries() -> dict[object, Path]:
    """Built lazily (test_kernels.built), once per build key."""
    return {}
