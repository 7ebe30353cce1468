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


def save_delta(dense: nn.Module, recovered: nn.Module, masks: dict[str, torch.Tensor],
               path: str | os.PathLike, store_masks: bool = False) -> int:
    """Write recovered - dense (baked models, same architecture and channel order) to `path`; returns its size."""
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
            rows = [diff[c][keep[c]] for c in range(diff.shape[0])]
            scale = torch.stack([r.abs().max() if r.numel() else torch.tensor(0.0, dtype=torch.float64)
                                 for r in rows]) / 127.0
            scale = scale.to(torch.float16).double()
            q = torch.cat([torch.round(r / s).clamp(-127, 127) if s > 0 else torch.zeros_like(r)
                           for r, s in zip(rows, scale, strict=True)])
            arrays[f"q:{key}"] = q.to(torch.int8).numpy()
            arrays[f"s:{key}"] = scale.to(torch.float16).numpy()
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
        if kind in ("m", "shape"):
            continue
        if key not in state:
            raise ValueError(f"{path}: {key} is not a tensor of {type(model).__name__}")
        if kind == "f":
            state[key].add_(torch.from_numpy(data[entry].astype(np.float32)).reshape(state[key].shape))
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
