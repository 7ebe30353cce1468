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
    inner = node.attrs.get("inner_axes", 0)  # axes after the resized pair
    if not 2 <= len(x) <= MAX_RANK or oh <= 0 or ow <= 0 or not 0 <= inner <= len(x) - 2:
        raise node.error(f"cannot resize input shape {list(x)} to {oh}x{ow} with {inner} inner axes "
                         f"(rank 2..{MAX_RANK})")
    ah = len(x) - 2 - inner
    return (*x[:ah], oh, ow, *x[ah + 2:])


def conv_transpose_size(size: int, k: int, stride: int, pad_begin: int, pad_end: int, dilation: int,
                        output_pad: int) -> int:
    return (size - 1) * stride - pad_begin - pad_end + dilation * (k - 1) + output_pad + 1


def _conv_transpose(graph: Graph, node: Node, shapes: list[Shape]) -> Shape:
    x, w, a = shapes[0], shapes[1], node.attrs
    groups = a["groups"]
    if len(x) != 4 or len(w) != 4 or w[0] != x[1] or x[1] % groups:
        raise node.error(f"weight {list(w)} does not match input {list(x)} with group={groups}")
    cout = w[1] * groups
    if len(shapes) > 2 and shapes[2] != (cout,):
        raise node.error(f"bias shape {list(shapes[2])} != [{cout}]")
    oh = conv_transpose_size(x[2], a["kh"], a["stride_h"], a["pad_top"], a["pad_bottom"], a["dilation_h"],
                             a["output_pad_h"])
    ow = conv_transpose_size(x[3], a["kw"], a["stride_w"], a["pad_left"], a["pad_right"], a["dilation_w"],
                             a["output_pad_w"])
    if oh <= 0 or ow <= 0:
        raise node.error(f"pads {[a['pad_top'], a['pad_left'], a['pad_bottom'], a['pad_right']]} leave no output "
                         f"of input {list(x)}")
    return (x[0], cout, oh, ow)


def _slice(graph: Graph, node: Node, shapes: list[Shape]) -> Shape:
    x, a = shapes[0], node.attrs
    start, step, count = a["start"], a["step"], a["count"]
    if not 1 <= len(x) <= MAX_RANK or not len(start) == len(step) == len(count) == len(x):
        raise node.error(f"slice {list(start)}/{list(step)}/{list(count)} does not fit input shape {list(x)}")
    for d, (b, st, n) in enumerate(zip(start, step, count, strict=True)):
        last = b + (n - 1) * st
        if st == 0 or n < 1 or not 0 <= b < x[d] or not 0 <= last < x[d]:
            raise node.error(f"slice of axis {d} (start {b}, step {st}, count {n}) leaves input shape {list(x)}")
    return tuple(count)


def _gather(graph: Graph, node: Node, shapes: list[Shape]) -> Shape:
    x, idx, axis = shapes[0], shapes[1], node.attrs["axis"]
    out = (*x[:axis], *idx, *x[axis + 1:])
    if not 0 <= axis < len(x) or not 1 <= len(out) <= MAX_RANK:
        raise node.error(f"cannot gather axis {axis} of shape {list(x)} with indices {list(idx)} (output rank 1..6)")
    return out


def _expand(graph: Graph, node: Node, shapes: list[Shape]) -> Shape:
    x, out = shapes[0], tuple(node.attrs["shape"])
    lead = len(out) - len(x)
    if lead < 0 or len(out) > MAX_RANK or any(d not in (1, o) for d, o in zip(x, out[lead:], strict=True)):
        raise node.error(f"input shape {list(x)} does not expand to {list(out)} (rank <= {MAX_RANK})")
    return out


RULES: dict[str, Callable[[Graph, Node, list[Shape]], Shape]] = {
    "Expand": _expand,
    "Gather": _gather,
    "Slice": _slice,
    "ConvTranspose": _conv_transpose,
    "Pad": _pad,
    "Resize": _resize,
}
