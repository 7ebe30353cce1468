"""Structure-aware mutations of valid ONNX models for robustness tests (test_fuzz.py, fuzz_converter.py): each one
edits a field the converter reads (initializers, attributes, shapes, types, op types, opsets, graph wiring) to a
boundary or wrong value, so the mutant gets past protobuf parsing into the importer and the passes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, helper, numpy_helper

ODD_INTS = [0, -1, -3, 1, 2, 7, 1000, 2**24 + 1, 2**31 - 1, -(2**31), 2**62]
ODD_FLOATS = [0.0, -1.0, 1e-30, 1e30, float("nan"), float("inf"), -float("inf"), 6.0, -6.0]
OP_TYPES = ["Conv", "Relu", "Add", "Mul", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool",
            "BatchNormalization", "Concat", "Reshape", "Flatten", "Softmax", "Clip", "Transpose", "Pad", "Resize",
            "Split", "Slice", "Gather", "Sigmoid", "HardSwish", "ConvTranspose", "Identity", "Constant", "Shape",
            "NoSuchOp", ""]
ELEM_TYPES = [TensorProto.INT64, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.INT32, TensorProto.UINT8,
              TensorProto.BOOL, TensorProto.STRING, TensorProto.UNDEFINED]
Mutation = Callable[[onnx.ModelProto, np.random.Generator], None]


def _pick(rng: np.random.Generator, items: list) -> object:
    return items[int(rng.integers(0, len(items)))]


def _node(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.NodeProto | None:
    return _pick(rng, list(m.graph.node)) if len(m.graph.node) else None  # type: ignore[return-value]


def drop_initializer(m: onnx.ModelProto, rng: np.random.Generator) -> None:
    if len(m.graph.initializer):
        del m.graph.initializer[int(rng.integers(0, len(m.graph.initializer)))]


def reshape_initializer(m: onnx.ModelProto, rng: np.random.Generator) -> None:
    """One axis one shorter or twice as long, a rank more or less, or empty."""
    if not len(m.graph.initializer):
        return
    t = _pick(rng, list(m.graph.initializer))
    arr = numpy_helper.to_array(t)  # type: ignore[arg-type]
    how = int(rng.integers(0, 4))
    if how == 0 and arr.ndim:
        axis = int(rng.integers(0, arr.ndim))
        arr = np.delete(arr, 0, axis=axis) if arr.shape[axis] > 1 else np.concatenate([arr, arr], axis=axis)
    elif how == 1:
        arr = arr.reshape(-1) if arr.ndim != 1 else arr.reshape(1, -1)
    elif how == 2:
        arr = arr[None]
    else:
        arr = np.zeros((0,) + arr.shape[1:], arr.dtype)
    t.CopyFrom(numpy_helper.from_array(arr, t.name))  # type: ignore[attr-defined]


def poison_initializer(m: onnx.ModelProto, rng: np.random.Generator) -> None:
    """Odd values (NaN, Inf, huge) in a float initializer, or another element type, or truncated raw data."""
    floats = [t for t in m.graph.initializer if t.data_type == TensorProto.FLOAT]
    if not floats:
        return
    t = _pick(rng, floats)
    how = int(rng.integers(0, 3))
    if how == 0:
        arr = numpy_helper.to_array(t).copy()  # type: ignore[arg-type]
        if arr.size:
            arr.reshape(-1)[int(rng.integers(0, arr.size))] = float(_pick(rng, ODD_FLOATS))  # type: ignore[arg-type]
        t.CopyFrom(numpy_helper.from_array(arr, t.name))  # type: ignore[attr-defined]
    elif how == 1:
        arr = numpy_helper.to_array(t)  # type: ignore[arg-type]
        dtype = _pick(rng, [np.float64, np.float16, np.int64, np.int8, np.bool_])
        t.CopyFrom(numpy_helper.from_array(arr.astype(dtype), t.name))  # type: ignore[attr-defined,arg-type]
    elif t.raw_data:  # type: ignore[attr-defined]
        t.raw_data = t.raw_data[: int(rng.integers(0, len(t.raw_data)))]  # type: ignore[attr-defined]


def odd_int_attribute(m: onnx.ModelProto, rng: np.random.Generator) -> None:
    n = _node(m, rng)
    if n is None:
        return
    ints = [a for a in n.attribute if a.type in (AttributeProto.INT, AttributeProto.INTS)]
    if ints:
        a = _pick(rng, ints)
        if a.type == AttributeProto.INT:  # type: ignore[attr-defined]
            a.i = int(_pick(rng, ODD_INTS))  # type: ignore[attr-defined,call-overload]
        else:
            for k in range(len(a.ints)):  # type: ignore[attr-defined]
                a.ints[k] = int(_pick(rng, ODD_INTS))  # type: ignore[attr-defined,call-overload]
            if rng.random() < 0.3:
                a.ints.append(int(_pick(rng, ODD_INTS)))  # type: ignore[attr-defined,call-overload]
    else:
        name = str(_pick(rng, ["strides", "pads", "kernel_shape", "dilations", "group", "axis", "perm"]))
        n.attribute.append(helper.make_attribute(name, [int(_pick(rng, ODD_INTS))] * int(rng.integers(1, 5))))


def odd_float_attribute(m: onnx.ModelProto, rng: np.random.Generator) -> None:
    n = _node(m, rng)
    if n is None:
        return
    floats = [a for a in n.attribute if a.type == AttributeProto.FLOAT]
    if floats:
        _pick(rng, floats).f = float(_pick(rng, ODD_FLOATS))  # type: ignore[attr-defined]
    else:
        name = str(_pick(rng, ["alpha", "beta", "epsilon", "min", "max", "momentum"]))
        n.attribute.append(helper.make_attribute(name, float(_pick(rng, ODD_FLOATS))))


def attribute_type_or_presence(m: onnx.ModelProto, rng: np.random.Generator) -> None:
    """An attribute removed, duplicated, or of another type (a string where ints were, a graph, a tensor)."""
    n = _node(m, rng)
    if n is None or not len(n.attribute):
        return
    i = int(rng.integers(0, len(n.attribute)))
    how = int(rng.integers(0, 3))
    if how == 0:
        del n.attribute[i]
    elif how == 1:
        n.attribute.append(n.attribute[i])
    else:
        name = n.attribute[i].name
        del n.attribute[i]
        n.attribute.append(helper.make_attribute(name, _pick(rng, ["same", 1.5, [1.0, 2.0], b"\xff", 3,
                                                                  helper.make_tensor("t", TensorProto.FLOAT, [1],
                                                                                     [1.0])])))


def change_op_type(m: onnx.ModelProto, rng: np.random.Generator) -> None:
    n = _node(m, rng)
    if n is not None:
        n.op_type = str(_pick(rng, OP_TYPES))
        if rng.random() < 0.2:
            n.domain = str(_pick(rng, ["com.microsoft", "ai.onnx.ml", "x"]))


def change_opset(m: onnx.ModelProto, rng: np.random.Generator) -> None:
    how = int(rng.integers(0, 3))
    if how == 0 and len(m.opset_import):
        m.opset_import[0].version = int(_pick(rng, [1, 5, 6, 7, 9, 10, 11, 12, 13, 18, 21, 22, 99, 0, -1]))
    elif how == 1:
        del m.opset_import[:]
    else:
        m.opset_import.append(helper.make_opsetid(str(_pick(rng, ["", "com.microsoft", "foo"])), 1))


def change_input_shape(m: onnx.ModelProto, rng: np.random.Generator) -> None:
    """A graph input's dims: another size, 0, negative, symbolic, a rank more or less, or no shape at all."""
    if not len(m.graph.input):
        return
    tensor_type = _pick(rng, list(m.graph.input)).type.tensor_type  # type: ignore[attr-defined]
    dims = tensor_type.shape.dim
    how = int(rng.integers(0, 5))
    if how == 0 and len(dims):
        _pick(rng, list(dims)).dim_value = int(_pick(rng, [1, 2, 3, 64, 0, 2**20]))  # type: ignore[attr-defined]
    elif how == 1 and len(dims):
        _pick(rng, list(dims)).dim_param = "N"  # type: ignore[attr-defined]
    elif how == 2:
        dims.add().dim_value = int(rng.integers(1, 4))
    elif how == 3 and len(dims):
        del dims[int(rng.integers(0, len(dims)))]
    else:
        tensor_type.ClearField("shape")


def change_elem_type(m: onnx.ModelProto, rng: np.random.Generator) -> None:
    values = list(m.graph.input) + list(m.graph.output)
    if values:
        _pick(rng, values).type.tensor_type.elem_type = int(_pick(rng, ELEM_TYPES))  # type: ignore[attr-defined]


def rewire(m: onnx.ModelProto, rng: np.random.Generator) -> None:
    """A dangling or self reference, an input dropped or added, a name produced twice, a later node's output."""
    n = _node(m, rng)
    if n is None:
        return
    g = m.graph
    how = int(rng.integers(0, 6))
    if how == 0 and len(n.input):
        n.input[int(rng.integers(0, len(n.input)))] = "nonexistent"
    elif how == 1 and len(n.input) and len(n.output):
        n.input[int(rng.integers(0, len(n.input)))] = n.output[0]  # a cycle of one node
    elif how == 2 and len(n.input):
        del n.input[int(rng.integers(0, len(n.input)))]
    elif how == 3:
        n.input.append(str(_pick(rng, [g.input[0].name if len(g.input) else "x", "", "nonexistent"])))
    elif how == 4 and len(n.output) and len(g.node) > 1:
        other = _pick(rng, [o for o in g.node if o is not n] or [n])
        if len(other.output):  # type: ignore[attr-defined]
            n.output[0] = other.output[0]  # type: ignore[attr-defined]
    elif len(n.input) and len(g.node):
        n.input[0] = g.node[-1].output[0] if len(g.node[-1].output) else ""


def change_graph_io(m: onnx.ModelProto, rng: np.random.Generator) -> None:
    """Graph outputs removed, duplicated or naming an input or an initializer; an initializer shadowing an input."""
    g = m.graph
    how = int(rng.integers(0, 4))
    if how == 0:
        del g.output[:]
    elif how == 1 and len(g.output):
        g.output.append(g.output[0])
    elif how == 2 and len(g.output):
        names = [i.name for i in g.input] + [t.name for t in g.initializer]
        g.output[0].name = str(_pick(rng, names)) if names else ""
    elif len(g.input):
        shape = [d.dim_value or 1 for d in g.input[0].type.tensor_type.shape.dim]
        g.initializer.append(numpy_helper.from_array(np.zeros(shape, np.float32), g.input[0].name))


MUTATIONS: list[Mutation] = [drop_initializer, reshape_initializer, poison_initializer, odd_int_attribute,
                             odd_float_attribute, attribute_type_or_presence, change_op_type, change_opset,
                             change_input_shape, change_elem_type, rewire, change_graph_io]


def mutate(m: onnx.ModelProto, rng: np.random.Generator, count: int | None = None) -> onnx.ModelProto:
    """A copy of m with `count` (default 1 to 3) random mutations applied."""
    m2 = onnx.ModelProto()
    m2.CopyFrom(m)
    for _ in range(int(rng.integers(1, 4)) if count is None else count):
        try:
            MUTATIONS[int(rng.integers(0, len(MUTATIONS)))](m2, rng)
        except (ValueError, TypeError):  # an earlier edit (truncated data, a wrong type) leaves nothing to edit here
            pass
    return m2
