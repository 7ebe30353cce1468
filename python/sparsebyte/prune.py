"""One-shot magnitude pruning into the fine-grained group pattern (no fine-tuning): the short path of the training
side. The masks are sparsify.masks' (one implementation of the pattern and its scores); `sparsebyte sparsify` adds
global allocation, rearrangement and fine-tuning on top of the same masks.

Pattern (design.md): output channels form groups of G consecutive channels that share one input-channel mask; for
kxk convs a kept (group, input) pair keeps the whole kernel. Depthwise (and other grouped) convs stay dense.
Score of a (group, input) pair: the L2 norm of all of the group's weights for that input. Each pruned layer drops the
same fraction `sparsity` of its pairs (uniform per layer)."""

from __future__ import annotations

import torch
from torch import nn

from .sparsify.allocate import is_prunable
from .sparsify.masks import Pattern, group_mask, make_mask

__all__ = ["group_mask", "mask_sparsity", "prunable_layers", "prune_groups"]


def prunable_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Dense convs (groups == 1) and Linear layers in module order: the layers the group pattern applies to."""
    return [(name, m) for name, m in model.named_modules() if is_prunable(m)]


@torch.no_grad()
def prune_groups(model: nn.Module, sparsity: float, group: int = 4, skip_first: bool = True,
                 skip_last: bool = False) -> dict[str, torch.Tensor]:
    """Zero the weights of `model` in place into the group pattern; returns {module name: 0/1 float mask}.

    skip_first leaves the first prunable layer (the stem conv) dense; skip_last the last one (the classifier)."""
    pattern = Pattern("group", group=group)  # ValueError naming G when it is not 1, 2, 4 or 8
    layers = prunable_layers(model)
    if skip_first:
        layers = layers[1:]
    if skip_last:
        layers = layers[:-1]
    masks = {}
    for name, module in layers:
        mask = make_mask(module.weight, sparsity, pattern)  # ValueError unless 0 <= sparsity < 1
        module.weight.mul_(mask.to(module.weight.dtype))
        masks[name] = mask
    return masks


def mask_sparsity(masks: dict[str, torch.Tensor]) -> float:
    """Fraction of zero weights over all masked layers."""
    total = sum(m.numel() for m in masks.values())
    return float(sum((m == 0).sum().item() for m in masks.values()) / max(total, 1))
