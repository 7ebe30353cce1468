"""ONNX handlers and constant folds of the structural operators (Pad, ...), registered into onnx_import's tables.

Each handler checks the attributes against what the engine supports and raises the node's ConversionError naming
the operator and the offending value; nothing is emitted for a node that fails.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .ir import Node
from .opspec import MAX_RANK

if TYPE_CHECKING:
    from .onnx_import import _Importer

Handler = Callable[["_Importer", Node, dict[str, Any]], None]

PAD_MODES = {"constant": 0, "reflect": 1, "edge": 2}


def f32_bits(value: float) -> int:
    """The f32 bit pattern of `value` as a signed i32 (how a float travels in an attrs[] slot)."""
    return int(struct.unpack("<i", struct.pack("<f", value))[0])


def bits_f32(bits: int) -> float:
    return float(struct.unpack("<f", struct.pack("<i", bits))[0])


def _const_ints(imp: _Importer, node: Node, index: int, what: str) -> list[int] | None:
    name = node.inputs[index] if index < len(node.inputs) else ""
    if not name:
        return None
    arr = imp.graph.const(name)
    if arr is None:
        raise node.error(f"{what} {name!r} is not constant (could not be folded); only constant {what} are supported")
    if not np.issubdtype(arr.dtype, np.integer):
        raise node.error(f"{what} {name!r} has dtype {arr.dtype}, expected integers")
    return [int(v) for v in arr.reshape(-1)]


def _axes(node: Node, axes: list[int] | None, rank: int) -> list[int]:
    if axes is None:
        return list(range(rank))
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise node.error(f"axis {a} out of range for rank {rank}")
        out.append(a % rank)
    if len(set(out)) != len(out):
        raise node.error(f"axes {axes} repeat an axis")
    return out


# ---------------------------------------------------------------- Pad

def pad_params(imp: _Importer, node: Node, attrs: dict[str, Any], shape: tuple[int, ...]) -> dict[str, Any]:
    """ONNX Pad (opset 11+: pads, constant_value, axes as inputs) -> the IR attrs mode/begin/end/value_bits."""
    imp.check_attrs(node, attrs, {"mode"})
    mode_name = attrs.get("mode", "constant")
    if mode_name not in PAD_MODES:
        raise node.error(f"unsupported attribute mode={mode_name!r} (supported: {', '.join(PAD_MODES)})")
    rank = len(shape)
    if not 1 <= rank <= MAX_RANK:
        raise node.error(f"input {node.inputs[0]!r} has rank {rank}; Pad supports rank 1..{MAX_RANK}")
    pads = _const_ints(imp, node, 1, "pads")
    if pads is None:
        raise node.error("missing pads input")
    axes = _axes(node, _const_ints(imp, node, 3, "axes"), rank)
    if len(pads) != 2 * len(axes):
        raise node.error(f"pads {pads} must have {2 * len(axes)} entries (2 per padded axis)")
    begin, end = [0] * rank, [0] * rank
    for k, a in enumerate(axes):
        begin[a], end[a] = pads[k], pads[k + len(axes)]
    if min(begin + end) < 0:
        raise node.error(f"unsupported pads {pads} (negative pads crop; only pads >= 0)")
    value = 0.0
    if len(node.inputs) > 2 and node.inputs[2]:
        v = imp.graph.const(node.inputs[2])
        if v is None or v.size != 1:
            raise node.error(f"constant_value {node.inputs[2]!r} must be a constant scalar")
        value = float(v.reshape(()))
        if math.isnan(value):
            raise node.error("constant_value is NaN")
    if mode_name == "reflect":
        for a in range(rank):
            if max(begin[a], end[a]) >= shape[a]:
                raise node.error(f"mode 'reflect' pads {[begin[a], end[a]]} on axis {a} of input {node.inputs[0]!r} "
                                 f"{list(shape)}: reflect pads must be smaller than the dim ({shape[a]})")
    return {"mode": PAD_MODES[mode_name], "begin": tuple(begin), "end": tuple(end), "value_bits": f32_bits(value)}


def _pad(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    x = imp.activation_input(node)
    params = pad_params(imp, node, attrs, imp.graph.shape(x))
    if not any(params["begin"]) and not any(params["end"]):
        imp.emit("Identity", node, [x], node.outputs[0])
        return
    imp.emit("Pad", node, [x], node.outputs[0], params)


def _fold_pad(imp: _Importer, node: Node, attrs: dict[str, Any], data: np.ndarray, *rest: np.ndarray | None
              ) -> np.ndarray:
    p = pad_params(imp, node, attrs, data.shape)
    width = list(zip(p["begin"], p["end"], strict=True))
    if p["mode"] == 0:
        return np.pad(data, width, mode="constant", constant_values=np.asarray(bits_f32(p["value_bits"]),
                                                                                 data.dtype))
    return np.pad(data, width, mode="reflect" if p["mode"] == 1 else "edge")


HANDLERS: dict[str, Handler] = {
    "Pad": _pad,
}

FOLDS: dict[str, Callable[..., np.ndarray]] = {
    "Pad": _fold_pad,
}
