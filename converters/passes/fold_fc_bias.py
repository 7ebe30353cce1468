"""Fold the bias Add that follows a bias-free FC into the FC (ONNX MatMul + Add: every torch Linear on a 3-D input,
every transformer projection).

    FC(x, W) -> [Reshape ->] Add(., b)   becomes   FC(x, W, b) -> [Reshape]

b must be a constant over the FC's output features only (shape [Cout] after dropping leading 1s), the FC must have
no activation and its output (and the Reshape's) must have no other use. The Add's fused activation moves to the FC:
an elementwise function commutes with the Reshape. Runs after fuse_activation, so that activation is already on the
Add.

The same for a Conv followed by an Add of a per-channel constant ([1, Cout, 1, 1] or [Cout, 1, 1]): Paddle2ONNX
exports every conv bias that way (PP-OCR: ~80 standalone Adds per model, each also keeping the next activation out of
the conv); an existing conv bias is summed with it.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Node


def _features_bias(graph: Graph, add: Node, value: str, cout: int) -> np.ndarray | None:
    other = add.inputs[1 - add.inputs.index(value)]
    c = graph.const(other)
    if c is None or not np.issubdtype(c.dtype, np.floating) or graph.shape(add.output) != graph.shape(value):
        return None
    lead = next((i for i, s in enumerate(c.shape) if s != 1), c.ndim)
    if c.shape[lead:] != (cout,):
        return None
    return c.reshape(cout).astype(np.float32)


def _channel_bias(graph: Graph, add: Node, value: str, cout: int) -> np.ndarray | None:
    other = add.inputs[1 - add.inputs.index(value)]
    c = graph.const(other)
    if c is None or not np.issubdtype(c.dtype, np.floating) or graph.shape(add.output) != graph.shape(value):
        return None
    if c.ndim > 4 or (1,) * (4 - c.ndim) + tuple(c.shape) not in ((1, cout, 1, 1), (1, 1, 1, 1)):
        return None
    return np.broadcast_to(c.reshape(-1), (cout,)).astype(np.float32)


def fold_conv_bias(graph: Graph) -> None:
    for conv in [n for n in graph.nodes if n.op == "Conv" and n.act[0] == "NONE"]:
        value = conv.output
        users = graph.consumers(value)
        if len(users) != 1 or users[0].op != "Add" or graph.use_count(value) != 1 or users[0].inputs.count(value) != 1:
            continue
        add = users[0]
        cout = graph.shape(conv.inputs[1])[0]
        bias = _channel_bias(graph, add, value, cout)
        if bias is None or len(graph.shape(value)) != 4:
            continue
        if len(conv.inputs) > 2:
            bias = (graph.const(conv.inputs[2]).astype(np.float32) + bias).astype(np.float32)  # type: ignore[union-attr]
            conv.inputs = conv.inputs[:2]
        name = graph.unique_name(f"{conv.name}.bias")
        graph.add_const(name, bias)
        conv.inputs.append(name)
        conv.act = add.act
        graph.nodes.remove(add)
        del graph.values[value]
        conv.outputs = [add.output]


def fold_fc_bias(graph: Graph) -> None:
    fold_conv_bias(graph)
    for fc in [n for n in graph.nodes if n.op == "FC" and len(n.inputs) == 2 and n.act[0] == "NONE"]:
        cout = graph.shape(fc.inputs[1])[0]
        chain: list[Node] = []
        value = fc.output
        users = graph.consumers(value)
        if len(users) == 1 and users[0].op == "Reshape" and graph.use_count(value) == 1:
            chain.append(users[0])
            value = users[0].output
            users = graph.consumers(value)
        if len(users) != 1 or users[0].op != "Add" or graph.use_count(value) != 1 or users[0].inputs.count(value) != 1:
            continue
        add = users[0]
        bias = _features_bias(graph, add, value, cout)
        if bias is None:
            continue
        name = graph.unique_name(f"{fc.name}.bias")
        graph.add_const(name, bias)
        fc.inputs.append(name)
        fc.act = add.act
        # the last node before the Add now produces the Add's output (its name is what the rest of the graph reads)
        last = chain[-1] if chain else fc
        graph.nodes.remove(add)
        del graph.values[value]
        last.outputs = [add.output]
