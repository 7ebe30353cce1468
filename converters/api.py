"""convert(): ONNX file / ModelProto / torch.nn.Module -> .sbn file, with a per-layer report."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx

from sparsebyte.sbnformat import write_atomic

from .ir import ConversionError, Graph
from .onnx_import import import_onnx, load_model
from .passes.channel_shuffle import channel_shuffle
from .passes.fold_batchnorm import fold_batchnorm
from .passes.fold_fc_bias import fold_fc_bias
from .passes.fold_pad import fold_pad
from .passes.fuse_activation import fuse_activation
from .passes.fuse_patterns import fuse_patterns
from .passes.remove_identity import remove_identity
from .passes.shape_inference import infer_graph
from .passes.sparsify import DEFAULT_SPARSE_THRESHOLD, GROUP_SIZES, LayerReport, sparsify
from .passes.to_sbn import to_sbn
from .passes.transpose_sink import transpose_sink
from .tflite_import import LAYOUTS, import_tflite, is_tflite
from .torch_import import export_torch, is_torch_module

log = logging.getLogger("sparsebyte.converters")
MAX_GRAPH_IO = 16  # graph inputs and outputs a .sbn may have (SB_MAX_GRAPH_IO, engine/src/internal.h)
MAX_DIM, MAX_RANK = 2**24, 6  # per tensor (docs/robustness.md, limits)


@dataclass
class ConversionReport:
    output_path: str
    source: str
    layers: list[LayerReport]
    inputs: dict[str, list[int]]
    outputs: dict[str, list[int]]
    node_count: int
    file_size: int = 0
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def dense_macs(self) -> int:
        return sum(r.dense_macs for r in self.layers)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.layers)

    @property
    def weight_bytes(self) -> int:
        return sum(r.weight_bytes for r in self.layers)

    @property
    def sparse_layers(self) -> int:
        return sum(r.choice == "sparse" for r in self.layers)

    def totals(self) -> dict[str, int]:
        return {"dense_macs": self.dense_macs, "macs": self.macs, "weight_bytes": self.weight_bytes,
                "layers": len(self.layers), "sparse_layers": self.sparse_layers, "nodes": self.node_count,
                "file_size": self.file_size}

    def as_dict(self) -> dict[str, Any]:
        return {"output_path": self.output_path, "source": self.source, "inputs": self.inputs,
                "outputs": self.outputs, "options": self.options, "layers": [r.as_dict() for r in self.layers],
                "totals": self.totals()}

    def __str__(self) -> str:
        head = f"{'node':<32} {'op':<10} {'weight':<18} {'sparsity':>8} {'G':>2} {'choice':<9} " \
               f"{'dense MACs':>12} {'MACs':>12} {'bytes':>10}"
        lines = [head, "-" * len(head)]
        for r in self.layers:
            lines.append(f"{_tail(r.node, 32):<32} {r.op:<10} {'x'.join(map(str, r.weight_shape)):<18} "
                         f"{r.sparsity:>8.1%} {r.group or '-':>2} {r.choice.split()[0]:<9} {r.dense_macs:>12,} "
                         f"{r.macs:>12,} {r.weight_bytes:>10,}")
        speed = self.dense_macs / self.macs if self.macs else float("inf")
        lines.append("-" * len(head))
        lines.append(f"{len(self.layers)} conv/fc layers, {self.sparse_layers} sparse; MACs {self.macs:,} of "
                     f"{self.dense_macs:,} dense ({speed:.2f}x fewer); weights {self.weight_bytes:,} bytes; "
                     f"{self.node_count} nodes; file {self.output_path} ({self.file_size:,} bytes)")
        return "\n".join(lines)


def _tail(text: str, width: int) -> str:
    """Long ONNX names differ at the end ("/features.12/conv/conv.0/Conv"): keep that part."""
    return text if len(text) <= width else "~" + text[-(width - 1):]


def _source_name(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    if isinstance(source, onnx.ModelProto):
        return source.graph.name or "<onnx.ModelProto>"
    return type(source).__name__


def build_graph(source: Any, *, example_input: Any = None,
                input_shapes: Mapping[str, Sequence[int]] | None = None, layout: str = "tflite") -> Graph:
    """Import and run the structural passes (no packing): the IR the .sbn is made of. `layout` is for .tflite
    sources: "tflite" keeps their (NHWC) input and output shapes, "nchw" makes the rank-4 ones NCHW."""
    if layout not in LAYOUTS:
        raise ConversionError(f"layout must be one of {list(LAYOUTS)}, got {layout!r}")
    if is_tflite(source):
        if input_shapes:
            raise ConversionError("input_shapes is for ONNX models; a .tflite file has static shapes")
        graph = import_tflite(source, layout)
    elif layout != "tflite":
        raise ConversionError(f"layout={layout!r} is for .tflite models (ONNX models keep their own layout)")
    elif isinstance(source, (str, os.PathLike, onnx.ModelProto)):
        graph = import_onnx(load_model(source), input_shapes)
    elif is_torch_module(source):
        graph = import_onnx(export_torch(source, example_input), input_shapes)
    else:
        raise ConversionError(f"cannot convert a {type(source).__name__}: expected an ONNX or .tflite path, an "
                              "onnx.ModelProto or a torch.nn.Module")
    for what, names in (("inputs", graph.inputs), ("outputs", graph.outputs)):
        if not 1 <= len(names) <= MAX_GRAPH_IO:
            raise ConversionError(f"the model has {len(names)} graph {what}; a .sbn takes 1..{MAX_GRAPH_IO}")
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConversionError(f"graph {what} {twice} are listed more than once")
    remove_identity(graph)
    fuse_patterns(graph)  # first: a LayerNorm pattern is found in its own layout, then a fixed point for the sinking
    channel_shuffle(graph)  # before the sinking: a shuffle's rank-5 Transpose is no layout change
    fold_pad(graph)  # a Pad already in front of its Conv (TFLite's PAD + VALID conv): before the sinking moves it
    transpose_sink(graph)  # NHWC exports run NCHW inside (before the Pad/BN/activation folds)
    fold_pad(graph)
    fold_batchnorm(graph)
    fuse_activation(graph)
    fold_fc_bias(graph)
    infer_graph(graph)
    for name, value in graph.values.items():  # the engine's caps (engine/src/format.c), named here by tensor
        if len(value.shape) > MAX_RANK or any(not 0 < d <= MAX_DIM for d in value.shape):
            raise ConversionError(f"tensor {name!r} has shape {list(value.shape)}; a .sbn takes rank <= {MAX_RANK} "
                                  f"and dims 1..{MAX_DIM}")
    for node in graph.nodes:  # the .sbn stores attributes as int32 (a pad of 2^62 cannot be written)
        for key, value in node.attrs.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(v, int) and not -(2**31) <= v < 2**31 for v in values):
                raise ConversionError(f"node {node.name!r} ({node.source_op or node.op}): attribute {key}={value} "
                                      "does not fit the .sbn's int32 fields")
    return graph


def convert(source: Any, output_path: str | os.PathLike, *, example_input: Any = None,
            input_shapes: Mapping[str, Sequence[int]] | None = None, group: int | str = "auto",
            sparse_threshold: float = DEFAULT_SPARSE_THRESHOLD, force_dense: bool = False,
            layout: str = "tflite") -> ConversionReport:
    """Convert `source` (ONNX or .tflite path, onnx.ModelProto or torch.nn.Module with `example_input`) to a .sbn
    file.

    group: "auto" or 1/2/4/8 (forces G for every sparse layer). A layer is packed sparse when the fraction of
    (group, input channel) pairs it keeps is <= sparse_threshold (see passes/sparsify.py); force_dense keeps all
    layers dense. layout (.tflite sources): "tflite" keeps the model's NHWC inputs and outputs, "nchw" declares the
    4-D ones NCHW (no transposes at the boundary). The file is written atomically: on any error no output file is
    left behind.
    """
    if group != "auto" and group not in GROUP_SIZES:
        raise ConversionError(f"group must be 'auto' or one of {list(GROUP_SIZES)}, got {group!r}")
    if not 0.0 <= float(sparse_threshold) <= 1.0:
        raise ConversionError(f"sparse_threshold must be in [0, 1], got {sparse_threshold}")
    output_path = Path(output_path)
    name = _source_name(source)
    log.info("converting %s -> %s", name, output_path)
    graph = build_graph(source, example_input=example_input, input_shapes=input_shapes, layout=layout)
    layers = sparsify(graph, group=group, sparse_threshold=sparse_threshold, force_dense=force_dense)
    options: dict[str, Any] = {"group": group, "sparse_threshold": sparse_threshold, "force_dense": force_dense}
    if is_tflite(source):
        options["layout"] = layout  # check --reference x.tflite feeds LiteRT in its own layout
    report = ConversionReport(
        output_path=str(output_path), source=name, layers=layers,
        inputs={i: list(graph.shape(i)) for i in graph.inputs},
        outputs={o: list(graph.shape(o)) for o in graph.outputs}, node_count=len(graph.nodes), options=options)
    writer = to_sbn(graph)
    data = writer.to_bytes(metadata=_metadata(report))
    try:
        write_atomic(output_path, data)
    except OSError as e:
        raise ConversionError(f"cannot write {str(output_path)!r}: {e.strerror or e}") from e
    report.file_size = len(data)
    log.info("wrote %s: %d nodes, %d of %d conv/fc layers sparse, %d bytes", output_path, len(graph.nodes),
             report.sparse_layers, len(layers), len(data))
    return report


def _metadata(report: ConversionReport) -> dict[str, Any]:
    try:
        from sparsebyte import __version__ as version
    except ImportError:
        version = "unknown"
    return {"producer": f"sparsebyte {version}", "source": report.source, "options": report.options,
            "inputs": report.inputs, "outputs": report.outputs, "layers": [r.as_dict() for r in report.layers],
            "totals": {k: v for k, v in report.totals().items() if k != "file_size"}}
