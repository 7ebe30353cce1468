"""Generates the x86 f32-gemm kernels from one template (gemm.inc: MR channels x NV pixel vectors), one .c file per
(ISA level, MR, pixel tile), plus list.h. Run: python3 kernels_x86/f32-gemm/gen.py (the outputs are committed;
tests/kernels/test_generated.py checks they are current). kernels_x86/config/x86.c chooses, from benchmarks/kernels.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "common"))
import x86_gen as gen_common  # noqa: E402  (kernels_x86/common is no package; not "gen_common": kernels_wasm has one)

GLOB = "*_*x*.c"
LANES = {"sse41": 4, "avx2": 8, "avx512": 16}
# (level, MR channels, NV vectors): MR x NV accumulators + NV inputs + 1 broadcast within the register file
# (16 xmm/ymm, 32 zmm); MR <= 12 (gemm.inc's remainder switch)
VARIANTS: list[tuple[str, int, int]] = [("avx512", 8, 2), ("avx2", 6, 2), ("sse41", 4, 2)]


def tile(level: str, nv: int) -> int:
    return LANES[level] * nv


def kernel_name(level: str, mr: int, nv: int) -> str:
    return f"sb_f32_gemm_ukernel__{level}_{mr}x{tile(level, nv)}"


def file_name(level: str, mr: int, nv: int) -> str:
    return f"{level}_{mr}x{tile(level, nv)}.c"


def kernel_source(level: str, mr: int, nv: int) -> str:
    return "\n".join([
        *gen_common.prologue("f32-gemm", "gemm.inc", level, f"{mr} channels x {tile(level, nv)} pixels. See gemm.inc."),
        f"void {kernel_name(level, mr, nv)}(size_t pixels, size_t plane_stride, size_t out_channels,",
        "                                 size_t in_channels, const float* weights, const float* bias,",
        "                                 const float* input, float* output, const sb_activation* act) {",
        f"  gemm({mr}, {nv}, pixels, plane_stride, out_channels, in_channels, weights, bias, input, output, act);",
        "}",
        "",
    ])


def outputs() -> dict[Path, str]:
    files = {HERE / file_name(*v): kernel_source(*v) for v in VARIANTS}
    rows = [(lv, kernel_name(lv, mr, nv), mr, tile(lv, nv)) for lv, mr, nv in VARIANTS]
    files[HERE / "list.h"] = gen_common.list_header("f32-gemm", "channel_tile, pixel_tile", rows)
    return files


def stale() -> list[str]:
    return gen_common.stale(HERE, outputs(), GLOB)


if __name__ == "__main__":
    sys.exit(gen_common.main(HERE, outputs, GLOB, "kernels_x86/f32-gemm/gen.py"))
