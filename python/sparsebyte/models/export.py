"""Export a PyTorch model to an ONNX file (the reference the engine is checked against)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

OPSET = 17


def export_onnx(model: Any, path: str | os.PathLike, input_shape: Sequence[int] = (1, 3, 224, 224),
                input_name: str = "input", output_name: str = "output") -> str:
    """Trace `model` (eval mode) on zeros of `input_shape` and write a single-file ONNX model; returns the path."""
    import torch

    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(tuple(input_shape)),), str(path), dynamo=False, opset_version=OPSET,
                          input_names=[input_name], output_names=[output_name], do_constant_folding=True)
    return str(path)
