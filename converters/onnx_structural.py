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


def _x(imp: _Importer, node: Node) -> str:
    """The data input (input 0), an activation; a missing one is the node's error (malformed models)."""
    if not node.inputs or not node.inputs[0]:
        raise node.error("missing data input")
    return imp.activation_input(node)


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

def pad_params(imp: _Importer, node: Node, attrs: dict[str, Any], shape: tuple[int, ...]
               ) -> tuple[list[tuple[int, int]], dict[str, Any]]:
    """ONNX Pad (opset 11+: pads, constant_value, axes as inputs) -> (the crop of each axis by negative pads, the
    IR attrs mode/begin/end/value_bits of the padding that follows it)."""
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
    crop = [(max(-b, 0), max(-e, 0)) for b, e in zip(begin, end, strict=True)]
    cropped = []
    for a, (cb, ce) in enumerate(crop):
        if cb + ce >= shape[a]:
            raise node.error(f"pads {pads} crop all of axis {a} of input {node.inputs[0]!r} {list(shape)}")
        if mode_name != "constant" and (cb or ce) and max(begin[a], end[a]) > 0:
            raise node.error(f"pads {pads} both crop and pad axis {a} in mode {mode_name!r} (only in constant mode)")
        cropped.append(shape[a] - cb - ce)
    begin, end = [max(b, 0) for b in begin], [max(e, 0) for e in end]
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
            if max(begin[a], end[a]) >= cropped[a]:
                raise node.error(f"mode 'reflect' pads {[begin[a], end[a]]} on axis {a} of input {node.inputs[0]!r} "
                                 f"{list(shape)}: reflect pads must be smaller than the dim ({cropped[a]})")
    return crop, {"mode": PAD_MODES[mode_name], "begin": tuple(begin), "end": tuple(end),
                  "value_bits": f32_bits(value) if mode_name == "constant" else 0}


def _pad(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """Pad: negative pads crop first (a SLICE), the rest is a PAD; all-zero pads are an identity."""
    x = _x(imp, node)
    shape = imp.graph.shape(x)
    crop, params = pad_params(imp, node, attrs, shape)
    padded = any(params["begin"]) or any(params["end"])
    if any(cb or ce for cb, ce in crop):
        out = imp.graph.unique_name(f"{node.outputs[0]}.crop") if padded else node.outputs[0]
        count = [d - cb - ce for d, (cb, ce) in zip(shape, crop, strict=True)]
        _emit_slice(imp, node, x, [cb for cb, _ in crop], [1] * len(shape), count, out,
                    name=f"{node.name}.crop" if padded else node.name)
        x = out
    if padded:
        imp.emit("Pad", node, [x], node.outputs[0], params)
    elif x != node.outputs[0]:
        imp.emit("Identity", node, [x], node.outputs[0])


def _fold_pad(imp: _Importer, node: Node, attrs: dict[str, Any], data: np.ndarray, *rest: np.ndarray | None
              ) -> np.ndarray:
    crop, p = pad_params(imp, node, attrs, data.shape)
    data = data[tuple(slice(cb, d - ce) for d, (cb, ce) in zip(data.shape, crop, strict=True))]
    width = list(zip(p["begin"], p["end"], strict=True))
    if p["mode"] == 0:
        return np.pad(data, width, mode="constant", constant_values=np.asarray(bits_f32(p["value_bits"]),
                                                                                 data.dtype))
    return np.pad(data, width, mode="reflect" if p["mode"] == 1 else "edge")


# ---------------------------------------------------------------- Resize

RESIZE_MODES = {"nearest": 0, "linear": 1}
RESIZE_COORDS = {"half_pixel": 0, "pytorch_half_pixel": 1, "align_corners": 2, "asymmetric": 3,
                 "tf_half_pixel_for_nn": 4}
NEAREST_MODES = {"round_prefer_floor": 0, "round_prefer_ceil": 1, "floor": 2, "ceil": 3}


def _choice(node: Node, attrs: dict[str, Any], key: str, default: str, table: dict[str, int], why: str = "") -> int:
    value = attrs.get(key, default)
    if value not in table:
        raise node.error(f"unsupported attribute {key}={value!r} (supported: {', '.join(table)}{why})")
    return table[value]


def _resize(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """ONNX Resize (opset 11+; Upsample and Resize-10 arrive rewritten by passes/onnx_upgrade): nearest (every
    nearest_mode) or linear on the last two axes, scales or sizes."""
    imp.check_attrs(node, attrs, {"mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a",
                                  "exclude_outside", "extrapolation_value", "antialias", "axes",
                                  "keep_aspect_ratio_policy"})
    x = _x(imp, node)
    shape = imp.graph.shape(x)
    rank = len(shape)
    mode = _choice(node, attrs, "mode", "nearest", RESIZE_MODES, "; cubic is not supported")
    coord = _choice(node, attrs, "coordinate_transformation_mode", "half_pixel", RESIZE_COORDS)
    nearest = _choice(node, attrs, "nearest_mode", "round_prefer_floor", NEAREST_MODES)
    if int(attrs.get("antialias", 0)):
        raise node.error("unsupported attribute antialias=1")
    if attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise node.error(f"unsupported attribute keep_aspect_ratio_policy={attrs['keep_aspect_ratio_policy']!r} "
                         "(only stretch)")
    if not 2 <= rank <= MAX_RANK:
        raise node.error(f"input {x!r} has rank {rank}; Resize supports rank 2..{MAX_RANK}")
    axes = _axes(node, [int(a) for a in attrs["axes"]] if "axes" in attrs else None, rank)
    scales_in = imp.graph.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
    sizes_in = imp.graph.const(node.inputs[3]) if len(node.inputs) > 3 and node.inputs[3] else None
    for index, what in ((2, "scales"), (3, "sizes")):
        if len(node.inputs) > index and node.inputs[index] and imp.graph.const(node.inputs[index]) is None:
            raise node.error(f"{what} {node.inputs[index]!r} is not constant (could not be folded)")
    scales, out = [1.0] * rank, list(shape)
    if scales_in is not None and scales_in.size:
        if scales_in.size != len(axes):
            raise node.error(f"scales {scales_in.reshape(-1).tolist()} must have {len(axes)} entries")
        for a, v in zip(axes, scales_in.reshape(-1).astype(np.float32), strict=True):
            if not np.isfinite(v) or v <= 0:
                raise node.error(f"scale {float(v)} on axis {a} must be finite and > 0")
            scales[a] = float(v)
            out[a] = int(np.float32(shape[a]) * v)  # floor(in * scale) in f32, as onnxruntime
    elif sizes_in is not None and sizes_in.size:
        if sizes_in.size != len(axes):
            raise node.error(f"sizes {sizes_in.reshape(-1).tolist()} must have {len(axes)} entries")
        for a, v in zip(axes, sizes_in.reshape(-1), strict=True):
            out[a] = int(v)
            scales[a] = float(np.float32(int(v)) / np.float32(shape[a]))
    else:
        raise node.error("neither scales nor sizes is given")
    for a in range(rank):
        if out[a] <= 0:
            raise node.error(f"output size {out[a]} on axis {a} (input {list(shape)}) must be > 0")
    ah = _resized_pair(node, shape, out, scales)
    if coord == RESIZE_COORDS["tf_half_pixel_for_nn"] and mode != 0:
        raise node.error("coordinate_transformation_mode='tf_half_pixel_for_nn' is for mode 'nearest' only")
    if tuple(out) == shape and all(s == 1.0 for s in scales):
        imp.emit("Identity", node, [x], node.outputs[0])
        return
    imp.emit("Resize", node, [x], node.outputs[0],
             {"mode": mode, "coord": coord, "nearest_mode": nearest if mode == 0 else 0,
              "scale_h_bits": f32_bits(scales[ah]), "scale_w_bits": f32_bits(scales[ah + 1]),
              "out_hw": (out[ah], out[ah + 1]), "inner_axes": rank - 2 - ah})


def _resized_pair(node: Node, shape: tuple[int, ...], out: list[int], scales: list[float]) -> int:
    """The first of the two adjacent axes the engine resizes: the last two unless the resized axes lie elsewhere
    (H, W of NHWC); one resized axis pairs with a neighbour of scale 1 (an exact identity map)."""
    rank = len(shape)
    moved = [a for a in range(rank) if out[a] != shape[a] or scales[a] != 1.0]
    if not moved or moved[-1] == rank - 1 or moved == [rank - 2]:
        first = rank - 2
    else:
        first = moved[0] if len(moved) == 2 else max(moved[0] - 1, 0)
    if any(a not in (first, first + 1) for a in moved):
        raise node.error(f"resizes axes {moved} of input {list(shape)} (scales {scales}, sizes {out}); at most two "
                         "adjacent axes may be resized")
    return first


# ---------------------------------------------------------------- ConvTranspose

def _conv_transpose(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """2-D ConvTranspose: groups, strides, dilations, pads or auto_pad / output_shape, output_padding."""
    imp.check_attrs(node, attrs, {"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape",
                                  "pads", "strides"})
    x = _x(imp, node)
    xs = imp.graph.shape(x)
    w = imp.float_weight(node, 1, "weight")
    if len(xs) != 4 or w.ndim != 4:
        raise node.error(f"input {list(xs)} / weight {list(w.shape)}: only 2-D ConvTranspose on NCHW is supported")
    groups = int(attrs.get("group", 1))
    if groups < 1 or xs[1] % groups or w.shape[0] != xs[1]:
        raise node.error(f"weight {list(w.shape)} does not match input channels {xs[1]} with group={groups}")
    k = (int(w.shape[2]), int(w.shape[3]))
    if "kernel_shape" in attrs and tuple(attrs["kernel_shape"]) != k:
        raise node.error(f"kernel_shape {attrs['kernel_shape']} does not match weight {list(w.shape)}")
    strides = tuple(int(v) for v in attrs.get("strides", (1, 1)))
    dil = tuple(int(v) for v in attrs.get("dilations", (1, 1)))
    opad = tuple(int(v) for v in attrs.get("output_padding", (0, 0)))
    if len(strides) != 2 or len(dil) != 2 or len(opad) != 2 or min(strides + dil) < 1:
        raise node.error(f"unsupported attribute strides={list(strides)} / dilations={list(dil)} / "
                         f"output_padding={list(opad)}")
    for a in range(2):
        if not 0 <= opad[a] < strides[a]:  # onnxruntime's rule (the ONNX text also allows < dilation)
            raise node.error(f"output_padding {list(opad)} must be >= 0 and smaller than the strides "
                             f"{list(strides)}")
    span = [(k[a] - 1) * dil[a] + 1 for a in range(2)]
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if auto_pad not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
        raise node.error(f"unsupported attribute auto_pad={auto_pad!r}")
    target = [int(v) for v in attrs["output_shape"]][-2:] if "output_shape" in attrs else None
    if target is None and auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        target = [xs[2 + a] * strides[a] for a in range(2)]
    if target is not None:
        begin, end = [], []
        for a in range(2):
            total = strides[a] * (xs[2 + a] - 1) + opad[a] + span[a] - target[a]
            if total < 0:
                raise node.error(f"output_shape {target} needs negative padding {total} on axis {2 + a}")
            small, big = total // 2, total - total // 2
            begin.append(small if auto_pad == "SAME_UPPER" else big)
            end.append(big if auto_pad == "SAME_UPPER" else small)
        pads = (begin[0], begin[1], end[0], end[1])
    elif auto_pad == "VALID":
        pads = (0, 0, 0, 0)
    else:
        p = [int(v) for v in attrs.get("pads", (0, 0, 0, 0))]
        if len(p) != 4 or min(p) < 0:
            raise node.error(f"unsupported attribute pads={p} (4 entries >= 0)")
        pads = (p[0], p[1], p[2], p[3])
    inputs = [x, node.inputs[1]]
    if len(node.inputs) > 2 and node.inputs[2]:
        imp.float_weight(node, 2, "bias")
        inputs.append(node.inputs[2])
    imp.emit("ConvTranspose", node, inputs, node.outputs[0],
             {"kh": k[0], "kw": k[1], "stride_h": strides[0], "stride_w": strides[1], "pad_top": pads[0],
              "pad_left": pads[1], "pad_bottom": pads[2], "pad_right": pads[3], "dilation_h": dil[0],
              "dilation_w": dil[1], "groups": groups, "output_pad_h": opad[0], "output_pad_w": opad[1]})


# ---------------------------------------------------------------- DepthToSpace / SpaceToDepth
# Lowered to RESHAPE (an alias, no copy) + TRANSPOSE (the one copy) + RESHAPE: the transpose merges the adjacent
# axes, so this costs what a dedicated operator would, with no second copy of the index arithmetic.

def _space_depth_plan(node: Node, attrs: dict[str, Any], shape: tuple[int, ...]
                      ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(first reshape, perm, final shape) of DepthToSpace (DCR/CRD) or SpaceToDepth on an NCHW shape."""
    if len(shape) != 4:
        raise node.error(f"input shape {list(shape)} is not 4-D NCHW")
    b = int(attrs.get("blocksize", 0))
    if b < 1:
        raise node.error(f"blocksize {b} must be >= 1")
    n, c, h, w = shape
    if node.op == "SpaceToDepth":
        if h % b or w % b:
            raise node.error(f"blocksize {b} does not divide the spatial dims {h}x{w}")
        return (n, c, h // b, b, w // b, b), (0, 3, 5, 1, 2, 4), (n, c * b * b, h // b, w // b)
    mode = attrs.get("mode", "DCR")
    if mode not in ("DCR", "CRD"):
        raise node.error(f"unsupported attribute mode={mode!r} (DCR or CRD)")
    if c % (b * b):
        raise node.error(f"blocksize {b}: {b * b} does not divide the {c} channels")
    out = (n, c // (b * b), h * b, w * b)
    if mode == "DCR":
        return (n, b, b, c // (b * b), h, w), (0, 3, 4, 1, 5, 2), out
    return (n, c // (b * b), b, b, h, w), (0, 1, 4, 2, 5, 3), out


def _space_depth(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"blocksize"} | ({"mode"} if node.op == "DepthToSpace" else set()))
    x = _x(imp, node)
    first, perm, out = _space_depth_plan(node, attrs, imp.graph.shape(x))
    split = imp.graph.unique_name(f"{node.outputs[0]}.blocks")
    moved = imp.graph.unique_name(f"{node.outputs[0]}.moved")
    imp.emit_reshape(node, x, first, split, name=f"{node.name}.split")
    imp.emit("Transpose", node, [split], moved, {"perm": perm}, name=f"{node.name}.move")
    imp.emit_reshape(node, moved, out, node.outputs[0], name=node.name)


def _fold_space_depth(imp: _Importer, node: Node, attrs: dict[str, Any], x: np.ndarray) -> np.ndarray:
    first, perm, out = _space_depth_plan(node, attrs, x.shape)
    return x.reshape(first).transpose(perm).reshape(out)


# ---------------------------------------------------------------- Slice / Split

def slice_params(node: Node, shape: tuple[int, ...], starts: list[int], ends: list[int], axes: list[int] | None,
                 steps: list[int] | None) -> tuple[list[int], list[int], list[int]]:
    """ONNX Slice -> per-axis (start, step, count) with ONNX's clamping (Python's slice.indices)."""
    rank = len(shape)
    axes_n = _axes(node, axes, rank) if axes is not None else list(range(len(starts)))
    steps_l = steps if steps is not None else [1] * len(axes_n)
    if not len(starts) == len(ends) == len(axes_n) == len(steps_l):
        raise node.error(f"starts {starts}, ends {ends}, axes {axes} and steps {steps} differ in length")
    start, step, count = [0] * rank, [1] * rank, list(shape)
    for a, b, e, st in zip(axes_n, starts, ends, steps_l, strict=True):
        if st == 0:
            raise node.error(f"step 0 on axis {a}")
        first, stop, stride = slice(b, e, st).indices(shape[a])
        n = len(range(first, stop, stride))
        if n == 0:
            raise node.error(f"slice [{b}:{e}:{st}] of axis {a} (size {shape[a]}) is empty; empty tensors are not "
                             "supported")
        start[a], step[a], count[a] = first, stride, n
    return start, step, count


def _emit_slice(imp: _Importer, node: Node, x: str, start: list[int], step: list[int], count: list[int],
                output: str, name: str | None = None) -> None:
    shape = imp.graph.shape(x)
    if tuple(count) == shape and all(st == 1 for st in step):
        imp.emit("Identity", node, [x], output, name=name)
        return
    imp.emit("Slice", node, [x], output, {"start": tuple(start), "step": tuple(step), "count": tuple(count)},
             name=name)


def _slice(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """Slice of an activation (constant slices fold): any steps, negative indices, opset 10+ inputs."""
    imp.check_attrs(node, attrs, set())
    x = _x(imp, node)
    shape = imp.graph.shape(x)
    if not 1 <= len(shape) <= MAX_RANK:
        raise node.error(f"input {x!r} has rank {len(shape)}; Slice supports rank 1..{MAX_RANK}")
    starts, ends = _const_ints(imp, node, 1, "starts"), _const_ints(imp, node, 2, "ends")
    if starts is None or ends is None:
        raise node.error("missing starts or ends input")
    start, step, count = slice_params(node, shape, starts, ends, _const_ints(imp, node, 3, "axes"),
                                      _const_ints(imp, node, 4, "steps"))
    _emit_slice(imp, node, x, start, step, count, node.outputs[0])


def _split_sizes(imp: _Importer, node: Node, attrs: dict[str, Any], shape: tuple[int, ...]) -> tuple[int, list[int]]:
    rank = len(shape)
    axis = int(attrs.get("axis", 0))
    if not -rank <= axis < rank:
        raise node.error(f"axis {axis} out of range for rank {rank}")
    axis %= rank
    outputs = len(node.outputs)
    sizes = _const_ints(imp, node, 1, "split")
    if sizes is None:
        parts = int(attrs.get("num_outputs", outputs))
        if parts != outputs:
            raise node.error(f"num_outputs {parts} differs from the {outputs} outputs")
        chunk = -(-shape[axis] // parts)  # ONNX: equal parts, the last one smaller
        sizes = [min(chunk, shape[axis] - k * chunk) for k in range(parts)]
    if len(sizes) != outputs or sum(sizes) != shape[axis] or min(sizes) <= 0:
        raise node.error(f"split {sizes} does not cut axis {axis} of size {shape[axis]} into {outputs} non-empty parts")
    return axis, sizes


def _split(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """Split: one SLICE per used output (a constant input splits into constants)."""
    imp.check_attrs(node, attrs, {"axis", "num_outputs"})
    if not node.inputs or not node.inputs[0]:
        raise node.error("missing data input")
    x = node.inputs[0]
    shape = imp.graph.shape(x)
    axis, sizes = _split_sizes(imp, node, attrs, shape)
    const = imp.graph.const(x)
    offset = 0
    for k, (out, size) in enumerate(zip(node.outputs, sizes, strict=True)):
        if out and (out in imp.used):
            if const is not None:
                imp.graph.add_const(out, np.take(const, range(offset, offset + size), axis=axis))
            else:
                start, step, count = [0] * len(shape), [1] * len(shape), list(shape)
                start[axis], count[axis] = offset, size
                _emit_slice(imp, node, x, start, step, count, out, name=node.name if k == 0 else f"{node.name}.{k}")
        offset += size


# ---------------------------------------------------------------- Gather

def _gather(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """Gather of an activation with constant indices: a scalar index is a SLICE (+ an aliasing RESHAPE that drops
    the axis), an index tensor a GATHER."""
    imp.check_attrs(node, attrs, {"axis"})
    x = _x(imp, node)
    shape = imp.graph.shape(x)
    rank = len(shape)
    axis = int(attrs.get("axis", 0))
    if not -rank <= axis < rank:
        raise node.error(f"axis {axis} out of range for rank {rank}")
    axis %= rank
    idx = imp.graph.const(node.inputs[1])
    if idx is None:
        raise node.error(f"indices {node.inputs[1]!r} are not constant; only constant indices are supported")
    if not np.issubdtype(idx.dtype, np.integer):
        raise node.error(f"indices {node.inputs[1]!r} have dtype {idx.dtype}, expected integers")
    flat = idx.astype(np.int64).reshape(-1)
    bad = flat[(flat < -shape[axis]) | (flat >= shape[axis])]
    if bad.size:
        raise node.error(f"index {int(bad[0])} out of range for axis {axis} of input {list(shape)}")
    norm = np.where(idx < 0, idx + shape[axis], idx).astype(np.int32)
    out_shape = (*shape[:axis], *idx.shape, *shape[axis + 1:])
    if not 1 <= len(out_shape) <= MAX_RANK:
        raise node.error(f"output rank {len(out_shape)} (input {list(shape)}, indices {list(idx.shape)}) is outside "
                         f"1..{MAX_RANK}")
    if idx.ndim == 0:
        start, step, count = [0] * rank, [1] * rank, list(shape)
        start[axis], count[axis] = int(norm), 1
        picked = imp.graph.unique_name(f"{node.outputs[0]}.slice")
        _emit_slice(imp, node, x, start, step, count, picked, name=f"{node.name}.slice")
        imp.emit_reshape(node, picked, out_shape, node.outputs[0], name=node.name)
        return
    indices = imp.add_const(f"{node.name}.indices", norm)
    imp.emit("Gather", node, [x, indices], node.outputs[0], {"axis": axis})


# ---------------------------------------------------------------- Expand / Tile

def _expand_shape(node: Node, shape: tuple[int, ...], target: list[int]) -> tuple[int, ...]:
    try:
        out = tuple(int(d) for d in np.broadcast_shapes(shape, tuple(target)))
    except ValueError:
        raise node.error(f"shape {target} does not broadcast with input shape {list(shape)}") from None
    if len(out) > MAX_RANK:
        raise node.error(f"output rank {len(out)} > {MAX_RANK}")
    return out


def _expand(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, set())
    x = _x(imp, node)
    target = _const_ints(imp, node, 1, "shape")
    if target is None:
        raise node.error("missing shape input")
    out = _expand_shape(node, imp.graph.shape(x), target)
    if out == imp.graph.shape(x):
        imp.emit("Identity", node, [x], node.outputs[0])
        return
    imp.emit("Expand", node, [x], node.outputs[0], {"shape": out})


def _tile(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """Tile as RESHAPE (alias) + EXPAND + RESHAPE (alias): each repeated axis d becomes (repeats[d], d), the
    repeat axis broadcast from 1."""
    imp.check_attrs(node, attrs, set())
    x = _x(imp, node)
    shape = imp.graph.shape(x)
    repeats = _const_ints(imp, node, 1, "repeats")
    if repeats is None or len(repeats) != len(shape) or min(repeats, default=1) < 1:
        raise node.error(f"repeats {repeats} must be {len(shape)} integers >= 1 (one per axis of {list(shape)})")
    split, expanded = [], []
    for d, r in zip(shape, repeats, strict=True):
        if r > 1:
            split.append(1)
            expanded.append(r)
        split.append(d)
        expanded.append(d)
    if len(split) > MAX_RANK:
        raise node.error(f"repeats {repeats} on a rank-{len(shape)} input need rank {len(split)} > {MAX_RANK} "
                         f"inside (repeat at most {MAX_RANK - len(shape)} axes)")
    out = tuple(d * r for d, r in zip(shape, repeats, strict=True))
    if out == shape:
        imp.emit("Identity", node, [x], node.outputs[0])
        return
    lifted = imp.graph.unique_name(f"{node.outputs[0]}.lifted")
    wide = imp.graph.unique_name(f"{node.outputs[0]}.wide")
    imp.emit_reshape(node, x, split, lifted, name=f"{node.name}.lift")
    imp.emit("Expand", node, [lifted], wide, {"shape": tuple(expanded)}, name=f"{node.name}.expand")
    imp.emit_reshape(node, wide, out, node.outputs[0], name=node.name)


def _size(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """Size of an activation: its element count is known once shapes are fixed (like Shape)."""
    imp.check_attrs(node, attrs, set())
    imp.graph.add_const(node.outputs[0], np.asarray(math.prod(imp.graph.shape(node.inputs[0])), np.int64))


MULTI_OUTPUT = {"Split"}

HANDLERS: dict[str, Handler] = {
    "Slice": _slice,
    "Split": _split,
    "Gather": _gather,
    "Expand": _expand,
    "Tile": _tile,
    "Size": _size,
    "DepthToSpace": _space_depth,
    "SpaceToDepth": _space_depth,
    "ConvTranspose": _conv_transpose,
    "Pad": _pad,
    "Resize": _resize,
}

# ---------------------------------------------------------------- shape arithmetic on constants
# More of what dynamic exports compute on shapes (rounding, comparisons, logic, products), evaluated with numpy once
# the input shapes are fixed (onnx_import folds any node whose inputs are all constant).

def _fold_unary(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    return lambda imp, node, attrs, x: np.asarray(fn(x)).astype(x.dtype)


def _fold_compare(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    return lambda imp, node, attrs, a, b: np.asarray(fn(a, b))


def _fold_mod(imp: _Importer, node: Node, attrs: dict[str, Any], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer) and np.any(b == 0):
        raise node.error("Mod by zero")
    return (np.fmod if int(attrs.get("fmod", 0)) else np.mod)(a, b).astype(np.result_type(a, b))


def _fold_reduce_prod(imp: _Importer, node: Node, attrs: dict[str, Any], x: np.ndarray,
                      axes: np.ndarray | None = None) -> np.ndarray:
    ax = attrs.get("axes") if axes is None else [int(a) for a in axes.reshape(-1)]
    keep = bool(int(attrs.get("keepdims", 1)))
    if ax is not None and len(ax) == 0 and int(attrs.get("noop_with_empty_axes", 0)):
        return x
    return np.prod(x, axis=None if not ax else tuple(int(a) for a in ax), keepdims=keep).astype(x.dtype)


_SHAPE_FOLDS: dict[str, Callable[..., np.ndarray]] = {
    "Floor": _fold_unary(np.floor), "Ceil": _fold_unary(np.ceil), "Round": _fold_unary(np.round),
    "Neg": _fold_unary(np.negative), "Abs": _fold_unary(np.abs), "Sign": _fold_unary(np.sign),
    "Sqrt": _fold_unary(np.sqrt), "Not": lambda imp, node, attrs, x: np.logical_not(x),
    "Less": _fold_compare(np.less), "LessOrEqual": _fold_compare(np.less_equal),
    "Greater": _fold_compare(np.greater), "GreaterOrEqual": _fold_compare(np.greater_equal),
    "And": _fold_compare(np.logical_and), "Or": _fold_compare(np.logical_or), "Xor": _fold_compare(np.logical_xor),
    "Mod": _fold_mod, "ReduceProd": _fold_reduce_prod,
    "Size": lambda imp, node, attrs, x: np.asarray(x.size, np.int64),
}

FOLDS: dict[str, Callable[..., np.ndarray]] = {
    **_SHAPE_FOLDS,
    "Expand": lambda imp, node, attrs, x, s: x * np.ones(s.astype(np.int64), x.dtype),
    "Tile": lambda imp, node, attrs, x, r: np.tile(x, r.astype(np.int64)),
    "DepthToSpace": _fold_space_depth,
    "SpaceToDepth": _fold_space_depth,
    "Pad": _fold_pad,
}
