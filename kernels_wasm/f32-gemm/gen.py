"""Generates the WASM SIMD128 f32-gemm kernels from one template (gemm.h: C channels x tile pixels of accumulators
over all input channels), one .c file per (C, pixel tile), plus list.h. Run: python3 kernels_wasm/f32-gemm/gen.py
(the outputs are committed; tests/kernels/test_generated.py checks they are current). Which variant a node runs is
kernels_wasm/config/wasmsimd.c's choice, from benchmarks/kernels figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "common"))
import gen_common  # noqa: E402  (kernels_wasm/common is no package: scripts run from anywhere)

GLOB = "wasmsimd_*x*.c"  # the generated kernel files, for the stale check and rewriting

# (channel tile C <= 8, pixel tile <= 16); the pixel tile is a multiple of 4 (one v128 holds 4 pixels)
# measured in node (benchmarks/kernels, 5 variants, two runs): 4x8 and 2x16 won; 4x16, 8x4, 8x8 lost and were dropped
VARIANTS: list[tuple[int, int]] = [(4, 8), (2, 16)]


def kernel_name(g: int, tile: int) -> str:
    return f"sb_f32_gemm_ukernel__wasmsimd_{g}x{tile}"


def file_name(g: int, tile: int) -> str:
    return f"wasmsimd_{g}x{tile}.c"


def kernel_source(g: int, tile: int) -> str:
    return "\n".join([
        *gen_common.prologue("f32-gemm", f"{g} channels x {tile} pixels. See gemm.h."),
        f"void {kernel_name(g, tile)}(size_t pixels, size_t plane_stride, size_t out_channels, size_t in_channels,",
        "                                       const float* weights, const float* bias, const float* input,",
        "                                       float* output, const sb_activation* act) {",
        f"  gemm({g}, {tile // 4}, pixels, plane_stride, out_channels, in_channels, weights, bias, input, output,",
        "       act);",
        "}",
        "",
    ])


def outputs() -> dict[Path, str]:
    return gen_common.outputs(HERE, "f32-gemm", "channel_tile, pixel_tile", VARIANTS, file_name, kernel_name,
                              kernel_source)


def stale() -> list[str]:
    return gen_common.stale(HERE, outputs(), GLOB)


if __name__ == "__main__":
    sys.exit(gen_common.main(HERE, outputs, GLOB, "kernels_wasm/f32-gemm/gen.py"))
