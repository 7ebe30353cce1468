"""A recovered sparse model shipped as a small delta from the dense weights it was made from.

Distillation changes every weight a little, so the recovered model cannot be rebuilt from masks alone; but its masks
are the one-shot masks of the dense weights (recomputed, not stored), and its change from the dense weights is small
and smooth. The delta file (.npz, compressed) holds, per tensor of the state dict:
- pruned layers: the change of the kept weights only (the mask's nonzeros in order), int8 with one float16 scale per
  output channel;
- everything else (stem, depthwise convs, BN affine terms and running statistics, biases): the change in float16.
- with `store_masks` (masks that are not the one-shot masks of the dense weights, e.g. from layer-wise
  reconstruction): each pruned layer's mask, bit-packed (`m:` entries; `load_masks` reads them back).
Applying it to the dense weights gives the recovered model to within the int8 rounding of the change (the delta is
a few percent of the weights, so the rounding error is ~1e-4 of a weight).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn


def _quantize_rows(rows: list[torch.Tensor], levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's values as integers in [-levels, levels] (int8) with one float16 scale per row."""
    scale = torch.stack([r.abs().max() if r.numel() else torch.tensor(0.0, dtype=torch.float64)
                         for r in rows]) / levels
    scale = scale.to(torch.float16).double()
    q = torch.cat([torch.round(r / s).clamp(-levels, levels) if s > 0 else torch.zeros_like(r)
                   for r, s in zip(rows, scale, strict=True)])
    return q.to(torch.int8).numpy(), scale.to(torch.float16).numpy()


def save_delta(dense: nn.Module, recovered: nn.Module, masks: dict[str, torch.Tensor],
               path: str | os.PathLike, store_masks: bool = False, bits: int = 8) -> int:
    """Write recovered - dense (baked models, same architecture and channel order) to `path`; returns its size.
    Weight matrices (pruned layers' kept weights, and unpruned tensors of 2 or more dimensions, e.g. a dense
    classifier) are quantised per output row to `bits` (2-8) bits; other tensors are stored in float16."""
    if not 2 <= bits <= 8:
        raise ValueError(f"bits must be in 2..8, got {bits}")
    levels = 2 ** (bits - 1) - 1
    base, new = dense.state_dict(), recovered.state_dict()
    arrays: dict[str, np.ndarray] = {}
    if store_masks:
        for name, mask in masks.items():
            arrays[f"m:{name}"] = np.packbits(mask.detach().bool().reshape(-1).numpy())
            arrays[f"shape:{name}"] = np.asarray(mask.shape, dtype=np.int64)
    masked = {f"{name}.weight": mask for name, mask in masks.items()}
    for key, value in new.items():
        if not value.is_floating_point():
            continue
        diff = (value.detach().double() - base[key].detach().double())
        if key in masked:
            keep = masked[key].bool()
            arrays[f"q:{key}"], arrays[f"s:{key}"] = _quantize_rows([diff[c][keep[c]] for c in range(len(diff))],
                                                                    levels)
        elif diff.dim() >= 2 and diff[0].numel() >= 16 and bool(diff.abs().max() > 0):
            arrays[f"r:{key}"], arrays[f"s:{key}"] = _quantize_rows([r.reshape(-1) for r in diff], levels)
        elif bool(diff.abs().max() > 0):
            arrays[f"f:{key}"] = diff.to(torch.float16).numpy()
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
    return Path(path).stat().st_size


def load_masks(path: str | os.PathLike) -> dict[str, torch.Tensor] | None:
    """The masks stored in the delta at `path` ({layer: 0/1 float mask}), or None if it stores none."""
    data = np.load(path)
    names = [e.partition(":")[2] for e in data.files if e.startswith("m:")]
    if not names:
        return None
    out = {}
    for name in names:
        shape = tuple(int(v) for v in data[f"shape:{name}"])
        bits = np.unpackbits(data[f"m:{name}"])[:int(np.prod(shape))]
        out[name] = torch.from_numpy(bits.reshape(shape).astype(np.float32))
    return out


@torch.no_grad()
def apply_delta(model: nn.Module, masks: dict[str, torch.Tensor], path: str | os.PathLike) -> nn.Module:
    """Add the delta at `path` to `model` (the dense weights, already pruned with `masks`) in place."""
    try:
        data = np.load(path)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: cannot read the delta ({e})") from e
    state = model.state_dict()
    masked = {f"{name}.weight": mask for name, mask in masks.items()}
    for entry in data.files:
        kind, _, key = entry.partition(":")
        if kind in ("m", "shape", "s"):
            continue
        if key not in state:
            raise ValueError(f"{path}: {key} is not a tensor of {type(model).__name__}")
        if kind == "f":
            state[key].add_(torch.from_numpy(data[entry].astype(np.float32)).reshape(state[key].shape))
        elif kind == "r":
            scale = torch.from_numpy(data[f"s:{key}"].astype(np.float32))
            q = torch.from_numpy(data[entry].astype(np.float32)).reshape(state[key].shape[0], -1)
            state[key].add_((q * scale[:, None]).reshape(state[key].shape))
        elif kind == "q":
            if key not in masked:
                raise ValueError(f"{path}: {key} has a sparse delta but no mask")
            keep = masked[key].bool()
            scale = torch.from_numpy(data[f"s:{key}"].astype(np.float32))
            q = torch.from_numpy(data[entry].astype(np.float32))
            per_row = keep.reshape(keep.shape[0], -1).sum(dim=1)
            values = q * torch.repeat_interleave(scale, per_row)
            if values.numel() != int(keep.sum()):
                raise ValueError(f"{path}: {key} delta has {values.numel()} values for {int(keep.sum())} kept weights")
            weight = state[key]
            weight[keep] += values
    return model
