"""Fold BatchNormalization into the Conv / FC that produces its input; a standalone BN becomes ChannelAffine.

y = (x - mean) / sqrt(var + eps) * gamma + beta = x * s + (beta - mean * s), s = gamma / sqrt(var + eps).
Folding needs the producer's output to have no other use (the un-normalised tensor must not be needed elsewhere).
Arithmetic is done in float64 and rounded to float32 once.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Node


def _scale_shift(graph: Graph, bn: Node) -> tuple[np.ndarray, np.ndarray]:
    gamma, beta, mean, var = (graph.const(i).astype(np.float64) for i in bn.inputs[1:5])  # type: ignore[union-attr]
    denom = var + bn.attrs["epsilon"]
    if np.any(denom <= 0):
        raise bn.error("var + epsilon is not positive")
    scale = gamma / np.sqrt(denom)
    return scale, beta - mean * scale


def fold_batchnorm(graph: Graph) -> None:
    for bn in [n for n in graph.nodes if n.op == "BatchNormalization"]:
        scale, shift = _scale_shift(graph, bn)
        x = bn.inputs[0]
        producer = graph.producer(x)
        foldable = (producer is not None and producer.op in ("Conv", "FC", "ConvTranspose")
                    and producer.act[0] == "NONE" and graph.use_count(x) == 1)
        if foldable:
            assert producer is not None
            w = graph.const(producer.inputs[1]).astype(np.float64)  # type: ignore[union-attr]
            groups = producer.attrs["groups"] if producer.op == "ConvTranspose" else 1
            cout = w.shape[1] * groups if producer.op == "ConvTranspose" else w.shape[0]
            bias = (graph.const(producer.inputs[2]).astype(np.float64) if len(producer.inputs) > 2  # type: ignore
                    else np.zeros(cout))
            w_name = graph.unique_name(f"{producer.inputs[1]}.bnfold")
            b_name = graph.unique_name(f"{producer.name}.bias.bnfold")
            if producer.op == "ConvTranspose":  # W [Cin, Cout/groups, kh, kw]: output channels on axis 1 per group
                g_w = w.reshape(groups, -1, *w.shape[1:]) * scale.reshape(groups, 1, -1, 1, 1)
                graph.add_const(w_name, g_w.reshape(w.shape).astype(np.float32))
            else:
                graph.add_const(w_name, (w * scale.reshape((cout,) + (1,) * (w.ndim - 1))).astype(np.float32))
            graph.add_const(b_name, (bias * scale + shift).astype(np.float32))
            producer.inputs = [producer.inputs[0], w_name, b_name]
            # The fused node's output takes the BN output's name.
            graph.nodes.remove(bn)
            del graph.values[x]
            out = bn.output
            producer.outputs = [out]
        else:
            s_name = graph.unique_name(f"{bn.name}.scale")
            t_name = graph.unique_name(f"{bn.name}.shift")
            graph.add_const(s_name, scale.astype(np.float32))
            graph.add_const(t_name, shift.astype(np.float32))
            bn.op, bn.inputs, bn.attrs = "ChannelAffine", [x, s_name, t_name], {}
    graph.remove_unused_values()
