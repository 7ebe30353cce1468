"""NEON kernels (kernels_arm/) against the team's kernel harness (tests/kernels/build_harness.py): every entry of
every kernels_arm/<family>/list.h must be built, run on the harness's awkward shapes and pass, both through SIMDe on
x86 under ASan + UBSan (neon-simde-asan) and as real aarch64 code under qemu-aarch64 (aarch64-qemu)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "kernels"))

from build_harness import CONFIGS, built, run  # noqa: E402

LIST_LINE = re.compile(r"^SB_UKERNEL\((\w+),\s*(\w+),\s*(-?\d+),\s*(-?\d+)\)", re.MULTILINE)
RESULT_LINE = re.compile(r"^(PASS|FAIL) (\S+) (\S+) \[(\w+), params (-?\d+),(-?\d+)\]: (\d+) cases, (\d+) failed$",
                         re.MULTILINE)


def neon_entries() -> set[tuple[str, str]]:
    """(family, function) of every line of every kernels_arm list."""
    entries = set()
    for path in sorted((REPO / "kernels_arm").glob("*/list.h")):
        entries |= {(m.group(1), m.group(2)) for m in LIST_LINE.finditer(path.read_text())}
    return entries


def test_lists_name_kernels_of_every_compute_family() -> None:
    families = {family for family, _ in neon_entries()}
    for family in ("f32_spmm", "f32_gemm", "f32_conv", "f32_dwconv", "f32_spconv", "f32_gavgpool", "f32_vadd",
                   "f32_vmul", "f32_vaddc", "f32_vmulc", "f32_vmaxc", "f32_vminc", "f32_vpreluc", "f32_vact",
                   "f32_affine"):
        assert family in families, f"no NEON kernel for {family}"
    spmm_groups = {int(m.group(3)) for m in LIST_LINE.finditer((REPO / "kernels_arm/f32-spmm/list.h").read_text())}
    assert spmm_groups == {1, 2, 4, 8}


@pytest.mark.parametrize("config_name", ["neon-simde-asan", "aarch64-qemu"])
def test_every_neon_kernel_passes_the_harness(config_name: str) -> None:
    config = CONFIGS[config_name]
    binary = built(config)  # the binary tests/kernels runs too, when both run in one session
    result = run(config, binary)
    assert result.returncode == 0, f"{config_name}:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    tested = {(m.group(2), m.group(3)): m for m in RESULT_LINE.finditer(result.stdout)}
    for family, fn in sorted(neon_entries()):
        m = tested.get((family, fn))
        assert m is not None, f"{config_name}: {fn} ({family}) was not tested"
        assert m.group(1) == "PASS" and m.group(4) == "neon", m.group(0)
        assert int(m.group(7)) >= 10, f"{fn} ran only {m.group(7)} cases"


def test_harness_fails_a_neon_kernel_no_rule_chooses(tmp_path: Path) -> None:
    """kernel_test's choice-table check: with one rule dropped from a copy of kernels_arm/config/neon.c, the
    kernel it chose is registered but never dispatched, and the harness says so."""
    from build_harness import relinked

    config = CONFIGS["neon-simde-asan"]
    table = (REPO / "kernels_arm/config/neon.c").read_text()
    rule = "    SB_RULE(F32_SPMM, sb_f32_spmm_ukernel__neon_g8_12x, 8, 0, 0, 0, 0, 0),\n"
    assert table.count(rule) == 1, "kernels_arm/config/neon.c changed: update this test's rule"
    broken = tmp_path / "neon.c"
    broken.write_text(table.replace(rule, ""))
    # the harness's objects, with only the broken table compiled anew
    binary = relinked(config, {"kernels_arm/config/neon.c": broken}, tmp_path)
    result = run(config, binary, ["--family", "registry"])
    assert result.returncode == 1, result.stdout
    assert "sb_f32_spmm_ukernel__neon_g8_12x (f32_spmm) is in the registry but no rule chooses it" in result.stdout
    assert "FAIL choice table" in result.stdout
