"""Masked fine-tuning under a pruning schedule, with resumable checkpoints.

A checkpoint holds the model state (dense weights and mask buffers), the optimizer state, the step, the RNG state and
the history; `train(..., resume=True)` continues from it and reaches the same weights as an uninterrupted run (the
data order is a function of the epoch, the learning rate a function of the step).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .bn import BN_TYPES
from .distill import Distiller
from .masked import MaskedModel
from .progress import Progress
from .schedule import Schedule

Batches = Callable[[int], Iterable[tuple[torch.Tensor, torch.Tensor]]]  # epoch -> (inputs, labels) batches


@dataclass
class TrainConfig:
    epochs: int = 1
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    optimizer: str = "sgd"  # "sgd" or "adam"
    checkpoint_every: int = 200  # steps
    seed: int = 0
    freeze_bn: bool = False  # BN layers in eval mode while training (running statistics from re-estimation)


@dataclass
class TrainResult:
    steps: int
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per epoch: loss, sparsity, metric


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', got {config.optimizer!r}")


def _cosine_lr(base: float, step: int, total: int) -> float:
    return 0.5 * base * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))


def save_checkpoint(path: str | os.PathLike, masked: MaskedModel, optimizer: torch.optim.Optimizer, step: int,
                    history: list[dict[str, Any]], config: TrainConfig, schedule: Schedule,
                    extra: dict[str, Any] | None = None) -> None:
    state = {"model": masked.model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
             "history": history, "config": asdict(config), "schedule": asdict(schedule),
             "targets": masked.targets, "pattern": asdict(masked.pattern), "rng": torch.get_rng_state(),
             **(extra or {})}
    tmp = Path(f"{path}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # a crash mid-write never leaves a truncated checkpoint


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    if not Path(path).exists():
        raise FileNotFoundError(f"resume: checkpoint {path} not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError) as e:
        raise ValueError(f"checkpoint {path}: cannot read ({e})") from e


def train(masked: MaskedModel, schedule: Schedule, batches: Batches, steps_per_epoch: int, config: TrainConfig,
          checkpoint: str | os.PathLike | None = None, resume: bool = False,
          evaluate: Callable[[nn.Module], float] | None = None, progress: bool = True,
          loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
          distiller: Distiller | None = None, after_update: Callable[[], None] | None = None,
          extra_state: dict[str, Any] | None = None) -> TrainResult:
    """Fine-tune `masked.model` for config.epochs epochs while the schedule prunes it; masks end at the targets.

    With a `distiller` the loss is its distillation loss (teacher logits, optional features and labels) instead of
    `loss_fn`. `after_update` runs after every mask update (BN re-estimation). `extra_state` goes into checkpoints."""
    model = masked.model
    total = config.epochs * steps_per_epoch
    if schedule.total_steps != total:
        raise ValueError(f"schedule spans {schedule.total_steps} steps, training {total}")
    loss_fn = loss_fn or nn.functional.cross_entropy
    optimizer = _optimizer(model, config)
    step, history = 0, []
    torch.manual_seed(config.seed)
    if resume:
        if checkpoint is None or not Path(checkpoint).exists():
            raise FileNotFoundError(f"resume: checkpoint {checkpoint} not found")
        state = load_checkpoint(checkpoint)
        if state["targets"] != masked.targets or state["schedule"] != asdict(schedule):
            raise ValueError(f"checkpoint {checkpoint}: saved for other targets or schedule; start afresh without "
                             f"resume")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, history = int(state["step"]), list(state["history"])
        torch.set_rng_state(state["rng"])
    bar = Progress(total, "sparsify", enabled=progress)
    bar.update(step)
    _train_mode(model, config.freeze_bn)
    running, seen, agree = 0.0, 0, 0.0
    while step < total:
        epoch = step // steps_per_epoch
        skip = step - epoch * steps_per_epoch
        for index, (inputs, labels) in enumerate(batches(epoch)):
            if index < skip:
                continue
            if step >= (epoch + 1) * steps_per_epoch or step >= total:
                break
            if schedule.updates_at(step):
                masked.update(schedule.fraction(step))
                if after_update is not None:
                    after_update()
                    _train_mode(model, config.freeze_bn)
            for group in optimizer.param_groups:
                group["lr"] = _cosine_lr(config.lr, step, total)
            optimizer.zero_grad(set_to_none=True)
            outputs = model(inputs)
            loss = distiller.loss(inputs, outputs, labels) if distiller is not None else loss_fn(outputs, labels)
            loss.backward()
            optimizer.step()
            masked.zero_pruned()
            step += 1
            running, seen = running + loss.item(), seen + 1
            if distiller is not None:
                agree += distiller.last_agreement
            shown = f" agreement {agree / seen:.1%}" if distiller is not None else ""
            bar.update(1, f"loss {running / seen:.4f}{shown} sparsity {masked.sparsity():.1%}")
            if checkpoint is not None and step % config.checkpoint_every == 0:
                save_checkpoint(checkpoint, masked, optimizer, step, history, config, schedule, extra_state)
        else:
            if step < (epoch + 1) * steps_per_epoch and step < total:
                raise ValueError(f"epoch {epoch} gave fewer batches than steps_per_epoch = {steps_per_epoch}")
        row: dict[str, Any] = {"epoch": epoch + 1, "step": step, "loss": running / max(seen, 1),
                               "sparsity": masked.sparsity()}
        if distiller is not None:
            row["train_agreement"] = agree / max(seen, 1)
        if evaluate is not None:
            row["metric"] = evaluate(model)
            _train_mode(model, config.freeze_bn)
        history.append(row)
        running, seen, agree = 0.0, 0, 0.0
        if checkpoint is not None:
            save_checkpoint(checkpoint, masked, optimizer, step, history, config, schedule, extra_state)
    bar.close()
    if total == 0 or schedule.kind == "srste":
        masked.update(1.0)  # one-shot without training, or SR-STE's last word from the dense weights
        if after_update is not None:
            after_update()
    return TrainResult(step, history)


def _train_mode(model: nn.Module, freeze_bn: bool) -> None:
    model.train()
    if freeze_bn:
        for m in model.modules():
            if isinstance(m, BN_TYPES):
                m.eval()
