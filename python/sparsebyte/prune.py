"""One-shot magnitude pruning into the fine-grained group pattern (no fine-tuning).

Pattern (design.md): output channels form groups of G consecutive channels that share one input-channel mask; for
kxk convs a kept (group, input) pair keeps the whole kernel. Depthwise (and other grouped) convs stay dense.
Score of a (group, input) pair: the L2 norm of all of the group's weights for that input. Each pruned layer drops the
same fraction `sparsity` of its pairs (uniform per layer)."""

from __future__ import annotations

import torch
from torch import nn


def prunable_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Dense convs (groups == 1) and Linear layers in module order: the layers the group pattern applies to."""
    return [(name, m) for name, m in model.named_modules()
            if isinstance(m, nn.Linear) or (isinstance(m, nn.Conv2d) and m.groups == 1)]


def group_mask(weight: torch.Tensor, sparsity: float, group: int) -> torch.Tensor:
    """Mask (same shape as weight [Cout, Cin, ...]) dropping the `sparsity` fraction of lowest-norm (group, input)
    pairs. The last group may hold fewer than `group` channels."""
    cout, cin = weight.shape[0], weight.shape[1]
    groups = -(-cout // group)
    w = weight.detach().reshape(cout, cin, -1).float()
    padded = torch.zeros(groups * group, cin, w.shape[2], dtype=w.dtype)
    padded[:cout] = w
    scores = padded.reshape(groups, group, cin, -1).pow(2).sum(dim=(1, 3)).sqrt()  # [groups, cin]
    drop = int(round(sparsity * scores.numel()))
    keep = torch.ones(scores.numel(), dtype=torch.bool)
    if drop > 0:
        # stable sort: ties (e.g. all-zero weights) drop in a deterministic order
        order = torch.sort(scores.reshape(-1), stable=True).indices
        keep[order[:drop]] = False
    keep = keep.reshape(groups, 1, cin).expand(groups, group, cin).reshape(groups * group, cin)[:cout]
    shape = (cout, cin) + (1,) * (weight.dim() - 2)
    return keep.reshape(shape).expand_as(weight).to(weight.dtype).clone()


@torch.no_grad()
def prune_groups(model: nn.Module, sparsity: float, group: int = 4, skip_first: bool = True,
                 skip_last: bool = False) -> dict[str, torch.Tensor]:
    """Zero the weights of `model` in place into the group pattern; returns {module name: mask}.

    skip_first leaves the first prunable layer (the stem conv) dense; skip_last the last one (the classifier)."""
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
    if group not in (1, 2, 4, 8):
        raise ValueError(f"group must be 1, 2, 4 or 8, got {group}")
    layers = prunable_layers(model)
    if skip_first:
        layers = layers[1:]
    if skip_last:
        layers = layers[:-1]
    masks = {}
    for name, module in layers:
        mask = group_mask(module.weight, sparsity, group)
        module.weight.mul_(mask)
        masks[name] = mask
    return masks


def mask_sparsity(masks: dict[str, torch.Tensor]) -> float:
    """Fraction of zero weights over all masked layers."""
    total = sum(m.numel() for m in masks.values())
    return float(sum((m == 0).sum().item() for m in masks.values()) / max(total, 1))
