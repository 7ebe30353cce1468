"""Helpers of the TVM tests (a module name of its own: every test directory has a conftest)."""

from __future__ import annotations

import shutil

import pytest


def require(*tools: str) -> None:
    """Fail (not skip) when a tool the test needs is missing: the project installs them (toolchain.md)."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(f"tools missing: {', '.join(missing)} (see /work/shared/toolchain.md)")
