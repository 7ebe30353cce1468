"""Fold a Pad into the Conv / AveragePool / MaxPool that consumes it, so padding never costs a separate copy.

Foldable: constant mode on the two spatial axes of an NCHW tensor only, every use of the Pad's output one that
can absorb it:
- Conv: value 0 (added to the conv's own pads);
- AveragePool without ceil_mode: value 0 and either no pads of its own or count_include_pad=1 (the padded zeros
  count in the average, so the result is count_include_pad=1 with the summed pads);
- MaxPool without ceil_mode: value -inf (windows ignore padding);
and the summed pool pads stay smaller than the kernel (the format's rule). Anything else stays an explicit PAD.
"""

from __future__ import annotations

from ..ir import Graph, Node
from ..onnx_structural import bits_f32


def _spatial_pads(pad: Node) -> tuple[int, int, int, int] | None:
    begin, end = pad.attrs["begin"], pad.attrs["end"]
    if pad.attrs["mode"] != 0 or len(begin) != 4 or any(begin[:2]) or any(end[:2]):
        return None
    return begin[2], begin[3], end[2], end[3]  # top, left, bottom, right


def _foldable(pad: Node, consumer: Node, extra: tuple[int, int, int, int]) -> bool:
    value = bits_f32(pad.attrs["value_bits"])
    if consumer.op == "Conv":
        return value == 0.0
    if consumer.op not in ("AveragePool", "MaxPool") or consumer.attrs.get("ceil_mode", 0):
        return False
    kh, kw = consumer.attrs["kernel"]
    total = [a + b for a, b in zip(consumer.attrs["pads"], extra, strict=True)]
    if max(total[0], total[2]) >= kh or max(total[1], total[3]) >= kw:
        return False
    if consumer.op == "MaxPool":
        return value == float("-inf")
    return value == 0.0 and (consumer.attrs["count_include_pad"] == 1 or not any(consumer.attrs["pads"]))


def fold_pad(graph: Graph) -> None:
    for pad in [n for n in graph.nodes if n.op == "Pad"]:
        extra = _spatial_pads(pad)
        consumers = graph.consumers(pad.output)
        if extra is None or not consumers or pad.output in graph.outputs:
            continue
        # every consumer takes it as its data input, once, and can absorb it (TFLite's BlazeBlocks pad once for two
        # stride-2 depthwise convs)
        if any(c.inputs[0] != pad.output or c.inputs.count(pad.output) != 1 or not _foldable(pad, c, extra)
               for c in consumers):
            continue
        for consumer in consumers:
            consumer.attrs["pads"] = tuple(a + b for a, b in zip(consumer.attrs["pads"], extra, strict=True))
            if consumer.op == "AveragePool":
                consumer.attrs["count_include_pad"] = 1
            consumer.inputs[0] = pad.inputs[0]
        graph.nodes.remove(pad)
    graph.remove_unused_values()
