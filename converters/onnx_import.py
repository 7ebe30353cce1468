"""ONNX ModelProto (or file) -> IR graph with static shapes.

Supports the default-domain opsets 7..21 (7..12 upgraded to 13 first, passes/onnx_upgrade.py) and the operators
listed in `_HANDLERS`; shape arithmetic that torch emits
(Shape/Gather/Unsqueeze/Concat/Cast chains, e.g. for ``x.view(x.size(0), -1)``) is constant-folded with numpy.
Anything else raises ConversionError naming the node, the op and the reason.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from . import onnx_structural
from .ir import NO_ACT, Activation, ConversionError, Graph, Node
from .passes.onnx_upgrade import OLDEST_OPSET, TARGET_OPSET, attribute_type_problem, upgrade_opset
from .passes.shape_inference import broadcast_shapes, infer_node

log = logging.getLogger(__name__)

SUPPORTED_OPSETS = range(OLDEST_OPSET, 22)
INF = float("inf")

# Ops evaluated with numpy when every input is a constant (shape arithmetic, constant weights transformations).
_FOLD: dict[str, Callable[..., np.ndarray]] = {}


def load_model(source: str | os.PathLike | onnx.ModelProto) -> onnx.ModelProto:
    if isinstance(source, onnx.ModelProto):
        return source
    path = Path(source)
    if not path.is_file():
        raise ConversionError(f"bad ONNX file {str(path)!r}: no such file")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # protobuf DecodeError, external data errors, ...
        raise ConversionError(f"bad ONNX file {str(path)!r}: cannot parse ({type(e).__name__}: {e})") from e
    check_strings(model, f"ONNX file {str(path)!r}")
    return model


def check_strings(model: onnx.ModelProto, label: str = "ONNX model") -> None:
    """Protobuf hands back undecodable (non-UTF-8) string fields as bytes: refuse them by name instead of failing
    later with a TypeError. Also refuses a parse that produced no graph at all (empty or foreign bytes)."""
    if not model.HasField("graph"):
        raise ConversionError(f"bad {label}: it has no graph (empty file, or not an ONNX ModelProto)")
    g = model.graph
    named = [("graph input", v.name) for v in g.input] + [("graph output", v.name) for v in g.output]
    named += [("value_info", v.name) for v in g.value_info] + [("initializer", t.name) for t in g.initializer]
    for index, n in enumerate(g.node):
        named += [(f"node {index} name", n.name), (f"node {index} op_type", n.op_type),
                  (f"node {index} domain", n.domain)]
        named += [(f"node {index} input", i) for i in n.input] + [(f"node {index} output", o) for o in n.output]
        named += [(f"node {index} attribute", a.name) for a in n.attribute]
    for what, value in named:
        if not isinstance(value, str):
            raise ConversionError(f"bad {label}: {what} {value!r} is not valid UTF-8")


def default_opset(model: onnx.ModelProto) -> int:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    raise ConversionError("the model imports no default-domain (ai.onnx) opset")


def import_onnx(source: str | os.PathLike | onnx.ModelProto,
                input_shapes: Mapping[str, Sequence[int]] | None = None) -> Graph:
    model = load_model(source)
    check_strings(model)
    opset = default_opset(model)
    if opset not in SUPPORTED_OPSETS:
        raise ConversionError(f"unsupported opset {opset} (supported: ai.onnx opsets "
                              f"{SUPPORTED_OPSETS.start}..{SUPPORTED_OPSETS.stop - 1}; re-export with opset_version=17)"
                              )
    model, opset = upgrade_opset(model, opset), max(opset, TARGET_OPSET)
    return _Importer(model, opset, dict(input_shapes or {})).run()


def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        try:
            out[a.name] = v.decode() if isinstance(v, bytes) else v
        except UnicodeDecodeError as e:
            raise ConversionError(f"node {node.name!r} ({node.op_type}): attribute {a.name!r} is not UTF-8") from e
    return out


def _resolve_pads(node: Node, attrs: dict[str, Any], hw: tuple[int, int], kernel: tuple[int, int],
                  strides: tuple[int, int], dilations: tuple[int, int]) -> tuple[int, int, int, int]:
    """ONNX pads/auto_pad -> (top, left, bottom, right)."""
    auto_pad = attrs.get("auto_pad", "NOTSET")
    if auto_pad == "NOTSET":
        pads = list(attrs.get("pads", [0, 0, 0, 0]))
        if len(pads) != 4:
            raise node.error(f"pads {pads} must have 4 entries for a 2-D window")
        if min(pads) < 0:
            raise node.error(f"unsupported attribute pads={pads} (negative pads)")
        return pads[0], pads[1], pads[2], pads[3]
    if auto_pad == "VALID":
        return 0, 0, 0, 0
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise node.error(f"unsupported attribute auto_pad={auto_pad!r}")
    begin, end = [], []
    for size, k, s, d in zip(hw, kernel, strides, dilations, strict=True):
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        small, big = total // 2, total - total // 2
        begin.append(small if auto_pad == "SAME_UPPER" else big)
        end.append(big if auto_pad == "SAME_UPPER" else small)
    return begin[0], begin[1], end[0], end[1]


class _Importer:
    def __init__(self, model: onnx.ModelProto, opset: int, input_shapes: dict[str, Sequence[int]]) -> None:
        self.model = model
        self.opset = opset
        self.input_shapes = input_shapes
        self.graph = Graph()
        self.node_names: set[str] = set()
        g = model.graph
        self.used: set[str] = {o.name for o in g.output}
        for n in g.node:
            self.used.update(i for i in n.input if i)

    # ---- entry ----
    def run(self) -> Graph:
        g = self.model.graph
        for init in g.initializer:
            try:
                arr = numpy_helper.to_array(init)
            except Exception as e:
                raise ConversionError(f"initializer {init.name!r} cannot be read ({e})") from e
            self.graph.add_const(init.name, arr)
        for init in g.sparse_initializer:
            raise ConversionError(f"sparse initializer {init.values.name!r} is not supported")
        initializer_names = {i.name for i in g.initializer}
        real_inputs = [i for i in g.input if i.name not in initializer_names]
        unknown = set(self.input_shapes) - {i.name for i in real_inputs}
        if unknown:
            raise ConversionError(f"input_shapes names {sorted(unknown)} that are not graph inputs "
                                  f"(graph inputs: {[i.name for i in real_inputs]})")
        for vi in real_inputs:
            self.graph.add_value(vi.name, self._input_shape(vi))
            self.graph.inputs.append(vi.name)
        if not self.graph.inputs:
            raise ConversionError("the graph has no (non-initializer) inputs")

        for index, onode in enumerate(g.node):
            self._import_node(index, onode)

        for o in g.output:
            if o.name not in self.graph.values:
                raise ConversionError(f"graph output {o.name!r} is produced by no node")
            if o.name in self.graph.inputs:
                raise ConversionError(f"graph output {o.name!r} is a graph input (no operator computes it)")
            if self.graph.values[o.name].is_const:
                raise ConversionError(f"graph output {o.name!r} is a constant (does not depend on any input)")
            self.graph.outputs.append(o.name)
        self.graph.remove_unused_values()
        log.info("imported %d ONNX nodes into %d IR nodes (opset %d)", len(g.node), len(self.graph.nodes),
                 self.opset)
        return self.graph

    def _input_shape(self, vi: onnx.ValueInfoProto) -> tuple[int, ...]:
        t = vi.type.tensor_type
        if not vi.type.HasField("tensor_type"):
            raise ConversionError(f"graph input {vi.name!r} is not a tensor")
        if t.elem_type != onnx.TensorProto.FLOAT:
            raise ConversionError(f"graph input {vi.name!r} has element type {_dtype_name(t.elem_type)}; only FLOAT "
                                  "inputs are supported")
        given = self.input_shapes.get(vi.name)
        if not t.HasField("shape"):
            if given is None:
                raise ConversionError(f"graph input {vi.name!r} has no shape; pass input_shapes={{{vi.name!r}: ...}}")
            return tuple(int(d) for d in given)
        dims: list[int | None] = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                                  for d in t.shape.dim]
        if given is not None:
            given = [int(d) for d in given]
            if len(given) != len(dims) or any(d is not None and d != s for d, s in zip(dims, given, strict=True)):
                raise ConversionError(f"input_shapes[{vi.name!r}] = {given} does not match the model's shape "
                                      f"{[d if d is not None else '?' for d in dims]}")
            if min(given) <= 0:
                raise ConversionError(f"input_shapes[{vi.name!r}] = {given} has a non-positive dim")
            return tuple(given)
        if dims and dims[0] is None:
            dims[0] = 1  # batch
        if any(d is None for d in dims):
            sym = [d.dim_param or (d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else "?")
                   for d in t.shape.dim]
            raise ConversionError(f"graph input {vi.name!r} has dynamic shape {sym}; only the batch dim is resolved "
                                  f"automatically, pass input_shapes={{{vi.name!r}: (...)}} (sparsebyte convert: "
                                  f"--input-shape {vi.name}=d0,d1,...)")
        return tuple(int(d) for d in dims)  # type: ignore[arg-type]

    # ---- per node ----
    def _import_node(self, index: int, onode: onnx.NodeProto) -> None:
        name = onode.name or f"{onode.op_type}_{index}"
        base, i = name, 1
        while name in self.node_names:
            name, i = f"{base}_{i}", i + 1
        self.node_names.add(name)
        stub = Node(onode.op_type, name, list(onode.input), list(onode.output), source_op=onode.op_type)
        if onode.domain not in ("", "ai.onnx"):
            raise stub.error(f"unsupported op (domain {onode.domain!r})")
        for inp in onode.input:
            if inp and inp not in self.graph.values:
                raise stub.error(f"input {inp!r} is not a graph input, an initializer or the output of an earlier "
                                 "node (missing initializer?)")
        for extra in onode.output[1:]:
            if extra and extra in self.used and onode.op_type not in onnx_structural.MULTI_OUTPUT:
                raise stub.error(f"output {extra!r} is used, but only the first output is supported")
        problem = attribute_type_problem(onode, self.opset)  # so the handlers can trust the types they read
        if problem:
            raise stub.error(problem)
        attrs = _attrs(onode)
        ins = list(onode.input)
        if onode.op_type in _FOLD and all(not i or self.graph.values[i].is_const for i in ins) and ins:
            try:
                result = _FOLD[onode.op_type](self, stub, attrs, *[self.graph.const(i) if i else None for i in ins])
            except Exception as e:
                raise stub.error(f"constant folding failed: {e}") from e
            self.graph.add_const(onode.output[0], np.asarray(result))
            return
        handler = _HANDLERS.get(onode.op_type)
        if handler is None:
            raise stub.error("unsupported op")
        try:
            handler(self, stub, attrs)
        except (ValueError, IndexError) as e:  # shape arithmetic on malformed models
            raise stub.error(str(e)) from e
        except KeyError as e:  # an empty or unknown input name in a malformed model
            raise stub.error(f"input {e.args[0]!r} is missing") from e

    # ---- helpers for handlers ----
    def check_attrs(self, node: Node, attrs: dict[str, Any], allowed: set[str]) -> None:
        bad = set(attrs) - allowed
        if bad:
            raise node.error(f"unsupported attribute(s) {sorted(bad)}")

    def weight(self, node: Node, index: int, what: str) -> np.ndarray:
        name = node.inputs[index] if index < len(node.inputs) else ""
        if not name:
            raise node.error(f"missing {what} input")
        arr = self.graph.const(name)
        if arr is None:
            raise node.error(f"non-constant {what} {name!r}: weights must be initializers or constants")
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            raise node.error(f"{what} {name!r} contains NaN or Inf")
        return arr

    def float_weight(self, node: Node, index: int, what: str) -> np.ndarray:
        """A constant that ONNX types like the float32 input X (Conv/ConvTranspose weights and bias, BN parameters,
        PRelu slopes): another dtype is an invalid model, refused here rather than written for the engine to refuse."""
        arr = self.weight(node, index, what)
        if arr.dtype != np.float32:
            raise node.error(f"{what} {node.inputs[index]!r} has dtype {arr.dtype}; it must be float32 like the input")
        return arr

    def activation_input(self, node: Node, index: int = 0) -> str:
        name = node.inputs[index]
        if self.graph.values[name].is_const:
            raise node.error(f"input {name!r} is a constant where an activation was expected")
        return name

    def add_const(self, base: str, array: np.ndarray) -> str:
        name = self.graph.unique_name(base)
        self.graph.add_const(name, np.asarray(array))
        return name

    def emit(self, op: str, src: Node, inputs: list[str], output: str, attrs: dict[str, Any] | None = None,
             act: Activation = NO_ACT, name: str | None = None) -> Node:
        node = Node(op, name or src.name, inputs, [output], dict(attrs or {}), act, src.source_op)
        shape = infer_node(self.graph, node)
        self.graph.add_value(output, shape)
        self.graph.nodes.append(node)
        return node

    def emit_reshape(self, src: Node, x: str, shape: Sequence[int], output: str, name: str | None = None) -> None:
        if any(d <= 0 for d in shape):
            raise src.error(f"cannot reshape {list(self.graph.shape(x))} to {list(shape)}")
        self.emit("Reshape", src, [x], output, {"shape": tuple(int(d) for d in shape)}, name=name)


# ================= handlers: activations-in, IR nodes out =================

def _window_params(imp: _Importer, node: Node, attrs: dict[str, Any], kernel: tuple[int, int],
                   with_dilations: bool) -> dict[str, Any]:
    x = imp.graph.shape(node.inputs[0])
    if len(x) != 4:
        raise node.error(f"input {node.inputs[0]!r} has shape {list(x)}; only 2-D windows on NCHW are supported")
    strides = tuple(attrs.get("strides", (1, 1)))
    dilations = tuple(attrs.get("dilations", (1, 1)))
    if len(strides) != 2 or len(dilations) != 2 or min(strides) < 1 or min(dilations) < 1:
        raise node.error(f"unsupported attribute strides={list(strides)} / dilations={list(dilations)}")
    if not with_dilations and dilations != (1, 1):
        raise node.error(f"unsupported attribute dilations={list(dilations)} (only 1 for pooling)")
    pads = _resolve_pads(node, attrs, (x[2], x[3]), kernel, strides, dilations)  # type: ignore[arg-type]
    return {"kernel": kernel, "strides": strides, "pads": pads, "dilations": dilations}


def _conv(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"})
    x = imp.activation_input(node)
    w = imp.float_weight(node, 1, "weight")
    if w.ndim == 3 and len(imp.graph.shape(x)) == 3:
        _conv1d(imp, node, attrs, x, w)
        return
    if w.ndim != 4:
        raise node.error(f"weight shape {list(w.shape)}: only 2-D convolutions are supported")
    kernel = (int(w.shape[2]), int(w.shape[3]))
    if "kernel_shape" in attrs and tuple(attrs["kernel_shape"]) != kernel:
        raise node.error(f"kernel_shape {attrs['kernel_shape']} does not match weight {list(w.shape)}")
    params = _window_params(imp, node, attrs, kernel, with_dilations=True)
    params["group"] = int(attrs.get("group", 1))
    inputs = [x, node.inputs[1]]
    if len(node.inputs) > 2 and node.inputs[2]:
        imp.float_weight(node, 2, "bias")
        inputs.append(node.inputs[2])
    imp.emit("Conv", node, inputs, node.outputs[0], params)


def _conv1d(imp: _Importer, node: Node, attrs: dict[str, Any], x: str, w: np.ndarray) -> None:
    """Conv over [N, C, L] (an STFT as a strided Conv1d, audio front ends): a 1 x k Conv on [N, C, 1, L] between two
    reshapes, so the 2-D kernels run it."""
    def one(key: str, default: int) -> int:
        v = list(attrs.get(key, [default]))
        if len(v) != 1:
            raise node.error(f"{key} {v} must have 1 entry for a 1-D convolution")
        return int(v[0])

    pads = list(attrs.get("pads", [0, 0]))
    if len(pads) != 2:
        raise node.error(f"pads {pads} must have 2 entries for a 1-D convolution")
    if "kernel_shape" in attrs and list(attrs["kernel_shape"]) != [int(w.shape[2])]:
        raise node.error(f"kernel_shape {attrs['kernel_shape']} does not match weight {list(w.shape)}")
    attrs2 = {k: v for k, v in attrs.items() if k not in ("dilations", "kernel_shape", "pads", "strides")}
    attrs2.update(strides=(1, one("strides", 1)), dilations=(1, one("dilations", 1)), pads=(0, pads[0], 0, pads[1]))
    n, c, length = imp.graph.shape(x)
    x4 = imp.graph.unique_name(f"{x}.as2d")
    imp.emit_reshape(node, x, (n, c, 1, length), x4, name=f"{node.name}.as2d")
    w4 = imp.add_const(f"{node.inputs[1]}.as2d", w.reshape(w.shape[0], w.shape[1], 1, w.shape[2]))
    y4 = imp.graph.unique_name(f"{node.outputs[0]}.as2d")
    _conv(imp, Node(node.op, node.name, [x4, w4, *node.inputs[2:]], [y4], source_op=node.source_op), attrs2)
    yn, yc, _, yl = imp.graph.shape(y4)
    imp.emit_reshape(node, y4, (yn, yc, yl), node.outputs[0], name=f"{node.name}.as1d")


def _fc(imp: _Importer, node: Node, x: str, w: np.ndarray, b: np.ndarray | None, output: str) -> None:
    inputs = [x, imp.add_const(f"{node.name}.weight", np.ascontiguousarray(w, dtype=np.float32))]
    if b is not None:
        inputs.append(imp.add_const(f"{node.name}.bias", np.ascontiguousarray(b, dtype=np.float32)))
    imp.emit("FC", node, inputs, output)


def _gemm(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"alpha", "beta", "transA", "transB"})
    x = imp.activation_input(node)
    if len(imp.graph.shape(x)) != 2:
        raise node.error(f"input A has shape {list(imp.graph.shape(x))}; Gemm needs a 2-D input")
    if attrs.get("transA", 0):
        raise node.error("unsupported attribute transA=1 on an activation input")
    b = imp.weight(node, 1, "weight").astype(np.float64)
    if b.ndim != 2:
        raise node.error(f"weight shape {list(b.shape)} is not 2-D")
    w = (b if attrs.get("transB", 0) else b.T) * float(attrs.get("alpha", 1.0))  # -> [Cout, Cin]
    bias = None
    if len(node.inputs) > 2 and node.inputs[2]:
        c = imp.weight(node, 2, "bias C").astype(np.float64)
        try:
            rows = np.broadcast_to(c, (imp.graph.shape(x)[0], w.shape[0]))
        except ValueError as e:
            raise node.error(f"bias C shape {list(c.shape)} does not broadcast to the output") from e
        if not np.all(rows == rows[:1]):
            raise node.error(f"bias C shape {list(c.shape)} varies over the batch; unsupported")
        bias = rows[0] * float(attrs.get("beta", 1.0))
    _fc(imp, node, x, w, bias, node.outputs[0])


def _matmul(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """A constant 2-D right operand: FC (the weight path: dense or sparse kernels). Anything else (two activations,
    a constant left operand or a batched constant): MATMUL, 1-D operands reshaped to 2-D and back."""
    imp.check_attrs(node, attrs, set())
    cb = imp.graph.const(node.inputs[1])
    if cb is None or cb.ndim != 2 or imp.graph.const(node.inputs[0]) is not None:
        _batched_matmul(imp, node)
        return
    x = imp.activation_input(node)
    b = imp.weight(node, 1, "right operand (weight)")
    xs = imp.graph.shape(x)
    if len(xs) < 2 or xs[-1] != b.shape[0]:
        raise node.error(f"shapes {list(xs)} and {list(b.shape)} do not match for MatMul")
    if len(xs) == 2:
        _fc(imp, node, x, b.T, None, node.outputs[0])
        return
    # [.., K] @ [K, Cout]: flatten the leading dims into rows, FC, restore them.
    rows = math.prod(xs[:-1])
    flat = imp.graph.unique_name(f"{node.outputs[0]}.rows")
    imp.emit_reshape(node, x, (rows, xs[-1]), flat, name=f"{node.name}.flatten")
    fc_out = imp.graph.unique_name(f"{node.outputs[0]}.fc")
    _fc(imp, node, flat, b.T, None, fc_out)
    imp.emit_reshape(node, fc_out, (*xs[:-1], b.shape[1]), node.outputs[0], name=f"{node.name}.unflatten")


def _batched_matmul(imp: _Importer, node: Node) -> None:
    a, b = node.inputs[0], node.inputs[1]
    for index, name in enumerate((a, b)):
        c = imp.graph.const(name)
        if c is not None:
            if not np.issubdtype(c.dtype, np.floating):
                raise node.error(f"constant {name!r} has dtype {c.dtype}; only float tensors are supported")
            imp.weight(node, index, "constant operand")
    sa, sb = imp.graph.shape(a), imp.graph.shape(b)
    if not sa or not sb:
        raise node.error(f"MatMul of a scalar ({list(sa)} @ {list(sb)})")

    def to_2d(name: str, shape: tuple[int, ...], target: tuple[int, ...]) -> str:
        c = imp.graph.const(name)
        if c is not None:
            return imp.add_const(f"{name}.2d", c.reshape(target))
        out = imp.graph.unique_name(f"{name}.2d")
        imp.emit_reshape(node, name, target, out, name=f"{node.name}.{len(target)}d_{name}")
        return out

    a2 = to_2d(a, sa, (1, sa[0])) if len(sa) == 1 else a
    b2 = to_2d(b, sb, (sb[0], 1)) if len(sb) == 1 else b
    s2a, s2b = imp.graph.shape(a2), imp.graph.shape(b2)
    if s2a[-1] != s2b[-2]:
        raise node.error(f"shapes {list(sa)} and {list(sb)} do not match for MatMul (inner dims {s2a[-1]} and "
                         f"{s2b[-2]})")
    if max(len(s2a), len(s2b)) > 6:
        raise node.error(f"shapes {list(sa)} and {list(sb)}: MatMul supports rank <= 6")
    if len(sa) > 1 and len(sb) > 1:
        imp.emit("MatMul", node, [a2, b2], node.outputs[0])
        return
    full = imp.graph.unique_name(f"{node.outputs[0]}.2d")
    imp.emit("MatMul", node, [a2, b2], full, name=f"{node.name}.matmul")
    out = list(imp.graph.shape(full))
    if len(sb) == 1:
        out.pop(-1)
    if len(sa) == 1:
        out.pop(-1 if len(sb) == 1 else -2)
    imp.emit_reshape(node, full, tuple(out) or (1,), node.outputs[0])


def _batchnorm(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"epsilon", "momentum", "training_mode", "spatial"})
    if attrs.get("training_mode", 0):
        raise node.error("unsupported attribute training_mode=1 (export the model in eval mode)")
    x = imp.activation_input(node)
    for i, what in enumerate(("scale", "bias", "mean", "var"), start=1):
        imp.float_weight(node, i, what)
    imp.emit("BatchNormalization", node, [x, *node.inputs[1:5]], node.outputs[0],
             {"epsilon": float(attrs.get("epsilon", 1e-5))})


def _activation(kind: str, params: tuple[float, float] = (0.0, 0.0),
                allowed: frozenset[str] = frozenset()) -> Callable[[_Importer, Node, dict[str, Any]], None]:
    def handler(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
        imp.check_attrs(node, attrs, set(allowed))
        imp.emit("Activation", node, [imp.activation_input(node)], node.outputs[0], act=(kind, *params))
    return handler


def _clip(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"min", "max"})
    if any(i and imp.graph.const(i) is None for i in node.inputs[1:3]):
        _clip_by_tensors(imp, node)
        return
    lo, hi = float(attrs.get("min", -INF)), float(attrs.get("max", INF))
    for index, what in ((1, "min"), (2, "max")):
        if len(node.inputs) > index and node.inputs[index]:
            v = imp.graph.const(node.inputs[index])
            if v is None or v.size != 1:
                raise node.error(f"{what} must be a constant scalar")
            if what == "min":
                lo = float(v.reshape(()))
            else:
                hi = float(v.reshape(()))
    if math.isnan(lo) or math.isnan(hi):
        raise node.error("min/max is NaN")
    imp.emit("Activation", node, [imp.activation_input(node)], node.outputs[0], act=("CLIP", lo, hi))


def _clip_by_tensors(imp: _Importer, node: Node) -> None:
    """Clip(x, min, max) with a computed bound (a log-mel floor of max - 80 dB): Max(x, min) then Min(., max), each
    a scalar tensor broadcast (Clip-11+ takes only scalars)."""
    acc = imp.activation_input(node)
    def no_op(index: int) -> bool:  # max = +inf (or min = -inf): torch's clamp(min=t) exports it
        c = imp.graph.const(node.inputs[index])
        return c is not None and c.size == 1 and float(c.reshape(())) == (INF if index == 2 else -INF)

    bounds = [(i, op) for i, op in ((1, "Max"), (2, "Min"))
              if len(node.inputs) > i and node.inputs[i] and not no_op(i)]
    for k, (index, op) in enumerate(bounds):
        bound = node.inputs[index]
        if int(np.prod(imp.graph.shape(bound))) != 1:
            raise node.error(f"{'min' if index == 1 else 'max'} {bound!r} has shape {list(imp.graph.shape(bound))}; "
                             "it must be a scalar")
        last = k == len(bounds) - 1
        out = node.outputs[0] if last else imp.graph.unique_name(f"{node.outputs[0]}.min")
        _binary(op)(imp, Node(op, node.name if last else f"{node.name}.min", [acc, bound], [out],
                              source_op=node.source_op), {})
        acc = out


def _alpha_activation(kind: str, default: float) -> Callable[[_Importer, Node, dict[str, Any]], None]:
    """LeakyRelu, Elu: the alpha attribute is the activation's param0."""
    def handler(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
        imp.check_attrs(node, attrs, {"alpha"})
        alpha = float(attrs.get("alpha", default))
        if not math.isfinite(alpha):
            raise node.error(f"unsupported attribute alpha={alpha}")
        imp.emit("Activation", node, [imp.activation_input(node)], node.outputs[0], act=(kind, alpha, 0.0))
    return handler


def _gelu(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """Gelu (opset 20): approximate none (erf) or tanh."""
    imp.check_attrs(node, attrs, {"approximate"})
    approximate = attrs.get("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise node.error(f"unsupported attribute approximate={approximate!r} (none or tanh)")
    kind = "GELU" if approximate == "none" else "GELU_TANH"
    imp.emit("Activation", node, [imp.activation_input(node)], node.outputs[0], act=(kind, 0.0, 0.0))


def _hardsigmoid(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"alpha", "beta"})
    act = ("HARDSIGMOID", float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5)))
    imp.emit("Activation", node, [imp.activation_input(node)], node.outputs[0], act=act)


def _binary(op: str) -> Callable[[_Importer, Node, dict[str, Any]], None]:
    def handler(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
        imp.check_attrs(node, attrs, set())
        a, b = node.inputs[0], node.inputs[1]
        ca, cb = imp.graph.const(a), imp.graph.const(b)
        if op == "Pow" and cb is not None and np.issubdtype(cb.dtype, np.integer):  # x ** 2: an int exponent
            cb = cb.astype(np.float32)
            b = imp.add_const(f"{b}.f32", cb)
            node = Node(node.op, node.name, [a, b], node.outputs, source_op=node.source_op)
        for name, c in ((a, ca), (b, cb)):
            if c is not None:
                if not np.issubdtype(c.dtype, np.floating):
                    raise node.error(f"constant {name!r} has dtype {c.dtype}; only float tensors are supported")
                imp.weight(node, node.inputs.index(name), "constant operand")
        ir_op = op
        if op in ("Sub", "Div") and cb is not None:  # by a constant: ADD / MUL, whose kernels are the fast ones
            b = imp.add_const(f"{b}.neg" if op == "Sub" else f"{b}.recip",
                              -cb if op == "Sub" else (1.0 / cb.astype(np.float64)).astype(np.float32))
            ir_op = "Add" if op == "Sub" else "Mul"
        imp.emit(ir_op, node, [a, b], node.outputs[0])
    return handler


def _variadic(op: str) -> Callable[[_Importer, Node, dict[str, Any]], None]:
    """Max / Min of 1..n inputs: a chain of binary nodes (one input: an identity)."""
    binary = _binary(op)

    def handler(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
        imp.check_attrs(node, attrs, set())
        ins = [i for i in node.inputs if i]
        if not ins:
            raise node.error("needs at least one input")
        if len(ins) == 1:
            _identity(imp, node, {})
            return
        acc = ins[0]
        for k, nxt in enumerate(ins[1:], start=1):
            last = k == len(ins) - 1
            out = node.outputs[0] if last else imp.graph.unique_name(f"{node.outputs[0]}.{k}")
            name = node.name if last else f"{node.name}.{k}"
            binary(imp, Node(node.op, name, [acc, nxt], [out], source_op=node.source_op), {})
            acc = out
    return handler


def _prelu(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """One slope value: LEAKYRELU (an activation, so it fuses into the producer). A slope per channel (or any
    tensor broadcasting to X): the PRELU op. The fused epilogue of the kernels gets two scalars, not the channel."""
    imp.check_attrs(node, attrs, set())
    x = imp.activation_input(node)
    slope = imp.graph.const(node.inputs[1])
    if slope is not None:
        imp.float_weight(node, 1, "slope")
        flat = slope.reshape(-1)
        if flat.size >= 1 and np.all(flat == flat[0]) and broadcast_shapes(imp.graph.shape(x), slope.shape) \
                == imp.graph.shape(x):
            imp.emit("Activation", node, [x], node.outputs[0], act=("LEAKYRELU", float(flat[0]), 0.0))
            return
    if broadcast_shapes(imp.graph.shape(x), imp.graph.shape(node.inputs[1])) != imp.graph.shape(x):
        raise node.error(f"slope {node.inputs[1]!r} shape {list(imp.graph.shape(node.inputs[1]))} does not "
                         f"broadcast to input {x!r} shape {list(imp.graph.shape(x))}")
    imp.emit("PRelu", node, [x, node.inputs[1]], node.outputs[0])


def _reduce(op: str) -> Callable[[_Importer, Node, dict[str, Any]], None]:
    """Reduce* on any axes, from the attribute (older opsets) or the constant second input (ReduceSum 13+, all of
    them 18+). ReduceMean over H, W of NCHW is GlobalAveragePool (its kernel is the fast one), then a Reshape when
    the axes are dropped."""
    def handler(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
        imp.check_attrs(node, attrs, {"axes", "keepdims", "noop_with_empty_axes"})
        x = imp.activation_input(node)
        shape = imp.graph.shape(x)
        rank = len(shape)
        axes = [int(a) for a in attrs["axes"]] if "axes" in attrs else _axes_input(imp, node)
        keepdims, noop = int(attrs.get("keepdims", 1)), int(attrs.get("noop_with_empty_axes", 0))
        if keepdims not in (0, 1) or noop not in (0, 1):
            raise node.error(f"unsupported attribute keepdims={keepdims} / noop_with_empty_axes={noop} (0 or 1)")
        if not axes:
            if noop:
                _identity(imp, node, {})
                return
            axes = list(range(rank))
        if any(not -rank <= a < rank for a in axes):
            raise node.error(f"axes {axes} out of range for input {x!r} of rank {rank}")
        norm = sorted({a % rank for a in axes})
        if len(norm) != len(axes):
            raise node.error(f"axes {axes} repeat an axis")
        if op == "ReduceMean" and rank == 4 and norm == [2, 3]:  # x.mean((2, 3)): the pooling kernel, then a view
            if keepdims:
                imp.emit("GlobalAveragePool", node, [x], node.outputs[0])
                return
            pooled = imp.graph.unique_name(f"{node.outputs[0]}.pooled")
            imp.emit("GlobalAveragePool", node, [x], pooled, name=f"{node.name}.pool")
            imp.emit_reshape(node, pooled, shape[:2], node.outputs[0])
            return
        imp.emit(op, node, [x], node.outputs[0], {"axes_mask": sum(1 << a for a in norm), "keepdims": keepdims})
    return handler


def _f32_bits(value: float) -> int:
    return int(np.array([value], np.float32).view(np.int32)[0])


def _epsilon(node: Node, attrs: dict[str, Any]) -> int:
    eps = float(attrs.get("epsilon", 1e-5))
    if not (math.isfinite(eps) and np.float32(eps) > 0):
        raise node.error(f"unsupported attribute epsilon={eps} (finite, > 0)")
    return _f32_bits(eps)


def _layer_norm(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """LayerNormalization (opset 17): scale and bias (constants) broadcast to the normalized dims."""
    imp.check_attrs(node, attrs, {"axis", "epsilon", "stash_type"})
    x = imp.activation_input(node)
    shape = imp.graph.shape(x)
    axis = int(attrs.get("axis", -1))
    if not -len(shape) <= axis < len(shape):
        raise node.error(f"axis {axis} out of range for input {x!r} of rank {len(shape)}")
    axis %= len(shape)
    inputs = [x]
    for index, what in ((1, "scale"), (2, "bias")):
        if index >= len(node.inputs) or not node.inputs[index]:
            continue
        c = imp.weight(node, index, what)
        try:
            full = np.broadcast_to(c.astype(np.float32), shape[axis:])
        except ValueError as e:
            raise node.error(f"{what} {node.inputs[index]!r} shape {list(c.shape)} does not broadcast to the "
                             f"normalized dims {list(shape[axis:])}") from e
        inputs.append(imp.add_const(f"{node.name}.{what}", np.ascontiguousarray(full)))
    if len(inputs) == 1:
        raise node.error("missing scale input")
    imp.emit("LayerNorm", node, inputs, node.outputs[0], {"axis": axis, "epsilon_bits": _epsilon(node, attrs)})


def _instance_norm(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"epsilon"})
    x = imp.activation_input(node)
    shape = imp.graph.shape(x)
    if len(shape) < 3:
        raise node.error(f"input {x!r} has shape {list(shape)}; InstanceNormalization needs [N, C, ...] of rank >= 3")
    inputs = [x]
    for index, what in ((1, "scale"), (2, "bias")):
        c = imp.weight(node, index, what)
        if c.shape != (shape[1],):
            raise node.error(f"{what} {node.inputs[index]!r} has shape {list(c.shape)}, expected [{shape[1]}]")
        inputs.append(node.inputs[index])
    imp.emit("InstanceNorm", node, inputs, node.outputs[0], {"axis": 0, "epsilon_bits": _epsilon(node, attrs)})


def _concat(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"axis"})
    rank = len(imp.graph.shape(node.inputs[0]))
    if "axis" not in attrs:
        raise node.error("missing attribute axis")
    axis = int(attrs["axis"])
    if not -rank <= axis < rank:
        raise node.error(f"axis {axis} out of range for rank {rank}")
    imp.emit("Concat", node, list(node.inputs), node.outputs[0], {"axis": axis % rank})


def _global_avg_pool(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, set())
    imp.emit("GlobalAveragePool", node, [imp.activation_input(node)], node.outputs[0])


def _pool(op: str) -> Callable[[_Importer, Node, dict[str, Any]], None]:
    def handler(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
        allowed = {"auto_pad", "ceil_mode", "kernel_shape", "pads", "strides"}
        allowed |= {"dilations", "storage_order"} if op == "MaxPool" else {"count_include_pad"}
        imp.check_attrs(node, attrs, allowed)
        if attrs.get("storage_order", 0):
            raise node.error("unsupported attribute storage_order=1")
        x = imp.activation_input(node)
        kernel = tuple(int(k) for k in attrs.get("kernel_shape", ()))
        if len(kernel) != 2:
            raise node.error(f"kernel_shape {list(kernel)}: only 2-D pooling is supported")
        params = _window_params(imp, node, attrs, kernel, with_dilations=False)  # type: ignore[arg-type]
        for flag in ("ceil_mode", "count_include_pad"):
            params[flag] = int(attrs.get(flag, 0))
            if params[flag] not in (0, 1):
                raise node.error(f"unsupported attribute {flag}={params[flag]} (0 or 1)")
        kh, kw = kernel
        pt, pl, pb, pr = params["pads"]
        if max(pt, pb) >= kh or max(pl, pr) >= kw:
            raise node.error(f"pads {[pt, pl, pb, pr]} must be smaller than the kernel {kh}x{kw}")
        imp.emit(op, node, [x], node.outputs[0], params)
    return handler


def _reshape_to(imp: _Importer, node: Node, shape: Sequence[int]) -> None:
    x = imp.activation_input(node)
    imp.emit_reshape(node, x, shape, node.outputs[0])


def _flatten(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"axis"})
    _reshape_to(imp, node, _flatten_shape(imp.graph.shape(node.inputs[0]), int(attrs.get("axis", 1))))


def _reshape(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"allowzero"})
    shape = imp.graph.const(node.inputs[1])
    if shape is None:
        raise node.error(f"dynamic shape: target shape {node.inputs[1]!r} is not constant (could not be folded)")
    _reshape_to(imp, node, _reshape_shape(imp.graph.shape(node.inputs[0]), shape, int(attrs.get("allowzero", 0))))


def _squeeze(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, set())
    axes = _axes_input(imp, node)
    _reshape_to(imp, node, _squeeze_shape(imp.graph.shape(node.inputs[0]), axes))


def _unsqueeze(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, set())
    axes = _axes_input(imp, node)
    if axes is None:
        raise node.error("missing axes input")
    _reshape_to(imp, node, _unsqueeze_shape(imp.graph.shape(node.inputs[0]), axes))


def _axes_input(imp: _Importer, node: Node) -> list[int] | None:
    if len(node.inputs) < 2 or not node.inputs[1]:
        return None
    axes = imp.graph.const(node.inputs[1])
    if axes is None:
        raise node.error(f"dynamic shape: axes {node.inputs[1]!r} is not constant")
    return [int(a) for a in axes.reshape(-1)]


def _softmax(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"axis"})
    x = imp.activation_input(node)
    rank = len(imp.graph.shape(x))
    axis = int(attrs.get("axis", -1))
    if not -rank <= axis < rank:
        raise node.error(f"axis {axis} out of range for rank {rank}")
    imp.emit(node.op, node, [x], node.outputs[0], {"axis": axis % rank})


def _argmax(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """The index comes out as f32 (the engine's activations are f32), exact below 2^24."""
    imp.check_attrs(node, attrs, {"axis", "keepdims", "select_last_index"})
    x = imp.activation_input(node)
    rank = len(imp.graph.shape(x))
    axis = int(attrs.get("axis", 0))
    keepdims, last = int(attrs.get("keepdims", 1)), int(attrs.get("select_last_index", 0))
    if not -rank <= axis < rank:
        raise node.error(f"axis {axis} out of range for rank {rank}")
    if keepdims not in (0, 1) or last not in (0, 1):
        raise node.error(f"unsupported attribute keepdims={keepdims} / select_last_index={last} (0 or 1)")
    if imp.graph.shape(x)[axis % rank] >= 1 << 24:
        raise node.error(f"axis {axis} has {imp.graph.shape(x)[axis % rank]} entries; f32 indices are exact below 2^24")
    imp.emit("ArgMax", node, [x], node.outputs[0], {"axis": axis % rank, "keepdims": keepdims,
                                                      "select_last_index": last})


def _transpose(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """On an activation (constants are folded): any permutation of rank 1..6."""
    imp.check_attrs(node, attrs, {"perm"})
    x = imp.activation_input(node)
    rank = len(imp.graph.shape(x))
    perm = [int(p) for p in attrs.get("perm", range(rank - 1, -1, -1))]
    if sorted(perm) != list(range(rank)):
        raise node.error(f"perm {perm} is not a permutation of the {rank} axes of {x!r}")
    imp.emit("Transpose", node, [x], node.outputs[0], {"perm": tuple(perm)})


def _identity(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, set())
    imp.emit("Identity", node, [imp.activation_input(node)], node.outputs[0])


def _dropout(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"seed"})
    if len(node.inputs) > 2 and node.inputs[2]:
        mode = imp.graph.const(node.inputs[2])
        if mode is None or bool(mode.reshape(-1)[0]):
            raise node.error("training_mode must be a constant false for inference")
    _identity(imp, Node(node.op, node.name, node.inputs[:1], node.outputs, source_op=node.source_op), {})


def _dtype_name(code: int) -> str:
    """The ONNX name of an element type; a corrupt file can hold any number."""
    if code in onnx.TensorProto.DataType.values():
        return onnx.TensorProto.DataType.Name(code)
    return f"{code} (not an ONNX type)"


def _cast(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"to", "saturate"})
    if int(attrs["to"]) != onnx.TensorProto.FLOAT:
        raise node.error(f"unsupported attribute to={_dtype_name(int(attrs['to']))} "
                         "on an activation (only FLOAT)")
    _identity(imp, node, {})


def _constant(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    if len(attrs) != 1:
        raise node.error(f"expected exactly one value attribute, got {sorted(attrs)}")
    key, v = next(iter(attrs.items()))
    if key == "value":
        arr = numpy_helper.to_array(v)
    elif key in ("value_float", "value_floats"):
        arr = np.asarray(v, dtype=np.float32)
    elif key in ("value_int", "value_ints"):
        arr = np.asarray(v, dtype=np.int64)
    else:
        raise node.error(f"unsupported attribute {key}")
    imp.graph.add_const(node.outputs[0], arr)


def _shape(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    imp.check_attrs(node, attrs, {"start", "end"})
    shape = imp.graph.shape(node.inputs[0])
    start, end = attrs.get("start", 0), attrs.get("end", len(shape))
    imp.graph.add_const(node.outputs[0], np.asarray(shape[start:end], dtype=np.int64))


def _needs_constants(imp: _Importer, node: Node, attrs: dict[str, Any]) -> None:
    """Ops we only evaluate on constants (shape arithmetic); on an activation they are unsupported."""
    raise node.error("unsupported op on a non-constant input (only constant-folded uses are supported)")


_HANDLERS: dict[str, Callable[[_Importer, Node, dict[str, Any]], None]] = {
    "Conv": _conv,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "BatchNormalization": _batchnorm,
    "Relu": _activation("CLIP", (0.0, INF)),
    "Clip": _clip,
    "HardSigmoid": _hardsigmoid,
    "HardSwish": _activation("HARDSWISH"),
    "Sigmoid": _activation("SIGMOID"),
    "LeakyRelu": _alpha_activation("LEAKYRELU", 0.01),
    "Elu": _alpha_activation("ELU", 1.0),
    "Gelu": _gelu,
    "Sqrt": _activation("SQRT"),
    "Exp": _activation("EXP"),
    "Tanh": _activation("TANH"),
    "Abs": _activation("ABS"),
    "Neg": _activation("NEG"),
    "Reciprocal": _activation("RECIPROCAL"),
    "Erf": _activation("ERF"),
    "Log": _activation("LOG"),
    "Softplus": _activation("SOFTPLUS"),
    "ReduceMean": _reduce("ReduceMean"),
    "ReduceSum": _reduce("ReduceSum"),
    "ReduceMax": _reduce("ReduceMax"),
    "ReduceMin": _reduce("ReduceMin"),
    "LayerNormalization": _layer_norm,
    "InstanceNormalization": _instance_norm,
    "Add": _binary("Add"),
    "Sub": _binary("Sub"),
    "Mul": _binary("Mul"),
    "Div": _binary("Div"),
    "Max": _variadic("Max"),
    "Min": _variadic("Min"),
    "Pow": _binary("Pow"),
    "PRelu": _prelu,
    "Concat": _concat,
    "GlobalAveragePool": _global_avg_pool,
    "AveragePool": _pool("AveragePool"),
    "MaxPool": _pool("MaxPool"),
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Softmax": _softmax,
    "LogSoftmax": _softmax,
    "ArgMax": _argmax,
    "Identity": _identity,
    "Dropout": _dropout,
    "Cast": _cast,
    "Constant": _constant,
    "Shape": _shape,
    "Gather": _needs_constants,
    "Slice": _needs_constants,
    "Transpose": _transpose,
    "Range": _needs_constants,
    "ConstantOfShape": _needs_constants,
    "Equal": _needs_constants,
    "Where": _needs_constants,
}


_HANDLERS.update(onnx_structural.HANDLERS)  # Pad, Resize, ...: their own module
_FOLD.update(onnx_structural.FOLDS)


# ================= shape helpers and constant folding =================

def _flatten_shape(shape: tuple[int, ...], axis: int) -> tuple[int, int]:
    axis = axis % (len(shape) + 1) if axis < 0 else axis
    return math.prod(shape[:axis]), math.prod(shape[axis:])


def _reshape_shape(shape: tuple[int, ...], target: np.ndarray, allowzero: int) -> tuple[int, ...]:
    out = [int(d) for d in target.reshape(-1)]
    if not allowzero:
        out = [shape[i] if d == 0 and i < len(shape) else d for i, d in enumerate(out)]
    if out.count(-1) > 1:
        raise ValueError(f"more than one -1 in reshape target {out}")
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        total = math.prod(shape)
        if known == 0 or total % known:
            raise ValueError(f"cannot reshape {list(shape)} to {out}")
        out[out.index(-1)] = total // known
    if math.prod(out) != math.prod(shape):
        raise ValueError(f"cannot reshape {list(shape)} to {out}")
    return tuple(out)


def _squeeze_shape(shape: tuple[int, ...], axes: list[int] | None) -> tuple[int, ...]:
    if axes is None:
        return tuple(d for d in shape if d != 1)
    norm = {a % len(shape) for a in axes}
    for a in norm:
        if shape[a] != 1:
            raise ValueError(f"cannot squeeze axis {a} of shape {list(shape)}")
    return tuple(d for i, d in enumerate(shape) if i not in norm)


def _unsqueeze_shape(shape: tuple[int, ...], axes: list[int]) -> tuple[int, ...]:
    rank = len(shape) + len(axes)
    norm = sorted(a % rank for a in axes)
    out = list(shape)
    for a in norm:
        out.insert(a, 1)
    return tuple(out)


def _fold(fn: Callable[..., Any]) -> Callable[..., np.ndarray]:
    return lambda imp, node, attrs, *xs: fn(attrs, *xs)


def _slice(attrs: dict[str, Any], data: np.ndarray, starts: np.ndarray, ends: np.ndarray,
           axes: np.ndarray | None = None, steps: np.ndarray | None = None) -> np.ndarray:
    axes_l = list(range(len(starts))) if axes is None else [int(a) % data.ndim for a in axes]
    steps_l = [1] * len(axes_l) if steps is None else [int(s) for s in steps]
    index = [slice(None)] * data.ndim
    for a, s, e, st in zip(axes_l, starts, ends, steps_l, strict=True):
        index[a] = slice(int(s), int(e), st)
    return data[tuple(index)]


def _cast_const(attrs: dict[str, Any], x: np.ndarray) -> np.ndarray:
    return x.astype(helper.tensor_dtype_to_np_dtype(int(attrs["to"])))


def _float_op(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    def apply(attrs: dict[str, Any], a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = fn(a, b)
        return out.astype(np.result_type(a, b)) if np.issubdtype(np.result_type(a, b), np.floating) else out
    return apply


def _int_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer):
        return np.trunc(a / b).astype(np.result_type(a, b))
    return a / b


_FOLD.update({
    "Gather": _fold(lambda attrs, data, idx: np.take(data, idx.astype(np.int64), axis=int(attrs.get("axis", 0)))),
    "Unsqueeze": _fold(lambda attrs, x, axes: x.reshape(_unsqueeze_shape(x.shape, [int(a) for a in axes]))),
    "Squeeze": _fold(lambda attrs, x, axes=None: x.reshape(
        _squeeze_shape(x.shape, None if axes is None else [int(a) for a in axes]))),
    "Concat": _fold(lambda attrs, *xs: np.concatenate(xs, axis=int(attrs["axis"]))),
    "Cast": _fold(_cast_const),
    "Reshape": _fold(lambda attrs, x, s: x.reshape(_reshape_shape(x.shape, s, int(attrs.get("allowzero", 0))))),
    "Flatten": _fold(lambda attrs, x: x.reshape(_flatten_shape(x.shape, int(attrs.get("axis", 1))))),
    "Transpose": _fold(lambda attrs, x: np.transpose(x, attrs.get("perm"))),
    "Identity": _fold(lambda attrs, x: x),
    "Add": _fold(_float_op(np.add)),
    "Sub": _fold(_float_op(np.subtract)),
    "Mul": _fold(_float_op(np.multiply)),
    "Div": _fold(_float_op(_int_div)),
    "Slice": _fold(_slice),
    "Range": _fold(lambda attrs, s, e, d: np.arange(s, e, d, dtype=np.result_type(s, e, d))),
    "ConstantOfShape": _fold(lambda attrs, s: np.full(
        [int(d) for d in s], numpy_helper.to_array(attrs["value"]).reshape(-1)[0] if "value" in attrs else 0.0,
        dtype=numpy_helper.to_array(attrs["value"]).dtype if "value" in attrs else np.float32)),
    "Equal": _fold(lambda attrs, a, b: np.equal(a, b)),
    "Where": _fold(lambda attrs, c, a, b: np.where(c, a, b)),
    "Max": _fold(lambda attrs, *xs: np.maximum.reduce(np.broadcast_arrays(*xs))),
    "Min": _fold(lambda attrs, *xs: np.minimum.reduce(np.broadcast_arrays(*xs))),
    "Pow": _fold(_float_op(np.power)),
    "MatMul": _fold(lambda attrs, a, b: np.matmul(a, b)),
})
