"""Masks attached to a model: a parametrization per pruned layer keeps the dense weight and a `mask` buffer, and the
forward pass sees weight * mask.

Plain mode: pruned weights get no gradient and are zeroed at each mask update, so masks only grow sparser.
SR-STE mode ("Learning N:M Fine-grained Structured Sparse Neural Networks From Scratch"): the forward pass uses the
masked weight, the backward pass hands the gradient straight through to the dense weight, plus the sparse-refined
term lambda * (1 - mask) * w that decays the pruned weights; masks are recomputed from the dense weights as training
goes, so pruned weights can come back.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from .masks import Pattern, make_mask


class WeightMask(nn.Module):
    """The parametrization: weight -> weight * mask (straight-through in SR-STE training)."""

    def __init__(self, mask: torch.Tensor, straight_through: bool = False):
        super().__init__()
        self.register_buffer("mask", mask)
        self.straight_through = straight_through

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        if self.straight_through and self.training:
            # value: weight * mask exactly (mask is 0/1); gradient: identity to the dense weight
            return weight - (weight * (1.0 - self.mask)).detach()
        return weight * self.mask


class MaskedModel:
    """Masks on `layers` (module names) of `model`, in `pattern`, at per-layer target sparsities."""

    def __init__(self, model: nn.Module, targets: dict[str, float], pattern: Pattern, srste_lambda: float = 0.0,
                 preset: dict[str, torch.Tensor] | None = None):
        """preset: the final masks, already chosen (layer-wise reconstruction): update(1.0) installs them instead of
        ranking magnitudes."""
        self.model = model
        self.preset = preset
        self.targets = dict(targets)
        self.pattern = pattern
        self.srste_lambda = srste_lambda
        modules = dict(model.named_modules())
        missing = [n for n in targets if n not in modules]
        if missing:
            raise ValueError(f"no module named {', '.join(missing)} in {type(model).__name__}")
        self.layers: dict[str, nn.Module] = {n: modules[n] for n in targets}
        for name, module in self.layers.items():
            if parametrize.is_parametrized(module, "weight"):
                raise ValueError(f"{name}: weight already parametrized")
            mask = torch.ones_like(module.weight, dtype=torch.float32)
            parametrize.register_parametrization(module, "weight", WeightMask(mask, srste_lambda > 0))
            if srste_lambda > 0:
                self._add_srste_hook(module)

    def _add_srste_hook(self, module: nn.Module) -> None:
        param = module.parametrizations.weight
        original = param.original

        def hook(grad: torch.Tensor) -> torch.Tensor:
            return grad + self.srste_lambda * (1.0 - param[0].mask) * original.detach()

        original.register_hook(hook)

    def dense_weight(self, name: str) -> torch.Tensor:
        return self.layers[name].parametrizations.weight.original

    def mask(self, name: str) -> torch.Tensor:
        return self.layers[name].parametrizations.weight[0].mask

    def masks(self) -> dict[str, torch.Tensor]:
        return {name: self.mask(name).clone() for name in self.layers}

    @torch.no_grad()
    def update(self, fraction: float) -> None:
        """Masks at `fraction` of each layer's target sparsity (N:M: N steps from M down to its target), from the
        dense weights' magnitudes. In plain mode the pruned weights are zeroed."""
        for name in self.layers:
            pattern = self.pattern
            if self.preset is not None and fraction >= 1.0:
                mask = self.preset[name].to(self.mask(name).dtype)
            elif pattern.kind == "nm":
                n = round(pattern.m - fraction * (pattern.m - pattern.n))
                mask = make_mask(self.dense_weight(name), 0.0, Pattern("nm", n=min(n, pattern.m - 1), m=pattern.m)) \
                    if n < pattern.m else torch.ones_like(self.mask(name))
            else:
                mask = make_mask(self.dense_weight(name), self.targets[name] * fraction, pattern)
            self.mask(name).copy_(mask)
            if self.srste_lambda == 0:
                self.dense_weight(name).mul_(mask)

    @torch.no_grad()
    def zero_pruned(self) -> None:
        """Keep pruned weights at zero after an optimizer step (momentum and weight decay would move them)."""
        if self.srste_lambda == 0:
            for name in self.layers:
                self.dense_weight(name).mul_(self.mask(name))

    def sparsity(self) -> float:
        """Fraction of zeros in the masks of the pruned layers."""
        total = sum(self.mask(n).numel() for n in self.layers)
        return float(sum((self.mask(n) == 0).sum().item() for n in self.layers) / max(total, 1))

    @torch.no_grad()
    def bake(self) -> dict[str, torch.Tensor]:
        """Remove the parametrizations leaving weight * mask as plain parameters; returns the masks."""
        masks = self.masks()
        for module in self.layers.values():
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        return masks
