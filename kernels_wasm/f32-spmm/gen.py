"""Generates the WASM SIMD128 f32-spmm kernels from one template (spmm.h: G x tile accumulators over a group's kept
inputs), one .c file per (G, pixel tile), plus list.h. Run: python3 kernels_wasm/f32-spmm/gen.py (the outputs are
committed; tests/kernels/test_generated.py checks they are current). Which variant a node runs is
kernels_wasm/config/wasmsimd.c's choice, from benchmarks/kernels figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "common"))
import gen_common  # noqa: E402  (kernels_wasm/common is no package: scripts run from anywhere)

GLOB = "wasmsimd_g*.c"  # the generated kernel files, for the stale check and rewriting

# (G, pixel tile); the tile is a multiple of 4 (one v128 holds 4 pixels)
# measured in node (benchmarks/kernels, 8 variants): these won; g1_32x, g2_8x, g4_16x, g8_8x lost and were dropped
VARIANTS: list[tuple[int, int]] = [(1, 28), (2, 16), (4, 8), (8, 4)]


def kernel_name(g: int, tile: int) -> str:
    return f"sb_f32_spmm_ukernel__wasmsimd_g{g}_{tile}x"


def file_name(g: int, tile: int) -> str:
    return f"wasmsimd_g{g}_{tile}x.c"


def kernel_source(g: int, tile: int) -> str:
    return "\n".join([
        *gen_common.prologue("f32-spmm", f"G = {g}, pixel tile {tile}. See spmm.h."),
        f"void {kernel_name(g, tile)}(size_t pixels, size_t plane_stride, const sb_sparse_weights* w,",
        "                                          const float* input, float* output, const sb_activation* act) {",
        f"  spmm({g}, {tile // 4}, pixels, plane_stride, w, input, output, act);",
        "}",
        "",
    ])


def outputs() -> dict[Path, str]:
    return gen_common.outputs(HERE, "f32-spmm", "G, pixel_tile", VARIANTS, file_name, kernel_name, kernel_source)


def stale() -> list[str]:
    return gen_common.stale(HERE, outputs(), GLOB)


if __name__ == "__main__":
    sys.exit(gen_common.main(HERE, outputs, GLOB, "kernels_wasm/f32-spmm/gen.py"))
