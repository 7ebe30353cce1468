"""Transpose sinking and cancellation: an NHWC export (tf2onnx: Transpose(0,3,1,2) before every Conv/pool,
Transpose(0,2,3,1) after it, everything else in NHWC) runs NCHW inside, with the layout changes left at the model's
boundaries (the graph inputs and outputs keep their names and NHWC shapes).

It runs on the IR, right after import and fuse_patterns (a LayerNorm pattern is folded in its own layout first),
before the activation/BatchNorm folds and the second fold_pad, because there
- the importer has already resolved the shapes, folded the constant subgraphs (a Transpose of a constant is a
  constant) and lowered Squeeze/Unsqueeze/Flatten to Reshape, Split to Slices, Sub/Div by a constant to Add/Mul,
  so far fewer ops need a rule than on the ONNX graph;
- the TFLite front end lowers to the same IR, so its NHWC graphs go through the same pass;
- the passes after it see Conv -> Pad/BN/Relu adjacent in NCHW, so the Pad folds into the Conv, BatchNorm into its
  weights and the activation into its epilogue (none of which happens with a Transpose between them).

Method (the idea of onnxruntime's transpose optimizer, written for this IR): walk the nodes in order; when a
layout-agnostic node reads the output of a Transpose(perm), rewrite the node to work on the Transpose's input
(its axes attributes remapped, constant operands permuted, other activations given the inverse Transpose) and
put one Transpose(perm) after it, which the walk then meets again at the next node. A node with several inputs is
rewritten only when that removes more Transposes on its inputs than it adds (constants cost nothing, an inverse
Transpose that already exists on that value costs nothing). Transpose after Transpose composes; the identity
disappears; inverse pairs therefore cancel. The walk runs twice on copies, strict (only past Transposes that then die)
and permissive (also past shared ones), and the graph keeps the result with fewer Transposes, so the pass never adds
any. At the end, Transposes that only move size-1 axes become Reshapes (aliases), duplicates are merged, a Transpose
left after a chain of pointwise ops or Pads that starts at a graph input is moved up to it, and a Pad before a
Reshape of size-1 axes moves after it (both so the Pad meets its Conv and folds).

Ops it moves Transposes through: Activation, the broadcasting binaries (Add, Mul, Sub, Div, Max, Min, Pow, PRelu),
Concat, Softmax, LogSoftmax, ArgMax, Reduce*, Slice (so Split), Pad, Gather (1-D indices), Expand, Resize (the engine
resizes any two adjacent axes) and Reshapes that only add, drop or move size-1 axes (Squeeze, Unsqueeze). Anything else
(Conv, MatMul, LayerNorm, a Reshape that mixes axes, ...) keeps the Transpose in front of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ..ir import Graph, Node, Value
from .shape_inference import infer_node

log = logging.getLogger(__name__)

Perm = tuple[int, ...]

UNARY = ("Activation",)
BINARY = ("Add", "Mul", "Sub", "Div", "Max", "Min", "Pow", "PRelu")
AXIS_OPS = ("Softmax", "LogSoftmax")
REDUCE = ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin")
HOISTABLE = (*UNARY, *BINARY, "Pad")  # what a Transpose moves up through, toward a graph input


def inverse(perm: Sequence[int]) -> Perm:
    return tuple(int(i) for i in np.argsort(perm))


def compose(first: Sequence[int], then: Sequence[int]) -> Perm:
    """The one perm equal to Transpose(first) followed by Transpose(then)."""
    return tuple(first[t] for t in then)


def is_identity(perm: Sequence[int]) -> bool:
    return tuple(perm) == tuple(range(len(perm)))


def moves_data(shape: Sequence[int], perm: Sequence[int]) -> bool:
    """False when the Transpose keeps the order of the axes longer than 1 (memory order unchanged: a Reshape)."""
    big = [p for p in perm if shape[p] != 1]
    return big != sorted(big)


def count_transposes(graph: Graph) -> int:
    return sum(n.op == "Transpose" for n in graph.nodes)


class _Sinker:
    def __init__(self, graph: Graph, strict: bool) -> None:
        self.g = graph
        self.strict = strict  # move a node only past a Transpose that then dies (read by nothing else)
        self.producers: dict[str, Node] = {}
        self.pushed = 0

    # ---- graph bookkeeping ----
    def refresh(self) -> None:
        self.producers = {o: n for n in self.g.nodes for o in n.outputs}

    def transpose_of(self, value: str) -> Node | None:
        n = self.producers.get(value)
        return n if n is not None and n.op == "Transpose" else None

    def existing_transpose(self, value: str, perm: Perm) -> Node | None:
        for n in self.g.nodes:
            if n.op == "Transpose" and n.inputs[0] == value and tuple(n.attrs["perm"]) == perm:
                return n
        return None

    def add_transpose(self, value: str, perm: Perm, before: Node, base: str) -> str:
        """Transpose(perm) of `value` inserted before `before` (one already there is reused)."""
        found = self.existing_transpose(value, perm)
        if found is not None and self.g.nodes.index(found) < self.g.nodes.index(before):
            return found.output
        out = self.g.unique_name(f"{value}.{base}")
        node = Node("Transpose", self.g.unique_name(f"{before.name}.{base}"), [value], [out], {"perm": perm},
                    source_op="Transpose")
        self.g.add_value(out, infer_node(self.g, node))
        self.g.nodes.insert(self.g.nodes.index(before), node)
        self.producers[out] = node
        return out

    def permuted_const(self, name: str, rank: int, perm_inv: Perm) -> str:
        """A constant operand of a broadcasting op, rank-aligned then permuted (so it broadcasts the same way)."""
        c = self.g.const(name)
        assert c is not None
        if all(d == 1 for d in c.shape):
            return name  # a scalar broadcasts the same in either layout
        aligned = c.reshape((1,) * (rank - c.ndim) + c.shape)
        out = self.g.unique_name(f"{name}.perm")
        self.g.add_const(out, np.ascontiguousarray(np.transpose(aligned, perm_inv)))
        return out

    def shared(self, t: Node) -> bool:
        """t's output is also read by another node (or is a graph output)."""
        readers = {n.name for n in self.g.nodes if t.output in n.inputs}
        return len(readers) > 1 or t.output in self.g.outputs

    def input_cost(self, value: str, perm: Perm, rank: int) -> int | None:
        """Transposes this input adds (+1) or removes (-1) when the node moves to the other layout; None: it
        cannot (an activation of another rank)."""
        if self.g.const(value) is not None:
            return 0
        t = self.transpose_of(value)
        if t is not None and tuple(t.attrs["perm"]) == perm:
            return 0 if self.strict and self.shared(t) else -1
        if len(self.g.shape(value)) != rank:
            return None
        return 0 if self.existing_transpose(value, inverse(perm)) is not None else 1

    # ---- the rewrite ----
    def push(self, node: Node, perm: Perm, out_perm: Perm, attrs: dict, data: Sequence[int]) -> None:
        """node reads Transpose(perm)(x) at the inputs `data` (their positions): make it read x, with `attrs`, and
        put Transpose(out_perm) after it under the old output name."""
        rank = len(perm)
        perm_inv = inverse(perm)
        for i in data:
            value = node.inputs[i]
            t = self.transpose_of(value)
            if t is not None and tuple(t.attrs["perm"]) == perm:
                node.inputs[i] = t.inputs[0]
            elif self.g.const(value) is not None:
                node.inputs[i] = self.permuted_const(value, rank, perm_inv)
            else:
                node.inputs[i] = self.add_transpose(value, perm_inv, node, "nchw")
        out = node.output
        node.attrs = attrs
        self.pushed += 1
        if is_identity(out_perm):  # the node's output is already in the original layout
            if infer_node(self.g, node) != self.g.shape(out):
                raise node.error(f"internal: moving Transpose {list(perm)} past it changed the shape of {out!r}")
            return
        inner = self.g.unique_name(f"{out}.nchw")
        node.outputs = [inner]
        self.g.add_value(inner, infer_node(self.g, node))
        self.producers[inner] = node
        after = Node("Transpose", self.g.unique_name(f"{node.name}.layout"), [inner], [out], {"perm": out_perm},
                     source_op="Transpose")
        if infer_node(self.g, after) != self.g.shape(out):
            raise node.error(f"internal: moving Transpose {list(perm)} past it changed the shape of {out!r}")
        self.g.nodes.insert(self.g.nodes.index(node) + 1, after)
        self.producers[out] = after

    def try_node(self, node: Node) -> bool:
        handler = _HANDLERS.get(node.op)
        if handler is None:
            return False
        return handler(self, node)

    def compose_transpose(self, node: Node) -> bool:
        """Transpose(Transpose(x)): one Transpose of x (the identity: x itself)."""
        t = self.transpose_of(node.inputs[0])
        if t is None:
            return False
        perm = compose(t.attrs["perm"], node.attrs["perm"])
        node.inputs = [t.inputs[0]]
        node.attrs = {"perm": perm}
        if is_identity(perm):
            self.drop(node)
        return True

    def drop(self, node: Node) -> None:
        """Remove a node whose output equals its input; a graph output keeps its name."""
        src, dst = node.inputs[0], node.output
        if dst in self.g.outputs:
            if src in self.g.inputs or src in self.g.outputs:
                node.op, node.attrs = "Reshape", {"shape": self.g.shape(src)}  # a copy between two boundaries
                return
            self.g.nodes.remove(node)
            del self.g.values[dst]
            self.g.rename_value(src, dst)
        else:
            self.g.nodes.remove(node)
            self.g.replace_uses(dst, src)
            del self.g.values[dst]
        self.refresh()

    def remove_dead(self) -> None:
        """Transposes nobody reads any more (the pushed ones' old copies)."""
        changed = True
        while changed:
            changed = False
            for n in list(self.g.nodes):
                if n.op == "Transpose" and self.g.use_count(n.output) == 0:
                    self.g.nodes.remove(n)
                    del self.g.values[n.output]
                    changed = True
        self.refresh()

    def sink(self) -> None:
        changed = True
        while changed:
            changed = False
            self.refresh()
            for node in list(self.g.nodes):
                if node not in self.g.nodes:
                    continue
                if node.op == "Transpose":
                    if self.compose_transpose(node):
                        changed = True
                elif self.try_node(node):
                    changed = True
            self.remove_dead()


# ================= per-op rules: return True when the node was rewritten =================

def _first_transposed(s: _Sinker, node: Node, positions: Sequence[int]) -> Perm | None:
    for i in positions:
        t = s.transpose_of(node.inputs[i])
        if t is not None:
            if s.strict and len(positions) == 1 and s.shared(t):
                return None  # the Transpose stays for its other readers: moving adds one
            return tuple(t.attrs["perm"])
    return None


def _worth(s: _Sinker, node: Node, perm: Perm, positions: Sequence[int]) -> bool:
    rank = len(perm)
    costs = [s.input_cost(node.inputs[i], perm, rank) for i in positions]
    return None not in costs and sum(costs) < 0  # type: ignore[arg-type]


def _pointwise(s: _Sinker, node: Node) -> bool:
    """Unary and broadcasting binary ops: the output has the full rank; lower-rank operands align on the right."""
    positions = list(range(len(node.inputs)))
    perm = _first_transposed(s, node, positions)
    if perm is None or len(s.g.shape(node.output)) != len(perm) or not _worth(s, node, perm, positions):
        return False
    s.push(node, perm, perm, dict(node.attrs), positions)
    return True


def _concat(s: _Sinker, node: Node) -> bool:
    positions = list(range(len(node.inputs)))
    perm = _first_transposed(s, node, positions)
    if perm is None or not _worth(s, node, perm, positions):
        return False
    s.push(node, perm, perm, {"axis": perm[node.attrs["axis"]]}, positions)
    return True


def _axis(s: _Sinker, node: Node) -> bool:
    perm = _first_transposed(s, node, [0])
    if perm is None:
        return False
    s.push(node, perm, perm, {**node.attrs, "axis": perm[node.attrs["axis"]]}, [0])
    return True


def _per_axis(values: Sequence[int], perm: Perm) -> tuple[int, ...]:
    """Per-axis attribute of the transposed tensor -> the same for its input: out[perm[d]] = values[d]."""
    out = [0] * len(perm)
    for d, v in enumerate(values):
        out[perm[d]] = int(v)
    return tuple(out)


def _reduce(s: _Sinker, node: Node) -> bool:
    perm = _first_transposed(s, node, [0])
    if perm is None:
        return False
    mask, keep = node.attrs["axes_mask"], node.attrs["keepdims"]
    axes = [d for d in range(len(perm)) if mask >> d & 1]
    new_mask = sum(1 << perm[d] for d in axes)
    if keep:
        out_perm = perm
    else:  # the kept axes, in the transposed order, renumbered among the input's kept axes
        kept_in = sorted(perm[d] for d in range(len(perm)) if d not in axes)
        out_perm = tuple(kept_in.index(perm[d]) for d in range(len(perm)) if d not in axes)
    s.push(node, perm, out_perm, {"axes_mask": new_mask, "keepdims": keep}, [0])
    return True


def _argmax(s: _Sinker, node: Node) -> bool:
    perm = _first_transposed(s, node, [0])
    if perm is None:
        return False
    axis = node.attrs["axis"]
    if node.attrs["keepdims"]:
        out_perm = perm
    else:
        kept_in = sorted(p for d, p in enumerate(perm) if d != axis)
        out_perm = tuple(kept_in.index(p) for d, p in enumerate(perm) if d != axis)
    s.push(node, perm, out_perm, {**node.attrs, "axis": perm[axis]}, [0])
    return True


def _slice(s: _Sinker, node: Node) -> bool:
    perm = _first_transposed(s, node, [0])
    if perm is None:
        return False
    a = node.attrs
    s.push(node, perm, perm, {"start": _per_axis(a["start"], perm), "step": _per_axis(a["step"], perm),
                              "count": _per_axis(a["count"], perm)}, [0])
    return True


def _pad(s: _Sinker, node: Node) -> bool:
    perm = _first_transposed(s, node, [0])
    if perm is None:
        return False
    a = node.attrs
    s.push(node, perm, perm, {**a, "begin": _per_axis(a["begin"], perm), "end": _per_axis(a["end"], perm)}, [0])
    return True


def _gather(s: _Sinker, node: Node) -> bool:
    perm = _first_transposed(s, node, [0])
    if perm is None or len(s.g.shape(node.inputs[1])) != 1:  # 1-D indices keep the rank
        return False
    s.push(node, perm, perm, {"axis": perm[node.attrs["axis"]]}, [0])
    return True


def _expand(s: _Sinker, node: Node) -> bool:
    perm = _first_transposed(s, node, [0])
    if perm is None or len(node.attrs["shape"]) != len(perm):
        return False
    s.push(node, perm, perm, {"shape": _per_axis(node.attrs["shape"], perm)}, [0])
    return True


def _resize(s: _Sinker, node: Node) -> bool:
    perm = _first_transposed(s, node, [0])
    if perm is None:
        return False
    a = node.attrs
    rank = len(perm)
    axes = resize_axes(a, rank)
    new_axes = sorted(perm[d] for d in axes)
    if len(new_axes) == 2 and new_axes[1] != new_axes[0] + 1:
        return False  # the engine resizes two adjacent axes
    if len(new_axes) == 2 and [perm[d] for d in axes] != new_axes:
        return False  # the (h, w) pair would swap: its scales with it (rare; keep the Transpose)
    out = dict(a)
    out["inner_axes"] = rank - 1 - new_axes[-1]
    s.push(node, perm, perm, out, [0])
    return True


def resize_axes(attrs: dict, rank: int) -> list[int]:
    """The two axes a Resize node resizes (attr ``inner_axes``: how many axes follow them)."""
    w = rank - 1 - int(attrs.get("inner_axes", 0))
    return [w - 1, w]


def _reshape(s: _Sinker, node: Node) -> bool:
    """A Reshape that only adds or drops size-1 axes of Transpose(x): a Reshape of x (its size-1 axes wherever),
    then a Transpose that the walk pushes on (or that moves only size-1 axes: a Reshape at the end)."""
    t = s.transpose_of(node.inputs[0])
    if t is None:
        return False
    perm = tuple(t.attrs["perm"])
    y, z = s.g.shape(node.inputs[0]), s.g.shape(node.output)
    y_big = [d for d in range(len(y)) if y[d] != 1]
    z_big = [k for k in range(len(z)) if z[k] != 1]
    if [y[d] for d in y_big] != [z[k] for k in z_big]:
        return False
    # z's axis z_big[i] is y's axis y_big[i], which is x's axis perm[y_big[i]]: lay z's dims out in x's order.
    order = sorted(range(len(z_big)), key=lambda i: perm[y_big[i]])
    units = [k for k in range(len(z)) if z[k] == 1]
    layout = [z_big[i] for i in order] + units  # z axes in the order they sit in x''
    shape = tuple(z[k] for k in layout)
    out_perm = tuple(layout.index(k) for k in range(len(z)))
    s.push(node, perm, out_perm, {"shape": shape}, [0])
    return True


_HANDLERS: dict[str, Callable[[_Sinker, Node], bool]] = {
    **{op: _pointwise for op in UNARY + BINARY},
    "Concat": _concat,
    **{op: _axis for op in AXIS_OPS},
    **{op: _reduce for op in REDUCE},
    "ArgMax": _argmax,
    "Slice": _slice,
    "Pad": _pad,
    "Gather": _gather,
    "Expand": _expand,
    "Resize": _resize,
    "Reshape": _reshape,
}


# ================= after the walk =================

def _hoist_to_inputs(s: _Sinker) -> None:
    """A Transpose after a chain of single-use pointwise ops or Pads on a graph input (x * k + b, then Transpose;
    TFLite's explicit Pad of the NHWC input) moves up to the input, so the one layout change sits at the boundary
    (and the Pad meets the Conv and folds into it)."""
    g = s.g
    changed = True
    while changed:
        changed = False
        s.refresh()
        for t in [n for n in g.nodes if n.op == "Transpose"]:
            p = s.producers.get(t.inputs[0])
            if p is None or p.op not in HOISTABLE or g.use_count(p.output) != 1 or p.output in g.outputs:
                continue
            acts = [i for i in p.inputs if g.const(i) is None]
            if len(acts) != 1 or not _reaches_input(s, acts[0]) or \
                    (p.op != "Pad" and g.shape(acts[0]) != g.shape(p.output)):
                continue
            perm = tuple(t.attrs["perm"])
            rank = len(perm)
            moved = g.unique_name(f"{acts[0]}.layout")
            t_new = Node("Transpose", g.unique_name(f"{p.name}.layout"), [acts[0]], [moved], {"perm": perm},
                         source_op="Transpose")
            g.add_value(moved, infer_node(g, t_new))
            g.nodes.insert(g.nodes.index(p), t_new)
            p.inputs = [moved if i == acts[0] else s.permuted_const(i, rank, perm) for i in p.inputs]
            if p.op == "Pad":  # output axis d is input axis perm[d]
                p.attrs = {**p.attrs, "begin": tuple(p.attrs["begin"][a] for a in perm),
                           "end": tuple(p.attrs["end"][a] for a in perm)}
            # p now computes t's output: take its name, drop t
            old = p.output
            g.nodes.remove(t)
            p.outputs = [t.output]
            del g.values[old]
            changed = True
            break


def _reaches_input(s: _Sinker, value: str) -> bool:
    while value not in s.g.inputs:
        p = s.producers.get(value)
        if p is None or p.op not in HOISTABLE or s.g.use_count(value) != 1:
            return False
        acts = [i for i in p.inputs if s.g.const(i) is None]
        if len(acts) != 1:
            return False
        value = acts[0]
    return True


def _merge_duplicates(s: _Sinker) -> None:
    seen: dict[tuple[str, Perm], str] = {}
    for n in list(s.g.nodes):
        if n.op != "Transpose":
            continue
        key = (n.inputs[0], tuple(n.attrs["perm"]))
        if key in seen and n.output not in s.g.outputs:
            s.g.nodes.remove(n)
            s.g.replace_uses(n.output, seen[key])
            del s.g.values[n.output]
        else:
            seen.setdefault(key, n.output)


def _non_unit(shape: Sequence[int]) -> list[int]:
    return [d for d in range(len(shape)) if shape[d] != 1]


def _pad_after_reshape(s: _Sinker) -> None:
    """Pad then a Reshape that only moves size-1 axes (what tf2onnx writes instead of the NHWC->NCHW Transpose of a
    one-channel input): Reshape first, then the Pad on the same axes, so the Pad meets the Conv and folds into it."""
    g = s.g
    s.refresh()
    for r in [n for n in g.nodes if n.op == "Reshape"]:
        p = s.producers.get(r.inputs[0])
        if p is None or p.op != "Pad" or g.use_count(p.output) != 1 or p.output in g.outputs:
            continue
        x, padded, out = g.shape(p.inputs[0]), g.shape(p.output), g.shape(r.output)
        src, dst = _non_unit(padded), _non_unit(out)
        if [padded[a] for a in src] != [out[k] for k in dst]:
            continue
        where = dict(zip(src, dst, strict=True))  # axis of the padded tensor -> axis of the reshaped one
        begin, end = p.attrs["begin"], p.attrs["end"]
        moved = [a for a in range(len(padded)) if begin[a] or end[a]]
        if any(a not in where for a in moved):
            continue
        target = list(out)
        for a in moved:
            target[where[a]] = x[a]
        if [x[a] for a in _non_unit(x)] != [target[k] for k in _non_unit(target)]:
            continue
        new_begin, new_end = [0] * len(out), [0] * len(out)
        for a in moved:
            new_begin[where[a]], new_end[where[a]] = begin[a], end[a]
        final = r.output
        mid = g.unique_name(f"{final}.unpadded")
        g.add_value(mid, tuple(target))
        del g.values[p.output]
        r.inputs, r.outputs, r.attrs = [p.inputs[0]], [mid], {"shape": tuple(target)}
        p.inputs, p.outputs = [mid], [final]
        p.attrs = {**p.attrs, "begin": tuple(new_begin), "end": tuple(new_end)}
        g.nodes.remove(p)
        g.nodes.insert(g.nodes.index(r) + 1, p)
        s.refresh()


def _finish(s: _Sinker) -> None:
    g = s.g
    for n in g.nodes:
        if n.op == "Transpose" and not moves_data(g.shape(n.inputs[0]), n.attrs["perm"]):
            n.op, n.attrs = "Reshape", {"shape": g.shape(n.output)}  # only size-1 axes move: an alias
    # ReduceMean over H, W of NCHW is GlobalAveragePool (the fast kernel), as the importer writes it
    for n in list(g.nodes):
        if n.op == "ReduceMean" and len(g.shape(n.inputs[0])) == 4 and n.attrs["axes_mask"] == 0b1100:
            if n.attrs["keepdims"]:
                n.op, n.attrs = "GlobalAveragePool", {}
                continue
            pooled = g.unique_name(f"{n.output}.pooled")
            gap = Node("GlobalAveragePool", f"{n.name}.pool", list(n.inputs), [pooled], source_op=n.source_op)
            g.add_value(pooled, infer_node(g, gap))
            g.nodes.insert(g.nodes.index(n), gap)
            n.op, n.inputs, n.attrs = "Reshape", [pooled], {"shape": g.shape(n.output)}
    # Reshape of a Reshape read by nothing else: one Reshape (both are aliases; fewer nodes)
    s.refresh()
    for n in list(g.nodes):
        p = s.producers.get(n.inputs[0]) if n.op == "Reshape" else None
        if p is not None and p.op == "Reshape" and g.use_count(p.output) == 1 and p.output not in g.outputs:
            n.inputs = [p.inputs[0]]
            g.nodes.remove(p)
            del g.values[p.output]
            s.refresh()


def transpose_sink(graph: Graph) -> dict[str, int]:
    """Rewrite `graph` in place; returns the Transpose counts before and after (for the report and the tests)."""
    before = count_transposes(graph)
    # Moving a node past a Transpose that other nodes also read leaves it for them: a bet that they move too and the
    # copies cancel further on (NHWC exports: split, swish, residual branches), lost where they do not (attention's
    # q/k/v split). So the walk runs strict (only past dying Transposes) and permissive on copies, and the graph keeps
    # the result with fewer Transposes (on a tie the permissive one: its Transposes sit nearer the boundaries);
    # without a gain, only the final clean-up applies.
    results: list[tuple[int, int, str, Graph, int]] = []
    for mode, strict in (("permissive", False), ("strict", True), ("none", None)):
        trial = _copy(graph)
        s = _Sinker(trial, bool(strict))
        if strict is not None and before:
            s.sink()
            _hoist_to_inputs(s)  # last: sinking again would move these back down
            _merge_duplicates(s)
            s.remove_dead()
            _finish(s)
        _pad_after_reshape(s)
        trial.remove_unused_values()
        results.append((count_transposes(trial), len(results), mode, trial, s.pushed))
    after, _, mode, best, pushed = min(results, key=lambda r: r[:2])
    graph.nodes, graph.values, graph.inputs, graph.outputs = best.nodes, best.values, best.inputs, best.outputs
    if before:
        log.info("transpose_sink: %d Transposes -> %d (%s walk, %d nodes moved)", before, after, mode, pushed)
    return {"before": before, "after": after}


def _copy(graph: Graph) -> Graph:
    """Nodes and values copied (the pass edits both), constants shared (it never writes into them)."""
    return Graph([replace(n, inputs=list(n.inputs), outputs=list(n.outputs), attrs=dict(n.attrs)) for n in graph.nodes],
                 {k: Value(v.name, v.shape, v.const) for k, v in graph.values.items()}, list(graph.inputs),
                 list(graph.outputs))
