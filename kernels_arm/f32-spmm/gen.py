"""Generates the NEON f32-spmm kernels (group-sparse 1x1 conv / FC, NCHW) from one template, one .c file per
(G, pixel tile), plus list.h. Run from anywhere: python3 kernels_arm/f32-spmm/gen.py (the outputs are committed).

Per pixel tile and group: a G x tile block of accumulators lives in registers; for each kept input channel of the
group, the tile's input row is loaded once and multiplied with the G-vector of weights by lane (fmla by element), so
each input load feeds G FMAs. Remainder pixels drop to half tiles down to 4, then 1 pixel at a time (a G-vector FMA).
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

# (G, main pixel tile). Which one a node runs is kernels_arm/config/neon.c's choice, from benchmarks/kernels figures;
# g1_16x, g4_8x and g8_8x were dropped: never fewer instructions than g1_32x / g4_16x / g8_12x on any MobileNet 1x1
# shape (benchmarks/kernels; FC ties within 0.3%).
VARIANTS: list[tuple[int, int]] = [(1, 32), (2, 16), (4, 16), (8, 12)]


def weight_load(g: int) -> list[str]:
    """Declarations of the G weights of one kept entry (pointer wv)."""
    if g == 1:
        return ["const float32x4_t w0 = vld1q_dup_f32(wv);"]
    if g == 2:
        return ["const float32x2_t w0 = vld1_f32(wv);"]
    return [f"const float32x4_t w{h} = vld1q_f32(wv + {4 * h});" for h in range(g // 4)]


def input_load(nv: int) -> list[str]:
    """The tile's input row (pointer x) in nv vectors, with multi-register loads (one ld1 for up to 4 vectors)."""
    lines: list[str] = []
    v = 0
    while v < nv:
        n = min(4, nv - v)
        if n == 1:
            lines.append(f"const float32x4_t x{v} = vld1q_f32(x + {4 * v});")
        else:
            lines.append(f"const float32x4x{n}_t x{v}_{n} = vld1q_f32_x{n}(x + {4 * v});")
            lines += [f"const float32x4_t x{v + i} = x{v}_{n}.val[{i}];" for i in range(n)]
        v += n
    return lines


def fma(g: int, k: int, acc: str, x: str) -> str:
    if g == 1:
        return f"{acc} = vfmaq_f32({acc}, {x}, w0);"
    if g == 2:
        return f"{acc} = vfmaq_lane_f32({acc}, {x}, w0, {k});"
    return f"{acc} = vfmaq_laneq_f32({acc}, {x}, w{k // 4}, {k % 4});"


def tile_function(g: int, tile: int) -> list[str]:
    """Static function computing `tile` pixels (a multiple of 4) of every output channel."""
    nv = tile // 4
    lines = [
        f"static inline void tile_{tile}(const sb_sparse_weights* w, const float* in, float* out, size_t plane_stride,",
        "                               const sb_neon_act* act) {",
        "  const size_t cout = (size_t)w->out_channels;",
        "  const int32_t* group_start = w->group_start;",
        "  for (size_t g = 0; g < (size_t)w->num_groups; g++) {",
        f"    const size_t c0 = g * {g};",
    ]
    if g > 1:
        lines.append(f"    const size_t valid = cout - c0 < {g} ? cout - c0 : {g};")
    else:
        lines.append("    (void)cout;")
    for k in range(g):
        bias = f"w->bias[c0 + {k}]" if k == 0 else f"({k} < valid ? w->bias[c0 + {k}] : 0.0f)"
        lines.append(f"    const float32x4_t b{k} = vdupq_n_f32({bias});")
        lines += [f"    float32x4_t a{k}_{v} = b{k};" for v in range(nv)]
    lines += [
        "    const int32_t* idx = w->index + group_start[g];",
        "    const int32_t* const idx_end = w->index + group_start[g + 1];",
        f"    const float* wv = w->values + (size_t)group_start[g] * {g};",
    ]
    # Two kept entries per iteration (halves the loop overhead), then the odd one.
    body = input_load(nv) + weight_load(g)
    for k in range(g):
        body += [fma(g, k, f"a{k}_{v}", f"x{v}") for v in range(nv)]
    lines.append(f"    for (; idx + 2 <= idx_end; idx += 2, wv += {2 * g}) {{")
    for half in range(2):
        lines.append("      {")
        lines.append(f"        const float* x = in + (size_t)idx[{half}] * plane_stride;")
        if half:
            lines.append("        const float* const wv0 = wv;")
            lines.append(f"        const float* wv = wv0 + {g};")
        lines += ["        " + b for b in body]
        lines.append("      }")
    lines.append("    }")
    lines.append("    if (idx < idx_end) {")
    lines.append("      const float* x = in + (size_t)*idx * plane_stride;")
    lines += ["      " + b for b in body]
    lines.append("    }")
    lines.append("    float* o = out + c0 * plane_stride;")
    for k in range(g):
        guard = "" if k == 0 else f"if ({k} < valid) "
        stores = " ".join(
            f"vst1q_f32(o + {k} * plane_stride + {4 * v}, sb_neon_activate(a{k}_{v}, act));" for v in range(nv)
        )
        lines.append(f"    {guard}{{ {stores} }}")
    lines += ["  }", "}", ""]
    return lines


def pixel_function(g: int) -> list[str]:
    """One pixel of every output channel: the G channels of a group form the vector (G < 4: scalar lanes)."""
    lines = [
        "static inline void pixel_1(const sb_sparse_weights* w, const float* in, float* out, size_t plane_stride,",
        "                           const sb_activation* act) {",
        "  const size_t cout = (size_t)w->out_channels;",
        "  for (size_t g = 0; g < (size_t)w->num_groups; g++) {",
        f"    const size_t c0 = g * {g};",
        f"    const size_t valid = cout - c0 < {g} ? cout - c0 : {g};",
        f"    float bias[{max(g, 4)}] = {{0}};",
        "    for (size_t k = 0; k < valid; k++) bias[k] = w->bias[c0 + k];",
        f"    const float* wv = w->values + (size_t)w->group_start[g] * {g};",
        "    const int32_t* idx = w->index + w->group_start[g];",
        "    const int32_t* const idx_end = w->index + w->group_start[g + 1];",
    ]
    if g >= 4:
        nh = g // 4
        lines += [f"    float32x4_t a{h} = vld1q_f32(bias + {4 * h});" for h in range(nh)]
        lines += [f"    for (; idx < idx_end; idx++, wv += {g}) {{",
                  "      const float x = in[(size_t)*idx * plane_stride];"]
        lines += [f"      a{h} = vfmaq_n_f32(a{h}, vld1q_f32(wv + {4 * h}), x);" for h in range(nh)]
        lines += ["    }", f"    float acc[{g}];"]
        lines += [f"    vst1q_f32(acc + {4 * h}, a{h});" for h in range(nh)]
    else:
        lines += [f"    float acc[{g}];", f"    for (size_t k = 0; k < {g}; k++) acc[k] = bias[k];"]
        lines += [f"    for (; idx < idx_end; idx++, wv += {g}) {{",
                  "      const float x = in[(size_t)*idx * plane_stride];"]
        lines += [f"      acc[{k}] += wv[{k}] * x;" for k in range(g)]
        lines += ["    }"]
    lines += [
        "    for (size_t k = 0; k < valid; k++) out[(c0 + k) * plane_stride] = sb_neon_activate1(act, acc[k]);",
        "  }",
        "}",
        "",
    ]
    return lines


def kernel_name(g: int, tile: int) -> str:
    return f"sb_f32_spmm_ukernel__neon_g{g}_{tile}x"


def kernel_source(g: int, tile: int) -> str:
    tiles = [tile] + [t for t in (16, 8, 4) if t < tile]  # remainders in whole vectors, then single pixels
    lines = [
        f"/* Generated by kernels_arm/f32-spmm/gen.py: do not edit. G = {g}, pixel tile {tile}. See sb_kernels.h. */",
        '#include "kernels_arm/common/neon.h"',
        "",
        "#define SB_UKERNEL(family, fn, p1, p2) sb_##family##_ukernel fn;",
        '#include "kernels_arm/f32-spmm/list.h"',
        "#undef SB_UKERNEL",
        "",
    ]
    for t in tiles:
        lines += tile_function(g, t)
    lines += pixel_function(g)
    lines += [
        f"void {kernel_name(g, tile)}(size_t pixels, size_t plane_stride, const sb_sparse_weights* w,",
        "                                 const float* input, float* output, const sb_activation* act) {",
        "  const sb_neon_act na = sb_neon_act_init(act);",
        "  size_t p = 0;",
        f"  for (; p + {tiles[0]} <= pixels; p += {tiles[0]})",
        f"    tile_{tiles[0]}(w, input + p, output + p, plane_stride, &na);",
    ]
    for t in tiles[1:]:
        lines.append(f"  if (pixels - p >= {t}) {{")
        lines.append(f"    tile_{t}(w, input + p, output + p, plane_stride, &na);")
        lines.append(f"    p += {t};")
        lines.append("  }")
    lines += ["  for (; p < pixels; p++) pixel_1(w, input + p, output + p, plane_stride, act);", "}", ""]
    return "\n".join(lines)


def list_header() -> str:
    lines = [
        "/* Generated by kernels_arm/f32-spmm/gen.py. NEON f32-spmm kernels (kernels_arm/config/neon.c chooses):",
        " * SB_UKERNEL(f32_spmm, fn, G, pixel_tile). */",
    ]
    lines += [f"SB_UKERNEL(f32_spmm, {kernel_name(g, t)}, {g}, {t})" for g, t in VARIANTS]
    return "\n".join(lines) + "\n"


def main() -> None:
    for old in HERE.glob("neon_g*.c"):
        old.unlink()
    for g, tile in VARIANTS:
        (HERE / f"neon_g{g}_{tile}x.c").write_text(kernel_source(g, tile))
    (HERE / "list.h").write_text(list_header())


if __name__ == "__main__":
    main()
