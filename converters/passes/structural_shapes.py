"""Shape rules of the structural IR operators (Pad, ...), used by shape_inference.infer_node."""

from __future__ import annotations

from collections.abc import Callable

from ..ir import Graph, Node
from ..opspec import MAX_RANK

Shape = tuple[int, ...]


def _pad(graph: Graph, node: Node, shapes: list[Shape]) -> Shape:
    x = shapes[0]
    begin, end = node.attrs["begin"], node.attrs["end"]
    if not 1 <= len(x) <= MAX_RANK or len(begin) != len(x) or len(end) != len(x):
        raise node.error(f"pads {list(begin)}/{list(end)} do not fit input shape {list(x)} (rank 1..{MAX_RANK})")
    if node.attrs["mode"] == 1 and any(max(b, e) >= d for b, e, d in zip(begin, end, x, strict=True)):
        raise node.error(f"reflect pads {list(begin)}/{list(end)} must be smaller than the dims {list(x)}")
    return tuple(d + b + e for d, b, e in zip(x, begin, end, strict=True))


def _resize(graph: Graph, node: Node, shapes: list[Shape]) -> Shape:
    x = shapes[0]
    oh, ow = node.attrs["out_hw"]
    if not 2 <= len(x) <= MAX_RANK or oh <= 0 or ow <= 0:
        raise node.error(f"cannot resize input shape {list(x)} to {oh}x{ow} (rank 2..{MAX_RANK})")
    return (*x[:-2], oh, ow)


RULES: dict[str, Callable[[Graph, Node, list[Shape]], Shape]] = {
    "Pad": _pad,
    "Resize": _resize,
}
