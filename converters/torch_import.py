"""torch.nn.Module -> ONNX ModelProto through torch.onnx.export (TorchScript exporter, opset 17).

torch is imported lazily: it is an optional dependency of the package.
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

import onnx

from .ir import ConversionError

log = logging.getLogger(__name__)
OPSET = 17


def is_torch_module(obj: Any) -> bool:
    try:
        import torch
    except ImportError:
        return False
    return isinstance(obj, torch.nn.Module)


def export_torch(module: Any, example_input: Any) -> onnx.ModelProto:
    """Export `module` (eval mode) traced on `example_input` (a tensor or a tuple of tensors)."""
    import torch

    if example_input is None:
        raise ConversionError(f"converting a torch.nn.Module ({type(module).__name__}) needs example_input")
    args = tuple(example_input) if isinstance(example_input, (tuple, list)) else (example_input,)
    if not all(isinstance(a, torch.Tensor) for a in args):
        raise ConversionError("example_input must be a torch.Tensor or a tuple of tensors")
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            result = module(*args)
        n_out = len(result) if isinstance(result, (tuple, list)) else 1
        input_names = ["input"] if len(args) == 1 else [f"input_{i}" for i in range(len(args))]
        output_names = ["output"] if n_out == 1 else [f"output_{i}" for i in range(n_out)]
        with tempfile.TemporaryDirectory(prefix="sparsebyte-export-") as tmp:
            path = os.path.join(tmp, "model.onnx")
            log.info("exporting %s to ONNX (opset %d)", type(module).__name__, OPSET)
            torch.onnx.export(module, args, path, dynamo=False, opset_version=OPSET, input_names=input_names,
                              output_names=output_names, do_constant_folding=True)
            return onnx.load(path)
    except ConversionError:
        raise
    except Exception as e:
        raise ConversionError(f"torch.onnx.export of {type(module).__name__} failed: {type(e).__name__}: {e}") from e
    finally:
        module.train(was_training)
