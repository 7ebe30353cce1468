"""Per-layer bar charts of one or two profiles (report.py): cost (time or instructions), MACs (executed over dense)
and weight sparsity, one row per op. One layout, drawn twice: a PNG with Pillow and a standalone HTML page with an
inline SVG (plus the text table), so no plotting library is needed."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from .report import LayerRow, Profile, cost_header, format_compare, format_table, pair_rows

SERIES_COLORS = ("#3b6fb6", "#e07b39")  # model a, model b
LIGHT = ("#c9d7ee", "#f6d2bb")  # dense MACs behind the executed ones
NAME_WIDTH, PANEL_WIDTH, GAP, ROW, TOP, FONT = 300, 250, 24, 18, 64, 11


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    outline: str | None = None


@dataclass
class Text:
    x: float
    y: float
    text: str
    color: str = "#222222"
    anchor: str = "start"  # start | end
    size: int = FONT


def _short(name: str, width: int = 44) -> str:
    return name if len(name) <= width else "..." + name[-(width - 3):]


def layout(profiles: list[Profile]) -> tuple[int, int, list[Rect | Text]]:
    """(width, height, shapes) of the chart: one row per op (ops of a second profile matched by name)."""
    pairs: list[tuple[LayerRow | None, ...]]
    if len(profiles) == 2:
        pairs = list(pair_rows(profiles[0], profiles[1]))
    else:
        pairs = [(r,) for r in profiles[0].rows]
    metric = profiles[0].metric
    n = len(profiles)
    width = NAME_WIDTH + 3 * (PANEL_WIDTH + GAP)
    height = TOP + ROW * len(pairs) + 40
    shapes: list[Rect | Text] = [Rect(0, 0, width, height, "#ffffff")]
    title = " vs ".join(f"{p.label} ({p.device}, {p.backend})" for p in profiles)
    shapes.append(Text(8, 18, f"sparsebyte profile: {title}", size=13))
    for i, p in enumerate(profiles):  # legend
        x = 8 + i * 260
        shapes += [Rect(x, 30, 12, 10, SERIES_COLORS[i]), Text(x + 16, 39, _short(p.label, 36))]
    panels = [(f"cost ({cost_header(metric)})", lambda p, r: p.cost(r)),
              ("MACs (light: dense)", lambda p, r: float(r.macs)),
              ("weight sparsity", lambda p, r: (r.sparsity or 0.0) * 100)]
    for k, (title_k, value) in enumerate(panels):
        x0 = NAME_WIDTH + k * (PANEL_WIDTH + GAP)
        if k == 2:
            scale_max = 100.0
        elif k == 1:
            scale_max = max((float(r.dense_macs) for pair in pairs for r in pair if r), default=0.0)
        else:
            scale_max = max((value(p, r) for pair in pairs for p, r in zip(profiles, pair, strict=True) if r),
                            default=0.0)
        scale_max = scale_max or 1.0
        shapes.append(Text(x0, TOP - 8, title_k))
        shapes.append(Rect(x0, TOP - 2, 1, ROW * len(pairs) + 4, "#888888"))
        right = "100%" if k == 2 else (f"{scale_max:,.0f}" if scale_max >= 100 else f"{scale_max:.3g}")
        shapes.append(Text(x0 + PANEL_WIDTH, TOP + ROW * len(pairs) + 16, right, color="#666666", anchor="end"))
        for j, pair in enumerate(pairs):
            bar_h = (ROW - 4) / n
            for i, (p, r) in enumerate(zip(profiles, pair, strict=True)):
                if r is None:
                    continue
                y = TOP + j * ROW + 2 + i * bar_h
                if k == 1 and r.dense_macs:
                    shapes.append(Rect(x0 + 1, y, PANEL_WIDTH * r.dense_macs / scale_max, bar_h - 1, LIGHT[i]))
                w = PANEL_WIDTH * value(p, r) / scale_max
                if w > 0:
                    shapes.append(Rect(x0 + 1, y, max(w, 1.0), bar_h - 1, SERIES_COLORS[i]))
    for j, pair in enumerate(pairs):
        ref = next(r for r in pair if r is not None)
        if j % 2 == 0:
            shapes.insert(1, Rect(0, TOP + j * ROW, width, ROW, "#f4f4f4"))
        shapes.append(Text(NAME_WIDTH - 8, TOP + j * ROW + 13, f"{_short(ref.name, 32)} {ref.op[:12]}", anchor="end"))
    return width, height, shapes


def write_png(profiles: list[Profile], path: Path) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    width, height, shapes = layout(profiles)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    fonts: dict[int, ImageFont.ImageFont | ImageFont.FreeTypeFont] = {}

    def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
        if size not in fonts:
            try:
                fonts[size] = ImageFont.load_default(size)  # scalable since Pillow 10.1
            except TypeError:
                fonts[size] = ImageFont.load_default()
        return fonts[size]

    for s in shapes:
        if isinstance(s, Rect):
            draw.rectangle([s.x, s.y, s.x + max(s.w, 1) - 1, s.y + max(s.h, 1) - 1], fill=s.fill, outline=s.outline)
        else:
            f = font(s.size)
            x = s.x - draw.textlength(s.text, font=f) if s.anchor == "end" else s.x
            draw.text((x, s.y - s.size), s.text, fill=s.color, font=f)
    image.save(path, "PNG")
    return path


def svg(profiles: list[Profile]) -> str:
    width, height, shapes = layout(profiles)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif">']
    for s in shapes:
        if isinstance(s, Rect):
            stroke = f' stroke="{s.outline}"' if s.outline else ""
            out.append(f'<rect x="{s.x:.1f}" y="{s.y:.1f}" width="{max(s.w, 0):.1f}" height="{s.h:.1f}" '
                       f'fill="{s.fill}"{stroke}/>')
        else:
            out.append(f'<text x="{s.x:.1f}" y="{s.y:.1f}" font-size="{s.size}" fill="{s.color}" '
                       f'text-anchor="{s.anchor}">{html.escape(s.text)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def write_html(profiles: list[Profile], path: Path) -> Path:
    table = format_compare(*profiles) if len(profiles) == 2 else format_table(profiles[0])
    title = html.escape(" vs ".join(p.label for p in profiles))
    page = (f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>sparsebyte profile: {title}</title>"
            "<style>body{font-family:sans-serif;margin:16px}pre{font-size:12px}</style></head><body>\n"
            f"<h1>sparsebyte profile: {title}</h1>\n{svg(profiles)}\n<pre>{html.escape(table)}</pre>\n"
            "</body></html>\n")
    path.write_text(page, encoding="utf-8")
    return path


def write_plots(profiles: list[Profile], prefix: Path) -> list[Path]:
    """PREFIX.png and PREFIX.html."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    return [write_png(profiles, prefix.with_name(prefix.name + ".png")),
            write_html(profiles, prefix.with_name(prefix.name + ".html"))]
