"""Random mutations of valid ONNX models for robustness tests."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

ODD_INTS = [0, -1, -3, 1, 2, 7, 1000]


def mutate(m: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    m2 = onnx.ModelProto()
    m2.CopyFrom(m)
    g = m2.graph
    kind = int(rng.integers(0, 5))
    if kind == 0 and len(g.initializer):
        del g.initializer[int(rng.integers(0, len(g.initializer)))]
    elif kind == 1 and len(g.initializer):
        i = int(rng.integers(0, len(g.initializer)))
        arr = numpy_helper.to_array(g.initializer[i])
        if arr.ndim:
            axis = int(rng.integers(0, arr.ndim))
            arr = np.delete(arr, 0, axis=axis) if arr.shape[axis] > 1 else np.concatenate([arr, arr], axis=axis)
        g.initializer[i].CopyFrom(numpy_helper.from_array(arr, g.initializer[i].name))
    elif kind == 2 and len(g.node):
        n = g.node[int(rng.integers(0, len(g.node)))]
        ints = [a for a in n.attribute if a.type in (onnx.AttributeProto.INT, onnx.AttributeProto.INTS)]
        if ints:
            a = ints[int(rng.integers(0, len(ints)))]
            if a.type == onnx.AttributeProto.INT:
                a.i = int(rng.choice(ODD_INTS))
            else:
                for k in range(len(a.ints)):
                    a.ints[k] = int(rng.choice(ODD_INTS))
        else:
            n.attribute.append(helper.make_attribute("strides", [int(rng.choice(ODD_INTS))] * 2))
    elif kind == 3:
        dims = g.input[0].type.tensor_type.shape.dim
        d = dims[int(rng.integers(0, len(dims)))]
        d.dim_value = int(rng.choice([1, 2, 3, 64]))
    else:
        n = g.node[int(rng.integers(0, len(g.node)))]
        if len(n.input):
            n.input[int(rng.integers(0, len(n.input)))] = "nonexistent"
    return m2
