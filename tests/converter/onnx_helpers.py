"""Small builders for hand-made ONNX test models and an onnxruntime runner."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def node(op: str, inputs: Sequence[str], outputs: Sequence[str], name: str | None = None,
         **attrs: Any) -> onnx.NodeProto:
    return helper.make_node(op, list(inputs), list(outputs), name=name or outputs[0], **attrs)


def model(nodes: Sequence[onnx.NodeProto], inputs: Mapping[str, Sequence[int | str]], outputs: Sequence[str],
          inits: Mapping[str, np.ndarray] | None = None, opset: int = OPSET, check: bool = True) -> onnx.ModelProto:
    """Graph outputs get no declared shape (onnxruntime infers them)."""
    graph = helper.make_graph(
        list(nodes), "test",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(np.asarray(a), n) for n, a in (inits or {}).items()])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    m = onnx.shape_inference.infer_shapes(m)  # fills the graph outputs' types
    if check:
        onnx.checker.check_model(m)
    return m


def run_ort(m: onnx.ModelProto, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, dict(feeds)), strict=True))


def rand(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def sparse_weight(rng: np.random.Generator, cout: int, cin: int, kh: int, kw: int, g: int, density: float,
                  kernel_holes: bool = True) -> np.ndarray:
    """A weight with the group pattern of size g at about `density` (fraction of kept (group, input) pairs).

    With kernel_holes, kept kernels also get some zero entries (the pattern only drops whole kernels), and one
    channel of a kept pair may be all zero (a kept pair needs only one nonzero channel)."""
    w = rng.standard_normal((cout, cin, kh, kw)).astype(np.float32)
    ng = -(-cout // g)
    keep = rng.random((ng, cin)) < density
    mask = np.repeat(keep, g, axis=0)[:cout]
    w *= mask[:, :, None, None]
    if kernel_holes and kh * kw > 1:
        w *= rng.random(w.shape) < 0.7
        # a kept pair must still have one nonzero: put it back on the group's first channel
        for grp, i in zip(*np.nonzero(keep), strict=True):
            rows = slice(grp * g, min((grp + 1) * g, cout))
            if not np.any(w[rows, i]):
                w[grp * g, i, 0, 0] = 1.0
    return w
