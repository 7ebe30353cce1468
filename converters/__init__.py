"""ONNX / PyTorch to .sbn converter: `convert(source, "model.sbn")`."""

from .api import ConversionReport, build_graph, convert
from .ir import ConversionError

__all__ = ["convert", "build_graph", "ConversionError", "ConversionReport"]
