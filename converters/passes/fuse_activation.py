"""Fuse activations into the node that produces their input.

- x * HardSigmoid(x) with alpha = 1/6, beta = 1/2 is HardSwish(x) (the pattern older exporters emit).
- An Activation whose input comes from a Conv / FC / Add (or a binary op but Mul) with no activation yet, and
  which is that producer's only use, becomes the producer's fused `act`; the producer's output takes the
  activation output's name.
Everything else stays a standalone Activation node.
"""

from __future__ import annotations

from typing import TypeGuard

from ..ir import Graph, Node

FUSIBLE_PRODUCERS = ("Conv", "ConvTranspose", "FC", "Add", "Sub", "Div", "Max", "Min", "Pow", "PRelu", "MatMul")


def _is_hardswish_gate(node: Node | None) -> TypeGuard[Node]:
    if node is None or node.op != "Activation" or node.act[0] != "HARDSIGMOID":
        return False
    return abs(node.act[1] - 1 / 6) < 1e-6 and abs(node.act[2] - 0.5) < 1e-6


def _hardsigmoid_mul_to_hardswish(graph: Graph) -> None:
    for mul in [n for n in graph.nodes if n.op == "Mul"]:
        for gate_index in (0, 1):
            gate = graph.producer(mul.inputs[gate_index])
            other = mul.inputs[1 - gate_index]
            if _is_hardswish_gate(gate) and gate.inputs[0] == other and graph.use_count(gate.output) == 1:
                graph.nodes.remove(gate)
                del graph.values[gate.output]
                mul.op, mul.inputs, mul.act, mul.attrs = "Activation", [other], ("HARDSWISH", 0.0, 0.0), {}
                break


def fuse_activation(graph: Graph) -> None:
    _hardsigmoid_mul_to_hardswish(graph)
    for act in [n for n in graph.nodes if n.op == "Activation"]:
        x = act.inputs[0]
        producer = graph.producer(x)
        if (producer is None or producer.op not in FUSIBLE_PRODUCERS or producer.act[0] != "NONE"
                or graph.use_count(x) != 1):
            continue
        producer.act = act.act
        producer.outputs = [act.output]
        graph.nodes.remove(act)
        del graph.values[x]
