"""Group-pattern detection, dense-or-sparse choice and packing (docs/format.md, "Group-sparse weights").

For a regular (groups = 1) Conv weight W[Cout][Cin][kh][kw] or FC weight W[Cout][Cin] (kh = kw = 1) and a group size
G, the output channels are cut into ng = ceil(Cout / G) groups of G consecutive channels. A group keeps input channel i
when any of its channels has any nonzero weight in i's kh x kw kernel. The sparse kernel executes
``kept pairs * G * kh * kw`` multiply-accumulates per output pixel (lanes of a partial last group included).

Choice of G ("auto"): the largest G in (1, 2, 4, 8) whose compute is within `slack` (default 5 %) of G = 1's. A bigger
G runs faster per MAC (a G-vector per kept entry fills SIMD lanes), so it wins unless it forces many zeros to be
computed. `group=1/2/4/8` forces G.

Dense or sparse (the cost model): density = kept pairs / (ng * Cin), the fraction of (group, input channel) pairs the
sparse kernel visits. A sparse kernel spends roughly a third more time per MAC than a dense one (index loads, gathers of
scattered input rows, shorter loops), so it only pays off when it skips at least a quarter of the work: the layer is
packed sparse when density <= `sparse_threshold` (default 0.75), else kept dense. sparse_threshold = 1 packs every
eligible layer; `force_dense` packs none. Depthwise and grouped convolutions always stay dense.
A later version replaces this constant with a profile measured on the device.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from ..ir import Graph, Node

log = logging.getLogger(__name__)

GROUP_SIZES = (1, 2, 4, 8)
DEFAULT_SLACK = 0.05
DEFAULT_SPARSE_THRESHOLD = 0.75


def as_4d(w: np.ndarray) -> np.ndarray:
    """FC weights [Cout, Cin] are 1x1 kernels."""
    return w.reshape(w.shape[0], w.shape[1], 1, 1) if w.ndim == 2 else w


def group_mask(w: np.ndarray, g: int) -> np.ndarray:
    """kept[group, cin]: whether any channel of the group has a nonzero in that input's kernel."""
    w4 = as_4d(w)
    cout, cin = w4.shape[:2]
    ng = -(-cout // g)
    nonzero = np.any(w4.reshape(cout, cin, -1) != 0, axis=2)  # [Cout, Cin]
    padded = np.zeros((ng * g, cin), dtype=bool)
    padded[:cout] = nonzero
    return np.asarray(padded.reshape(ng, g, cin).any(axis=1))


def group_compute(w: np.ndarray, g: int) -> int:
    """MACs per output pixel the sparse kernel executes at group size g."""
    w4 = as_4d(w)
    return int(group_mask(w4, g).sum()) * g * w4.shape[2] * w4.shape[3]


def choose_group(w: np.ndarray, group: int | str = "auto", slack: float = DEFAULT_SLACK) -> int:
    if group != "auto":
        if group not in GROUP_SIZES:
            raise ValueError(f"group must be 'auto' or one of {GROUP_SIZES}, got {group!r}")
        return int(group)
    base = group_compute(w, 1)
    best = 1
    for g in GROUP_SIZES[1:]:
        if group_compute(w, g) <= base * (1 + slack):
            best = g
    return best


def pack(w: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> nnz i32 [ng], index i32 [T], values f32 [T, kh*kw, G] (lanes past Cout are zero)."""
    w4 = as_4d(np.asarray(w, dtype=np.float32))
    cout, cin, kh, kw = w4.shape
    ng = -(-cout // g)
    kept = group_mask(w4, g)
    padded = np.zeros((ng * g, cin, kh * kw), dtype=np.float32)
    padded[:cout] = w4.reshape(cout, cin, kh * kw)
    nnz = kept.sum(axis=1).astype(np.int32)
    groups, inputs = np.nonzero(kept)  # row-major: group after group, inputs ascending
    index = inputs.astype(np.int32)
    # values[j, k, l] = W[groups[j]*g + l, inputs[j], k]
    rows = groups[:, None] * g + np.arange(g)[None, :]  # [T, G]
    values = padded[rows, inputs[:, None], :]  # [T, G, kk]
    values = np.ascontiguousarray(values.transpose(0, 2, 1), dtype=np.float32)  # [T, kk, G]
    return nnz, index, values.reshape(len(index), kh * kw, g)


def unpack(nnz: np.ndarray, index: np.ndarray, values: np.ndarray, cout: int, cin: int, kh: int = 1,
           kw: int = 1) -> np.ndarray:
    """Inverse of pack: the dense [Cout, Cin, kh, kw] weight."""
    g = values.shape[2]
    ng = len(nnz)
    dense = np.zeros((ng * g, cin, kh * kw), dtype=np.float32)
    j = 0
    for grp in range(ng):
        for _ in range(int(nnz[grp])):
            dense[grp * g:(grp + 1) * g, int(index[j]), :] = values[j].T
            j += 1
    return dense[:cout].reshape(cout, cin, kh, kw)


@dataclass
class LayerReport:
    node: str
    op: str  # IR op after packing: Conv, ConvSparse, FC, FCSparse
    weight_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    sparsity: float  # fraction of zero weights
    group: int  # chosen G (0 when dense)
    density: float  # kept (group, input) pairs / all pairs at the chosen G
    choice: str  # "sparse", "dense", "dense (depthwise/grouped)"
    dense_macs: int
    macs: int  # executed by the chosen kernel
    weight_bytes: int

    def as_dict(self) -> dict:
        return {"node": self.node, "op": self.op, "weight_shape": list(self.weight_shape),
                "output_shape": list(self.output_shape), "sparsity": round(self.sparsity, 6), "group": self.group,
                "density": round(self.density, 6), "choice": self.choice, "dense_macs": self.dense_macs,
                "macs": self.macs, "weight_bytes": self.weight_bytes}


def _pixels(graph: Graph, node: Node) -> int:
    out = graph.shape(node.output)
    return math.prod(out) // out[1]  # N * OH * OW for convs, N for FC


def sparsify(graph: Graph, group: int | str = "auto", sparse_threshold: float = DEFAULT_SPARSE_THRESHOLD,
             force_dense: bool = False, slack: float = DEFAULT_SLACK) -> list[LayerReport]:
    """Pack the layers the cost model picks; returns one report row per Conv / FC layer."""
    if group != "auto" and group not in GROUP_SIZES:
        raise ValueError(f"group must be 'auto' or one of {GROUP_SIZES}, got {group!r}")
    rows = []
    for node in graph.nodes:
        if node.op not in ("Conv", "FC"):
            continue
        w = graph.const(node.inputs[1])
        assert w is not None
        pixels = _pixels(graph, node)
        dense_macs = int(w.size) * pixels
        bias_bytes = 4 * w.shape[0] if len(node.inputs) > 2 else 0
        sparsity = float(np.mean(w == 0)) if w.size else 0.0
        shape = tuple(int(d) for d in w.shape)
        out_shape = graph.shape(node.output)
        if node.op == "Conv" and node.attrs["group"] != 1:
            rows.append(LayerReport(node.name, node.op, shape, out_shape, sparsity, 0, 1.0,
                                    "dense (depthwise/grouped)", dense_macs, dense_macs, 4 * w.size + bias_bytes))
            continue
        g = choose_group(w, group, slack)
        kept = group_mask(w, g)
        density = float(kept.mean()) if kept.size else 0.0
        sparse = not force_dense and density <= sparse_threshold
        if not sparse:
            rows.append(LayerReport(node.name, node.op, shape, out_shape, sparsity, 0, density, "dense", dense_macs,
                                    dense_macs, 4 * w.size + bias_bytes))
            continue
        nnz, index, values = pack(w, g)
        base = node.inputs[1]
        names = [graph.unique_name(f"{base}.{suffix}") for suffix in ("nnz", "index", "values")]
        for name, arr in zip(names, (nnz, index, values), strict=True):
            graph.add_const(name, arr)
        node.inputs = [node.inputs[0], *names, *node.inputs[2:]]
        node.op = "ConvSparse" if node.op == "Conv" else "FCSparse"
        node.attrs["G"] = g
        macs = group_compute(w, g) * pixels
        rows.append(LayerReport(node.name, node.op, shape, out_shape, sparsity, g, density, "sparse", dense_macs,
                                macs, 4 * (nnz.size + index.size + values.size) + bias_bytes))
        log.info("%s: %s sparse G=%d density %.2f (%d of %d MACs)", node.name, node.op, g, density, macs, dense_macs)
    graph.remove_unused_values()
    return rows
