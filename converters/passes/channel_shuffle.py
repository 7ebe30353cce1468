"""Channel shuffle (ShuffleNet's Reshape [N,C,H,W] -> [N,g,C/g,H,W], Transpose (0,2,1,3,4), Reshape back) as a
folded channel permutation.

Any Reshape-Transpose-Reshape whose net effect is a permutation p of axis 1 (checked by pushing an index tensor
through the chain, so every grouping and permutation spelling is recognised) becomes one Gather of axis 1 with the
constant indices p, and then the permutation is folded into what reads it:
- a consumer Slice that cuts only axis 1 (ShuffleNetV2's channel split) becomes a Gather of the composed indices
  straight from the unshuffled tensor: shuffle + split is one copy per half instead of a transpose copy plus a
  slice copy;
- a consumer dense Conv (groups 1, constant weight) reads the unshuffled tensor with its weight's input channels
  permuted: no copy at all (W'[:, p] = W);
- a consumer Gather of the same axis composes with it.
The Gather stays only for the consumers that cannot absorb it (a depthwise conv, a Concat, a graph output). It runs
before transpose_sink (which must not take the rank-5 transpose for a layout change) and before BatchNorm folding
(which acts on output channels, so it is unaffected by the input permutation).

Why a folded permutation and no CHANNEL_SHUFFLE operator: the engine's GATHER already copies whole H*W planes, so a
new op would not be faster; folding removes the copy entirely where a conv follows and halves the copies where the
split follows, which a dedicated op cannot do. Folding into the next conv's weights alone is not enough: in
ShuffleNetV2 half of the shuffled channels bypass the convs (the identity branch into the next Concat)."""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Node

_MAX_ELEMENTS = 1 << 24  # index tensors pushed through the chain (a 4-D activation of the engine's size caps)


def _single_consumer(graph: Graph, value: str, op: str) -> Node | None:
    users = graph.consumers(value)
    if len(users) != 1 or graph.use_count(value) != 1 or users[0].op != op or users[0].act[0] != "NONE":
        return None
    return users[0]


def _channel_permutation(shape: tuple[int, ...], mid: tuple[int, ...], perm: tuple[int, ...],
                         out: tuple[int, ...]) -> np.ndarray | None:
    """p with chain(x) == x[:, p] for Reshape(mid) -> Transpose(perm) -> Reshape(out) of x of `shape`, else None."""
    if out != shape or len(shape) < 2 or len(perm) != len(mid) or int(np.prod(shape)) > _MAX_ELEMENTS:
        return None
    idx = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    moved = idx.reshape(mid).transpose(perm).reshape(shape)
    inner = int(np.prod(shape[2:], dtype=np.int64))
    p = moved[(0, slice(None)) + (0,) * (len(shape) - 2)] // inner % shape[1]
    if not np.array_equal(moved, np.take(idx, p, axis=1)) or np.array_equal(p, np.arange(shape[1])):
        return None
    return p


def _to_gathers(graph: Graph) -> None:
    for t in [n for n in graph.nodes if n.op == "Transpose" and n.act[0] == "NONE"]:
        first = graph.producer(t.inputs[0])
        if first is None or first.op != "Reshape" or first.act[0] != "NONE" or graph.use_count(first.output) != 1:
            continue
        last = _single_consumer(graph, t.output, "Reshape")
        if last is None:
            continue
        x = first.inputs[0]
        p = _channel_permutation(graph.shape(x), graph.shape(first.output), tuple(t.attrs["perm"]),
                                 graph.shape(last.output))
        if p is None:
            continue
        indices = graph.unique_name(f"{t.name}.shuffle")
        graph.add_const(indices, p.astype(np.int32))
        for n in (first, t):
            graph.nodes.remove(n)
            del graph.values[n.output]
        last.op, last.inputs, last.attrs, last.source_op = "Gather", [x, indices], {"axis": 1}, "Transpose"


def _slice_indices(graph: Graph, node: Node, axis: int, p: np.ndarray) -> np.ndarray | None:
    """p composed with a Slice that cuts only `axis`, else None."""
    shape = graph.shape(node.inputs[0])
    start, step, count = node.attrs["start"], node.attrs["step"], node.attrs["count"]
    for d, dim in enumerate(shape):
        if d != axis and (start[d] != 0 or step[d] != 1 or count[d] != dim):
            return None
    return p[start[axis] + step[axis] * np.arange(count[axis])]


def _fold_into(graph: Graph, gather: Node, user: Node) -> bool:
    """Make `user` read the gather's input directly, absorbing the permutation; False when it cannot."""
    x, axis = gather.inputs[0], gather.attrs["axis"]
    p = graph.const(gather.inputs[1])
    if p is None or p.ndim != 1 or user.inputs[0] != gather.output or user.inputs.count(gather.output) != 1:
        return False
    composed: np.ndarray | None = None
    if user.op == "Slice":
        composed = _slice_indices(graph, user, axis, p)
    elif user.op == "Gather" and user.attrs["axis"] == axis and graph.const(user.inputs[1]) is not None:
        inner = graph.const(user.inputs[1])
        composed = p[inner] if inner is not None and inner.ndim == 1 else None
    if composed is not None:
        indices = graph.unique_name(f"{user.name}.indices")
        graph.add_const(indices, composed.astype(np.int32))
        user.op, user.inputs, user.attrs = "Gather", [x, indices], {"axis": axis}
        return True
    w = graph.const(user.inputs[1]) if user.op == "Conv" and len(user.inputs) > 1 else None
    if (w is None or axis != 1 or user.attrs.get("group", 1) != 1 or w.shape[1] != len(p)
            or not np.array_equal(np.sort(p), np.arange(len(p)))):
        return False
    permuted = np.empty_like(w)
    permuted[:, p] = w  # conv(x[:, p], W) == conv(x, W') with W'[:, p[j]] = W[:, j]
    weight = graph.unique_name(f"{user.inputs[1]}.unshuffled")
    graph.add_const(weight, permuted)
    user.inputs = [x, weight, *user.inputs[2:]]
    return True


def channel_shuffle(graph: Graph) -> None:
    _to_gathers(graph)
    changed = True
    while changed:
        changed = False
        for gather in [n for n in graph.nodes if n.op == "Gather" and n.act[0] == "NONE"]:
            if gather not in graph.nodes or gather.output in graph.outputs:
                continue
            for user in graph.consumers(gather.output):
                changed |= _fold_into(graph, gather, user)
            if graph.use_count(gather.output) == 0:
                graph.nodes.remove(gather)
                del graph.values[gather.output]
                changed = True
    graph.remove_unused_values()
