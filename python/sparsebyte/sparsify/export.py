"""Export of a sparsified model: the inputs of `sparsebyte convert` and `sparsebyte check`.

Files written to the output directory:
- model.onnx: the masked model (zeros baked in), ready for `sparsebyte convert model.onnx -o model.sbn`;
- model.pt: the masked model as TorchScript, the reference for `sparsebyte check model.sbn --reference model.pt`;
- masks.pt: {"masks": {layer: bool mask}, "pattern": ..., "meta": ...} (apply to a fresh model with `apply_masks`);
- state_dict.pt: the masked model's state dict (load into the model's own class);
- report.json: per-layer sparsity and the run's settings and history.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .masks import Pattern, follows_pattern

ONNX_OPSET = 17


def layer_table(model: nn.Module, masks: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
    modules = dict(model.named_modules())
    rows = []
    for name, mask in masks.items():
        weight = modules[name].weight
        rows.append({"layer": name, "shape": list(weight.shape), "weights": int(weight.numel()),
                     "sparsity": round(float((mask == 0).float().mean()), 6),
                     "zeros": int((weight == 0).sum())})
    return rows


@torch.no_grad()
def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Zero `model`'s weights outside `masks` in place (a masks.pt on a fresh copy of the trained weights)."""
    modules = dict(model.named_modules())
    for name, mask in masks.items():
        if name not in modules:
            raise ValueError(f"masks: no module named {name!r} in {type(model).__name__}")
        weight = modules[name].weight
        if tuple(mask.shape) != tuple(weight.shape):
            raise ValueError(f"masks: {name} mask shape {tuple(mask.shape)} != weight shape {tuple(weight.shape)}")
        weight.mul_(mask.to(weight.dtype))
    return model


def load_masks(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], Pattern]:
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError) as e:
        raise ValueError(f"{path}: cannot read masks ({e})") from e
    if not isinstance(data, dict) or "masks" not in data:
        raise ValueError(f"{path}: not a masks file written by sparsebyte sparsify (no 'masks' key)")
    return {k: v.float() for k, v in data["masks"].items()}, Pattern(**data["pattern"])


def export(model: nn.Module, masks: dict[str, torch.Tensor], pattern: Pattern, out_dir: str | os.PathLike,
           example_input: torch.Tensor, meta: dict[str, Any] | None = None, onnx: bool = True) -> dict[str, str]:
    """Write the files listed in the module docstring for a baked model (plain weights with zeros); returns their
    paths by kind. Refuses masks that break the pattern or weights that are nonzero where the mask is zero."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    modules = dict(model.named_modules())
    for name, mask in masks.items():
        weight = modules[name].weight
        if bool((weight[mask == 0] != 0).any()):
            raise ValueError(f"export: {name} has nonzero weights where its mask is zero (masks not baked?)")
        if not follows_pattern(mask, pattern):
            raise ValueError(f"export: {name} mask does not follow the {pattern.describe()} pattern")
    model.eval()
    paths = {}
    torch.save({"masks": {k: v.bool() for k, v in masks.items()}, "pattern": asdict(pattern), "meta": meta or {}},
               out / "masks.pt")
    paths["masks"] = str(out / "masks.pt")
    torch.save(model.state_dict(), out / "state_dict.pt")
    paths["state_dict"] = str(out / "state_dict.pt")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, (example_input,), check_trace=False)
        traced.save(str(out / "model.pt"))
        paths["torchscript"] = str(out / "model.pt")
        if onnx:
            torch.onnx.export(model, (example_input,), str(out / "model.onnx"), dynamo=False,
                              opset_version=ONNX_OPSET, input_names=["input"], output_names=["output"],
                              do_constant_folding=True)
            paths["onnx"] = str(out / "model.onnx")
    report = {"pattern": asdict(pattern), "layers": layer_table(model, masks), **(meta or {})}
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    paths["report"] = str(out / "report.json")
    return paths
