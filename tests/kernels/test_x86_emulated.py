"""The x86 build on CPUs this machine is not: qemu-x86_64 user mode with a CPU model. Under -cpu Nehalem (SSE4.2, no
AVX) the runtime detection (cpuid, registry.h) must pick SSE4.1 by itself, every SSE4.1 kernel must match its scalar
oracle, and forcing AVX2 must be refused with a named error; under -cpu Haswell the same binary picks AVX2+FMA.
(Intel SDE does not install from PyPI, npm or Debian; Debian's qemu-user does, .ci/install.)"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest
from build_harness import CONFIGS, REPO, built
from test_kernels import parse_output

sys_x86 = platform.machine().lower() in ("x86_64", "amd64")
pytestmark = pytest.mark.skipif(not sys_x86, reason="the x86 kernels are built on x86-64 hosts only")

CONFIG = CONFIGS["x86-sse41"]  # the one x86 compile (every level); run here without SPARSEBYTE_KERNELS


def emulated(binary: Path, cpu: str, *args: str, force: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SPARSEBYTE_KERNELS"}
    if force is not None:
        env["SPARSEBYTE_KERNELS"] = force
    return subprocess.run(["qemu-x86_64", "-cpu", cpu, str(binary), *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def binary() -> Path:
    if shutil.which("qemu-x86_64") is None:
        pytest.fail("qemu-x86_64 is not installed (Debian qemu-user, .ci/install)")
    return built(CONFIG)


def x86_families() -> set[str]:
    """Registry families with an x86 list (kernels_x86/<dir>/list.h naming them)."""
    import gen_registry

    names = set()
    for name, _, directory in gen_registry.families():
        path = REPO / "kernels_x86" / directory / "list.h"
        if path.is_file() and f"SB_UKERNEL({name}," in path.read_text():
            names.add(name)
    return names


def test_no_avx_cpu_runs_sse41_and_matches_the_oracle(binary: Path) -> None:
    result = emulated(binary, "Nehalem", "--quick")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    results, (passed, failed) = parse_output(result.stdout)
    assert failed == 0 and passed == len(results) + 2  # + registry and choice table
    archs = {m.group(4) for m in results}
    assert archs == {"sse41", "scalar"}, f"a CPU without AVX ran {archs - {'sse41', 'scalar'}} kernels"
    sse41 = {m.group(2) for m in results if m.group(4) == "sse41"}
    assert x86_families() <= sse41, f"no SSE4.1 kernel tested for {x86_families() - sse41}"


def test_no_avx_cpu_refuses_a_forced_avx2_level(binary: Path) -> None:
    result = emulated(binary, "Nehalem", "--quick", "--family", "f32_vadd", force="avx2")
    assert result.returncode == 2
    assert "SPARSEBYTE_KERNELS=avx2: this CPU does not run that level (best: sse4.1)" in result.stderr


def test_avx2_cpu_picks_avx2(binary: Path) -> None:
    result = emulated(binary, "Haswell", "--quick", "--family", "f32_dwconv")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    results, (_, failed) = parse_output(result.stdout)
    assert failed == 0
    assert {m.group(4) for m in results} == {"avx2", "sse41", "scalar"}  # Haswell has no AVX-512
