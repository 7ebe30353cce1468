"""Which layers are pruned, and at what sparsity each (uniform, or allocated globally).

Prunable: dense Conv2d (groups == 1) and Linear layers. Depthwise and other grouped convs stay dense.
Allocation modes, all reaching `target` as the fraction of zero weights over the pruned layers:
- "uniform": every pruned layer at `target`.
- "global": one magnitude ranking across layers. The unit is the pattern's unit ((group, input) pair, or a weight),
  ranked by its RMS weight so that pairs of different sizes (1x1 vs 3x3) compare; units are dropped smallest first.
- "flops": the global ranking, with each unit's RMS divided by sqrt(output pixels of its layer / mean over layers):
  a weight applied at many pixels costs more MACs, so it has to be more important to stay.
Both global modes cap each layer at `max_layer_sparsity` so that no layer is cut off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .masks import Pattern, pair_scores

ALLOCATIONS = ("uniform", "global", "flops")


@dataclass
class LayerInfo:
    name: str
    module: nn.Module
    pixels: int  # output positions per sample (1 for Linear)

    @property
    def weight(self) -> torch.Tensor:
        return self.module.weight

    @property
    def macs(self) -> int:
        return int(self.weight.numel()) * self.pixels


def is_prunable(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear) or (isinstance(module, nn.Conv2d) and module.groups == 1)


def find_layers(model: nn.Module, example_input: torch.Tensor, prune_first: bool = False,
                prune_last: bool = True, exclude: tuple[str, ...] = ()) -> list[LayerInfo]:
    """The layers to prune, in execution order (measured with one forward pass on `example_input`).

    prune_first=False keeps the first prunable layer (the stem conv, a few input channels) dense; prune_last=False the
    last (the classifier). `exclude` lists module names to keep dense."""
    order: list[tuple[str, nn.Module, int]] = []
    seen: set[str] = set()
    hooks = []
    for name, module in model.named_modules():
        if is_prunable(module):
            def record(mod: nn.Module, _inputs: tuple, output: torch.Tensor, name: str = name) -> None:
                if name not in seen:
                    seen.add(name)
                    pixels = math.prod(output.shape[2:]) if output.dim() == 4 else math.prod(output.shape[1:-1])
                    order.append((name, mod, int(pixels)))
            hooks.append(module.register_forward_hook(record))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example_input)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    unknown = [e for e in exclude if e not in dict(model.named_modules())]
    if unknown:
        raise ValueError(f"exclude: no module named {', '.join(unknown)}")
    layers = [LayerInfo(n, m, p) for n, m, p in order]
    if not prune_first and layers:
        layers = layers[1:]
    if not prune_last and layers:
        layers = layers[:-1]
    return [lay for lay in layers if lay.name not in exclude]


def _unit_scores(weight: torch.Tensor, pattern: Pattern) -> tuple[np.ndarray, np.ndarray]:
    """RMS of each pruning unit and the number of weights in it (a partial last group holds fewer)."""
    if pattern.kind == "unstructured":
        scores = weight.detach().float().abs().reshape(-1).numpy()
        return scores, np.ones(scores.size)
    kernel = math.prod(weight.shape[2:]) if weight.dim() > 2 else 1
    g, cout = pattern.group, weight.shape[0]
    pairs = pair_scores(weight, g)  # [groups, Cin]
    rows = np.minimum(g, cout - g * np.arange(pairs.shape[0]))  # channels in each group
    sizes = np.repeat(rows * kernel, pairs.shape[1]).astype(np.float64)
    return (pairs.reshape(-1).numpy() / sizes).astype(np.float64) ** 0.5, sizes


def allocate(layers: list[LayerInfo], target: float, pattern: Pattern, mode: str = "uniform",
             max_layer_sparsity: float = 0.98) -> dict[str, float]:
    """Per-layer sparsity {name: fraction of that layer's units dropped}."""
    if mode not in ALLOCATIONS:
        raise ValueError(f"allocation must be one of {ALLOCATIONS}, got {mode!r}")
    if not 0.0 <= target < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {target}")
    if pattern.kind == "nm":
        if mode != "uniform":
            raise ValueError("N:M fixes every layer's sparsity: use allocation 'uniform'")
        return {lay.name: float(pattern.fixed_sparsity or 0.0) for lay in layers}
    if mode == "uniform" or target == 0.0:
        return {lay.name: target for lay in layers}
    keys, owners, sizes, counts = [], [], [], []
    mean_pixels = float(np.mean([lay.pixels for lay in layers]))
    for i, lay in enumerate(layers):
        scores, size = _unit_scores(lay.weight, pattern)
        if mode == "flops":
            scores = scores / math.sqrt(lay.pixels / mean_pixels)
        keys.append(scores)
        owners.append(np.full(scores.size, i))
        sizes.append(size)
        counts.append(scores.size)
    key = np.concatenate(keys)
    owner = np.concatenate(owners)
    unit_size = np.concatenate(sizes)
    order = np.argsort(key, kind="stable")
    weights_total = sum(lay.weight.numel() for lay in layers)
    budget = target * weights_total
    dropped = [0] * len(layers)
    caps = [int(max_layer_sparsity * c) for c in counts]
    removed = 0.0
    for unit in order:
        if removed >= budget:
            break
        i = int(owner[unit])
        if dropped[i] >= caps[i]:
            continue
        dropped[i] += 1
        removed += unit_size[unit]
    return {lay.name: dropped[i] / counts[i] for i, lay in enumerate(layers)}
