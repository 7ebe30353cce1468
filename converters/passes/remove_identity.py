"""Drop Identity nodes (Identity, inference Dropout, float Cast) by rewiring their consumers."""

from __future__ import annotations

from ..ir import Graph


def remove_identity(graph: Graph) -> None:
    for node in [n for n in graph.nodes if n.op == "Identity"]:
        src, dst = node.inputs[0], node.output
        producer = graph.producer(src)
        if dst in graph.outputs:
            # Keep the graph output's name: the producer's output takes it, unless the source is itself a graph
            # input/output (then a copy is needed: keep the node as a Reshape to the same shape).
            if producer is None or src in graph.outputs:
                node.op, node.attrs = "Reshape", {"shape": graph.shape(src)}
                continue
            graph.nodes.remove(node)
            del graph.values[dst]
            graph.rename_value(src, dst)
        else:
            graph.nodes.remove(node)
            graph.replace_uses(dst, src)
            del graph.values[dst]
