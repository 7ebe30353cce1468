"""Static shape propagation for the IR operators (all shapes are concrete integers; batch already resolved)."""

from __future__ import annotations

import math

import numpy as np

from ..ir import Graph, Node
from ..opspec import MAX_RANK
from .structural_shapes import RULES as STRUCTURAL_RULES


def conv_output_size(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    span = (kernel - 1) * dilation + 1
    room = size + pad_begin + pad_end - span
    if room < 0:
        return 0
    if not ceil_mode:
        return room // stride + 1
    out = -(-room // stride) + 1
    # A window may not start inside the end padding (ONNX / PyTorch rule).
    if (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out


REDUCE_OPS = ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin")  # attrs axes_mask, keepdims
BINARY_OPS = ("Add", "Mul", "Sub", "Div", "Max", "Min", "Pow", "PRelu")  # numpy broadcasting


def broadcast_shapes(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return tuple(int(d) for d in np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _spatial(node: Node, graph: Graph, ceil_mode: bool) -> tuple[int, ...]:
    x = graph.shape(node.inputs[0])
    if len(x) != 4:
        raise node.error(f"input {node.inputs[0]!r} has shape {list(x)}; only 4-D NCHW inputs are supported")
    kh, kw = node.attrs["kernel"]
    sh, sw = node.attrs["strides"]
    pt, pl, pb, pr = node.attrs["pads"]
    dh, dw = node.attrs.get("dilations", (1, 1))
    oh = conv_output_size(x[2], kh, sh, pt, pb, dh, ceil_mode)
    ow = conv_output_size(x[3], kw, sw, pl, pr, dw, ceil_mode)
    if oh <= 0 or ow <= 0:
        raise node.error(f"kernel {kh}x{kw} does not fit input {list(x)} with pads {[pt, pl, pb, pr]}")
    return oh, ow


def infer_node(graph: Graph, node: Node) -> tuple[int, ...]:
    """Output shape of `node` from its input shapes; raises ConversionError naming the node on a mismatch."""
    shapes = [graph.shape(i) for i in node.inputs]
    op = node.op
    if op in STRUCTURAL_RULES:
        return STRUCTURAL_RULES[op](graph, node, shapes)
    if op == "Conv":
        x, w = shapes[0], shapes[1]
        groups = node.attrs["group"]
        if len(x) != 4 or len(w) != 4:
            raise node.error(f"only 2-D convolutions on NCHW inputs are supported (input {list(x)}, weight {list(w)})")
        if x[1] != w[1] * groups or w[0] % groups:
            raise node.error(f"weight {list(w)} does not match input channels {x[1]} with group={groups}")
        if len(shapes) > 2 and shapes[2] != (w[0],):
            raise node.error(f"bias shape {list(shapes[2])} != [{w[0]}]")
        oh, ow = _spatial(node, graph, False)
        return (x[0], w[0], oh, ow)
    if op == "FC":
        x, w = shapes[0], shapes[1]
        if len(x) != 2 or len(w) != 2 or x[1] != w[1]:
            raise node.error(f"FC input {list(x)} does not match weight {list(w)}")
        if len(shapes) > 2 and shapes[2] != (w[0],):
            raise node.error(f"bias shape {list(shapes[2])} != [{w[0]}]")
        return (x[0], w[0])
    if op in BINARY_OPS:
        out = broadcast_shapes(shapes[0], shapes[1])
        if out is None:
            raise node.error(f"shapes {list(shapes[0])} and {list(shapes[1])} do not broadcast")
        return out
    if op == "Concat":
        axis = node.attrs["axis"]
        first = shapes[0]
        for s in shapes[1:]:
            if len(s) != len(first) or any(a != b for k, (a, b) in enumerate(zip(s, first, strict=True)) if k != axis):
                raise node.error(f"inputs {[list(s) for s in shapes]} differ outside axis {axis}")
        return tuple(sum(s[axis] for s in shapes) if k == axis else d for k, d in enumerate(first))
    if op == "GlobalAveragePool":
        x = shapes[0]
        if len(x) != 4:
            raise node.error(f"input shape {list(x)} is not 4-D NCHW")
        return (x[0], x[1], 1, 1)
    if op in ("AveragePool", "MaxPool"):
        oh, ow = _spatial(node, graph, bool(node.attrs.get("ceil_mode", 0)))
        x = shapes[0]
        return (x[0], x[1], oh, ow)
    if op == "Reshape":
        target = tuple(node.attrs["shape"])
        if math.prod(target) != math.prod(shapes[0]):
            raise node.error(f"cannot reshape {list(shapes[0])} to {list(target)}")
        return target
    if op in REDUCE_OPS:
        x, mask, keep = shapes[0], node.attrs["axes_mask"], node.attrs["keepdims"]
        if not 1 <= len(x) <= MAX_RANK or not 0 < mask < (1 << len(x)):
            raise node.error(f"axes mask {mask:#x} does not fit input shape {list(x)} (rank 1..6)")
        return tuple(1 if mask >> d & 1 else n for d, n in enumerate(x) if keep or not mask >> d & 1)
    if op in ("LayerNorm", "InstanceNorm", "LogSoftmax"):
        return shapes[0]
    if op == "MatMul":
        a, b = shapes[0], shapes[1]
        batch = broadcast_shapes(a[:-2], b[:-2]) if len(a) >= 2 and len(b) >= 2 else None
        if batch is None or a[-1] != b[-2] or len(batch) + 2 > MAX_RANK:
            raise node.error(f"shapes {list(a)} and {list(b)} do not match for MatMul (rank 2..6, batch dims "
                             "broadcast)")
        return (*batch, a[-2], b[-1])
    if op == "ArgMax":
        x, axis = shapes[0], node.attrs["axis"]
        return tuple(1 if d == axis else n for d, n in enumerate(x) if node.attrs["keepdims"] or d != axis)
    if op == "Transpose":
        x, perm = shapes[0], tuple(node.attrs["perm"])
        if not 1 <= len(x) <= MAX_RANK or sorted(perm) != list(range(len(x))):
            raise node.error(f"perm {list(perm)} is not a permutation of the axes of shape {list(x)} (rank 1..6)")
        return tuple(x[p] for p in perm)
    if op in ("Softmax", "Activation", "Identity"):
        return shapes[0]
    if op in ("BatchNormalization", "ChannelAffine"):
        x = shapes[0]
        if len(x) < 2:
            raise node.error(f"input shape {list(x)} has no channel axis")
        for name, s in zip(node.inputs[1:], shapes[1:], strict=True):
            if s != (x[1],):
                raise node.error(f"parameter {name!r} has shape {list(s)}, expected [{x[1]}]")
        return x
    raise node.error(f"no shape rule for IR op {op}")


def infer_graph(graph: Graph) -> None:
    """Recompute every node's output shape in order (after passes) and check it against the stored one."""
    for node in graph.nodes:
        shape = infer_node(graph, node)
        out = graph.values[node.output]
        if out.shape != shape:
            raise node.error(f"output {node.output!r}: stored shape {list(out.shape)} != inferred {list(shape)}")
