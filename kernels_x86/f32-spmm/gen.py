"""Generates the x86 f32-spmm kernels from one template (spmm.inc: G x NV accumulator vectors over a group's kept
inputs), one .c file per (ISA level, G, pixel tile), plus list.h. Run: python3 kernels_x86/f32-spmm/gen.py (the
outputs are committed; tests/kernels/test_generated.py checks they are current). Which variant a node runs is
kernels_x86/config/x86.c's choice, from benchmarks/kernels figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "common"))
import x86_gen as gen_common  # noqa: E402  (kernels_x86/common is no package; not "gen_common": kernels_wasm has one)

GLOB = "*_g*_*x.c"  # the generated kernel files, for the stale check and rewriting
LANES = {"sse41": 4, "avx2": 8, "avx512": 16}
# (level, G, vectors per tile): G x NV accumulators + NV inputs + 1 broadcast fit the register file
# (SSE4.1 and AVX2 16 registers, AVX-512 32)
# (benchmarks/kernels --targets x86, docs/x86.md: avx512 g4_64x lost to avx2 g4_24x on 88 of 90 cases and went;
# after the unrolled template avx512 g4_48x was the fastest G=4 kernel in 75 of 90 cases, g4_32x in 8: 32x went)
VARIANTS: list[tuple[str, int, int]] = [
    ("avx512", 1, 4), ("avx512", 2, 4), ("avx512", 4, 3), ("avx512", 8, 2),
    ("avx2", 1, 4), ("avx2", 2, 4), ("avx2", 4, 3), ("avx2", 8, 1),
    ("sse41", 1, 4), ("sse41", 2, 4), ("sse41", 4, 2), ("sse41", 8, 1),
]


def tile(level: str, nv: int) -> int:
    return LANES[level] * nv


def kernel_name(level: str, g: int, nv: int) -> str:
    return f"sb_f32_spmm_ukernel__{level}_g{g}_{tile(level, nv)}x"


def file_name(level: str, g: int, nv: int) -> str:
    return f"{level}_g{g}_{tile(level, nv)}x.c"


def kernel_source(level: str, g: int, nv: int) -> str:
    return "\n".join([
        *gen_common.prologue("f32-spmm", "spmm.inc", level, f"G = {g}, pixel tile {tile(level, nv)}. See spmm.inc."),
        f"void {kernel_name(level, g, nv)}(size_t pixels, size_t plane_stride, const sb_sparse_weights* w,",
        "                                 const float* input, float* output, const sb_activation* act) {",
        f"  spmm({g}, {nv}, pixels, plane_stride, w, input, output, act);",
        "}",
        "",
    ])


def outputs() -> dict[Path, str]:
    files = {HERE / file_name(*v): kernel_source(*v) for v in VARIANTS}
    rows = [(lv, kernel_name(lv, g, nv), g, tile(lv, nv)) for lv, g, nv in VARIANTS]
    files[HERE / "list.h"] = gen_common.list_header("f32-spmm", "G, pixel_tile", rows)
    return files


def stale() -> list[str]:
    return gen_common.stale(HERE, outputs(), GLOB)


if __name__ == "__main__":
    sys.exit(gen_common.main(HERE, outputs, GLOB, "kernels_x86/f32-spmm/gen.py"))
