"""IR -> SbnWriter: tensors keep the IR (ONNX) value names, nodes keep their ONNX names."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from sparsebyte.sbnformat import SbnWriter

from ..ir import ConversionError, Graph, Node
from ..opspec import BY_NAME, SBN_OP_FOR_IR, AttrValue


def _window_attrs(node: Node) -> dict[str, AttrValue]:
    kh, kw = node.attrs["kernel"]
    sh, sw = node.attrs["strides"]
    pt, pl, pb, pr = node.attrs["pads"]
    return {"kh": kh, "kw": kw, "stride_h": sh, "stride_w": sw, "pad_top": pt, "pad_left": pl, "pad_bottom": pb,
            "pad_right": pr}


def _attrs(node: Node) -> dict[str, AttrValue]:
    op = node.op
    if op in ("Conv", "ConvSparse"):
        a = _window_attrs(node)
        dh, dw = node.attrs["dilations"]
        a.update(dilation_h=dh, dilation_w=dw, groups=node.attrs["group"], G=node.attrs.get("G", 0))
        return a
    if op == "FCSparse":
        return {"G": node.attrs["G"]}
    if op in ("AveragePool", "MaxPool"):
        a = _window_attrs(node)
        if op == "AveragePool":
            a["count_include_pad"] = node.attrs["count_include_pad"]
        return a
    # Every other op's IR attributes are named like its spec slots (Concat, Softmax: axis; Transpose: perm).
    layout = BY_NAME[SBN_OP_FOR_IR[op]].layout
    keys = {slot.name for slot in layout.slots if slot.name} if layout else set()
    return {k: v for k, v in node.attrs.items() if k in keys}


def _short(name: str) -> str:
    """Node names are 1..255 bytes in .sbn; long ONNX names keep their start and a hash of the rest."""
    if 0 < len(name.encode()) <= 255:
        return name
    digest = f"{zlib.crc32(name.encode()):08x}"
    return (name.encode()[:240].decode(errors="ignore") or "node") + "~" + digest


def to_sbn(graph: Graph) -> SbnWriter:
    writer = SbnWriter()
    ids: dict[str, int] = {}

    def tensor(name: str, node: Node | None = None) -> int:
        if name in ids:
            return ids[name]
        v = graph.values[name]
        if v.const is not None:
            arr: Any = v.const
            if np.issubdtype(arr.dtype, np.floating):
                arr = arr.astype(np.float32)
            elif not (np.issubdtype(arr.dtype, np.integer) and node is not None
                      and (node.op.endswith("Sparse") or node.op == "Gather")):  # packed indices, gather indices
                where = f"node {node.name!r} ({node.source_op}): " if node else ""
                raise ConversionError(f"{where}constant {name!r} has dtype {arr.dtype}; only float weights are "
                                      "supported")
            ids[name] = writer.add_constant(name, arr)
        else:
            ids[name] = writer.add_tensor(name, v.shape)
        return ids[name]

    try:
        inputs = [tensor(i) for i in graph.inputs]
        for node in graph.nodes:
            op = SBN_OP_FOR_IR.get(node.op)
            if op is None:
                raise node.error(f"internal: IR op {node.op} left after the passes")
            ins = [tensor(i, node) for i in node.inputs]
            outs = [tensor(o, node) for o in node.outputs]
            writer.add_node(op, _short(node.name), ins, outs, _attrs(node), node.act)
        writer.set_graph(inputs, [tensor(o) for o in graph.outputs])
    except ValueError as e:  # the writer's own checks (name length, rank, ...)
        raise ConversionError(str(e)) from e
    return writer
