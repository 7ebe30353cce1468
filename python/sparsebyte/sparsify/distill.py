"""Distillation from the dense teacher: the training signal when there are no labels.

loss = alpha * CE(student, labels) [labeled data only]
     + (1 - alpha) * T^2 * KL(softmax(teacher / T) || softmax(student / T))    (Hinton et al. 2015)
     + feature_weight * mean over `feature_layers` of MSE(student feature, teacher feature) / var(teacher feature)

The teacher is the dense model as it is when pruning starts (after rearrangement, which does not change the function
but permutes channels: student and teacher features then line up channel for channel). It runs in eval mode under
no_grad. Feature layers are module names; "auto" picks the outputs of about `auto_features` evenly spaced BatchNorms
(the normalised, pre-activation features of blocks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .bn import bn_layers


@dataclass
class DistillConfig:
    temperature: float = 4.0
    alpha: float = 0.0  # weight of the label cross-entropy (labeled data); 1 - alpha goes to the KL term
    feature_weight: float = 0.0  # 0: logits only
    feature_layers: tuple[str, ...] = ("auto",)
    auto_features: int = 6


def resolve_feature_layers(model: nn.Module, config: DistillConfig) -> list[str]:
    if config.feature_weight <= 0:
        return []
    if tuple(config.feature_layers) != ("auto",):
        modules = dict(model.named_modules())
        missing = [n for n in config.feature_layers if n not in modules]
        if missing:
            raise ValueError(f"feature layers: no module named {', '.join(missing)}")
        return list(config.feature_layers)
    names = list(bn_layers(model))
    if not names:
        raise ValueError("feature matching 'auto' needs BatchNorm layers; name the layers instead")
    k = min(config.auto_features, len(names))
    return [names[round((i + 1) * len(names) / k) - 1] for i in range(k)]


class _Capture:
    def __init__(self, model: nn.Module, names: list[str]):
        self.out: dict[str, torch.Tensor] = {}
        modules = dict(model.named_modules())
        self.hooks = [modules[n].register_forward_hook(lambda m, i, o, n=n: self.out.__setitem__(n, o))
                      for n in names]


@dataclass
class Distiller:
    teacher: nn.Module
    student: nn.Module
    config: DistillConfig = field(default_factory=DistillConfig)

    def __post_init__(self) -> None:
        self.teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.layers = resolve_feature_layers(self.teacher, self.config)
        self._t = _Capture(self.teacher, self.layers)
        self._s = _Capture(self.student, self.layers)
        self.last_agreement = 0.0

    def teacher_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.teacher(inputs)

    def loss(self, inputs: torch.Tensor, outputs: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The distillation loss for a batch whose student outputs (from `self.student(inputs)`) are `outputs`."""
        target = self.teacher_logits(inputs)
        c = self.config
        t = c.temperature
        kl = nn.functional.kl_div(nn.functional.log_softmax(outputs / t, dim=1),
                                  nn.functional.log_softmax(target / t, dim=1), log_target=True,
                                  reduction="batchmean") * t * t
        loss = (1 - c.alpha) * kl
        if c.alpha > 0 and labels is not None and bool((labels >= 0).all()):
            loss = loss + c.alpha * nn.functional.cross_entropy(outputs, labels)
        if self.layers:
            feats = [nn.functional.mse_loss(self._s.out[n], self._t.out[n]) / (self._t.out[n].var() + 1e-6)
                     for n in self.layers]
            loss = loss + c.feature_weight * torch.stack(feats).mean()
        self.last_agreement = float((outputs.argmax(1) == target.argmax(1)).float().mean())
        return loss


def kl_to_teacher(student: nn.Module, teacher: nn.Module, inputs: torch.Tensor, temperature: float = 1.0) -> float:
    """Mean KL(teacher || student) on `inputs` (eval mode): the quantity distillation lowers."""
    was = student.training
    student.eval()
    with torch.no_grad():
        s, t = student(inputs), teacher(inputs)
    student.train(was)
    return float(nn.functional.kl_div(nn.functional.log_softmax(s / temperature, 1),
                                      nn.functional.log_softmax(t / temperature, 1), log_target=True,
                                      reduction="batchmean"))
