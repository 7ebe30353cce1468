"""Kernel tests: builds the C harness (tests/kernels/kernel_test.c) per configuration and runs every registry entry
of every family against the harness's naive references. Also checks that the harness itself catches broken kernels.

Configurations live in build_harness.CONFIGS; NEON ones run once kernels_arm/kernels.mk exists."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from build_harness import CONFIGS, REPO, build, built, run

sys.path.insert(0, str(REPO / "engine" / "kernels"))
import gen_registry  # noqa: E402

FAMILIES = [name for name, _, _ in gen_registry.families()]  # engine/kernels/families.inc
RESULT_LINE = re.compile(r"^(PASS|FAIL) (\S+) (\S+) \[(\w+), params (-?\d+),(-?\d+)\]: (\d+) cases, (\d+) failed$")
SUMMARY_LINE = re.compile(r"^(\d+) passed, (\d+) failed$")


def parse_output(stdout: str) -> tuple[list[re.Match[str]], tuple[int, int]]:
    lines = stdout.strip().splitlines()
    assert lines, "kernel_test printed nothing"
    summary = SUMMARY_LINE.match(lines[-1])
    assert summary is not None, f"last line is not the summary: {lines[-1]!r}"
    results = [m for m in (RESULT_LINE.match(line) for line in lines) if m is not None]
    return results, (int(summary.group(1)), int(summary.group(2)))


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_every_registered_kernel_matches_reference(config_name: str) -> None:
    config = CONFIGS[config_name]
    reason = config.missing_requirement()
    if reason is not None:
        pytest.skip(reason)
    binary = built(config)
    result = run(config, binary)
    assert result.returncode == 0, f"kernel_test failed for {config_name}:\n{result.stdout}\n{result.stderr}"
    results, (passed, failed) = parse_output(result.stdout)
    assert failed == 0
    assert "PASS registry" in result.stdout
    assert "PASS choice table" in result.stdout
    assert passed == len(results) + 2  # + the registry and choice-table lines
    tested = {m.group(2) for m in results}
    if "--arch" in config.args:  # one x86 level's kernels alone
        level = config.args[config.args.index("--arch") + 1]
        assert results and {m.group(4) for m in results} == {level}
    else:
        assert tested == set(FAMILIES), f"families without a tested kernel: {set(FAMILIES) - tested}"
    for m in results:
        assert int(m.group(7)) >= 10, f"{m.group(3)} ran only {m.group(7)} cases"
    if "-DSB_ARCH_X86" in config.flags and "--arch" not in config.args:
        assert any(m.group(4) in ("sse41", "avx2", "avx512") for m in results), "no x86 kernel ran"
    if "-DSB_ARCH_NEON" in config.flags:
        assert any(m.group(4) == "neon" for m in results), "an SB_ARCH_NEON build registered no NEON kernel"


def test_family_filter_and_usage_errors() -> None:
    config = CONFIGS["scalar"]
    binary = built(config)
    result = run(config, binary, ["--family", "f32_vadd", "--quick"])
    assert result.returncode == 0, result.stdout + result.stderr
    results, (passed, failed) = parse_output(result.stdout)
    assert {m.group(2) for m in results} == {"f32_vadd"}
    assert (passed, failed) == (len(results), 0)

    unknown = run(config, binary, ["--family", "f32_nonsense"])
    assert unknown.returncode == 2
    assert "unknown family 'f32_nonsense'" in unknown.stderr

    nothing = run(config, binary, ["--kernel", "no_such_kernel"])
    assert nothing.returncode == 2
    assert "no kernel matches" in nothing.stderr


# Each mutant breaks one rule of the kernel contract in a copy of the scalar kernels (or a reference header they
# include); the harness must notice.
MUTANTS = [
    ("f32-spmm/scalar.c", "float acc = w->bias[c];", "float acc = 0.0f;", "f32_spmm"),
    ("f32-spmm/scalar.c", "const size_t lane = c % g_size;", "const size_t lane = c % 4 % g_size;", "f32_spmm"),
    ("f32-spmm/scalar.c", "p < pixels", "p <= pixels", "f32_spmm"),
    ("f32-spmm/scalar.c", "sb_activate(act, acc)", "sb_activate(act, acc * 1.0001f)", "f32_spmm"),
    ("f32-gemm/scalar.c", "i * plane_stride + p", "i * pixels + p", "f32_gemm"),
    ("f32-conv/scalar.c", "ky * s->dil_h", "ky", "f32_conv"),
    (
        "f32-conv/scalar.c",
        "size_t oy = oy_begin; oy < oy_end",
        "size_t oy = oy_begin; oy < oy_end + (oy_end < (size_t)s->out_h)",
        "f32_conv",
    ),
    ("f32-conv/scalar.c", "(oc / out_per_group) * in_per_group", "(oc / out_per_group) * 0", "f32_conv"),
    ("f32-dwconv/scalar.c", "ox * s->stride_w - s->pad_left", "ox * s->stride_w", "f32_dwconv"),
    ("f32-spconv/scalar.c", "kx * s->dil_w", "kx", "f32_spconv"),
    ("f32-pool/pool_pixel.h", "float best = -INFINITY;", "float best = 0.0f;", "f32_maxpool"),
    ("f32-pool/pool_pixel.h", "if (s->count_include_pad) {", "if (0) {", "f32_avgpool"),
    ("f32-pool/pool_pixel.h", "divisor = rows_div * (px1 - px0);", "divisor = rows_div * s->kw;", "f32_avgpool"),
    ("f32-gavgpool/scalar.c", "sum / (float)pixels", "sum / (float)(pixels + 1)", "f32_gavgpool"),
    ("f32-vbinary/scalar.c", "a[c * pixels + p] * b[c]", "a[c * pixels + p] * b[0]", "f32_vmulc"),
    (
        "f32-vunary/scalar.c",
        "y[i] = sb_activate(act, x[i]);",
        "y[i] = sb_activate(act, x[i] > 0.0f ? x[i] : 0.0f);",
        "f32_vact",
    ),
    ("f32-vunary/scalar.c", "* scale[c] + shift[c]", "* scale[c] + shift[0]", "f32_affine"),
    ("f32-resize/scalar.c", "dst[ox] = row[p->x_lo[ox]];", "dst[ox] = row[p->x_lo[ox] / 2];", "f32_resize_nearest"),
    ("f32-resize/scalar.c", "wx1 * wy1 * r1[x1]", "wx1 * wy1 * r1[x0]", "f32_resize_bilinear"),
    ("f32-transpose/scalar.c", "input[b * in_stride + a]", "input[b * in_stride + (a ^ 1) % a_count]", "f32_transpose"),
]


@pytest.mark.parametrize(
    ("source", "original", "broken", "family"), MUTANTS, ids=[f"{m[3]}-{i}" for i, m in enumerate(MUTANTS)]
)
def test_harness_catches_broken_kernel(source: str, original: str, broken: str, family: str, tmp_path: Path) -> None:
    kernels = tmp_path / "kernels"
    shutil.copytree(REPO / "engine" / "kernels", kernels)
    path = kernels / source
    text = path.read_text()
    assert text.count(original) == 1, f"{source} changed: update the mutant {original!r}"
    path.write_text(text.replace(original, broken))
    config = replace(CONFIGS["scalar"], flags=("-O0",))  # compiles twice as fast; the run is still instant
    binary = build(config, tmp_path / "build", kernels_dir=str(kernels))
    result = run(config, binary, ["--family", family])
    assert result.returncode == 1, f"the harness passed a broken {family} kernel:\n{result.stdout}"
    results, (passed, failed) = parse_output(result.stdout)
    assert failed >= 1 and failed == sum(m.group(1) == "FAIL" for m in results)
    assert "FAIL [" in result.stdout  # the failing case is described


def test_generated_registry_lists_are_current() -> None:
    """registry_lists.inc is generated from families.inc; a family added without rerunning the generator fails."""
    assert len(FAMILIES) >= 14 and len(set(FAMILIES)) == len(FAMILIES)
    check = subprocess.run([sys.executable, str(REPO / "engine/kernels/gen_registry.py"), "--check"],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    text = (REPO / "engine/kernels/registry_lists.inc").read_text()
    for name, _, directory in gen_registry.families():
        assert f"static const sb_kernel_entry {name}_entries[]" in text
        assert f'#include "{directory}/list.h"' in text
    # one more families.inc line gives a different file (so --check fails until the generator is rerun)
    added = gen_registry.FAMILIES_FILE.read_text() + 'SB_FAMILY(f32_new, F32_NEW, "f32-new", t, a, ANY0, b, ANY0)\n'
    assert "f32_new_entries" in gen_registry.render(gen_registry.families(added))
    assert gen_registry.render(gen_registry.families(added)) != text

