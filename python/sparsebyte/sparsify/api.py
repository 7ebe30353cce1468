"""`sparsify()`: a dense PyTorch model in, the same model with masks in the engine's pattern out.

    from sparsebyte.sparsify import api
    result = api.sparsify(model, example_input, api.Options(sparsity=0.7, pattern=Pattern("group", group=4),
                          rearrange=True, schedule="gradual", train=TrainConfig(epochs=2)),
                          batches=lambda epoch: loader, steps_per_epoch=len(loader))
    result.export("out/")  # model.onnx for `sparsebyte convert`, model.pt for `sparsebyte check`, masks.pt
"""

from __future__ import annotations

import copy
import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
from torch import nn

from . import export as export_mod
from .allocate import allocate, find_layers
from .bn import Images, reestimate_bn
from .distill import DistillConfig, Distiller
from .masked import MaskedModel
from .masks import Pattern
from .rearrange import RearrangeReport, rearrange
from .reconstruct import ReconstructConfig, allocate_by_error, error_curves, reconstruct
from .schedule import Schedule
from .train import Batches, TrainConfig, load_checkpoint, train


@dataclass
class Options:
    sparsity: float = 0.5  # fraction of zero weights over the pruned layers (N:M: set by N:M)
    pattern: Pattern = field(default_factory=Pattern)
    allocation: str = "uniform"  # "uniform", "global", "flops", "error", "error-macs" (last two: calibration images)
    prune_first: bool = False  # prune the first conv/FC (stem) too
    prune_last: bool = True  # prune the last conv/FC (classifier) too
    exclude: tuple[str, ...] = ()  # module names kept dense
    rearrange: bool = False  # permute channels first (group pattern)
    schedule: str = "oneshot"  # "oneshot", "gradual", "srste"
    srste_lambda: float = 2e-4  # SR-STE's decay of the pruned weights
    update_every: int = 50  # steps between mask updates (gradual, srste)
    prune_fraction: float = 0.6  # gradual: share of the steps spent ramping the sparsity
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=0))
    distill: DistillConfig | None = None  # None: the loss is loss_fn (cross-entropy on labels)
    bn_passes: int = 1  # BN re-estimation sweeps (one is exact; after every mask update)
    bn_relative: bool = False  # apply only the shift pruning caused, measured against the dense model (bn.py)
    bn_reestimate: bool = True  # re-estimate BN statistics on the calibration images (after every mask update)
    reconstruct: ReconstructConfig | None = None  # layer-wise reconstruction on the calibration images (oneshot)
    error_grid: tuple[float, ...] = tuple(i / 20 for i in range(20))  # sparsities tried by allocation "error"


@dataclass
class Result:
    model: nn.Module  # masks baked in: plain weights with zeros
    masks: dict[str, torch.Tensor]
    pattern: Pattern
    targets: dict[str, float]
    example_input: torch.Tensor
    rearrangement: RearrangeReport | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    reconstruction: dict[str, dict[str, float]] = field(default_factory=dict)  # per layer: error, magnitude_error
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def sparsity(self) -> float:
        total = sum(m.numel() for m in self.masks.values())
        return float(sum(int((m == 0).sum()) for m in self.masks.values()) / max(total, 1))

    def layer_table(self) -> list[dict[str, Any]]:
        return export_mod.layer_table(self.model, self.masks)

    def export(self, out_dir: str | os.PathLike, onnx: bool = True) -> dict[str, str]:
        meta = {"options": self.options, "sparsity": self.sparsity, "history": self.history}
        if self.rearrangement is not None:
            meta["rearrangement"] = self.rearrangement.summary()
        return export_mod.export(self.model, self.masks, self.pattern, out_dir, self.example_input, meta, onnx)


def sparsify(model: nn.Module, example_input: torch.Tensor, options: Options, batches: Batches | None = None,
             steps_per_epoch: int = 0, evaluate: Any = None, checkpoint: str | os.PathLike | None = None,
             resume: bool = False, progress: bool = True, teacher: nn.Module | str | None = None,
             calibration: Images | None = None) -> Result:
    """Prune `model` in place (rearrange, allocate, mask, fine-tune per the schedule) and bake the masks.

    teacher: a module, or "dense" for a frozen copy of `model` as it is when pruning starts (after rearrangement);
    needed when options.distill is set (default "dense" then). calibration: batches of inputs (or a callable giving
    them) on which every BatchNorm is re-estimated after every mask update and once at the end."""
    if not 0.0 <= options.sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {options.sparsity}")
    epochs = options.train.epochs if batches is not None else 0
    if options.train.epochs > 0 and batches is None:
        raise ValueError(f"{options.train.epochs} training epochs need training batches")
    if options.schedule != "oneshot" and epochs == 0:
        raise ValueError(f"schedule {options.schedule!r} needs training (epochs > 0 and batches)")
    if options.rearrange and options.pattern.kind != "group":
        raise ValueError("rearrangement applies to the group pattern")
    by_error = options.allocation in ("error", "error-macs")
    if options.reconstruct is not None or by_error:
        if options.pattern.kind != "group":
            raise ValueError("reconstruction and allocation 'error' apply to the group pattern")
        if options.schedule != "oneshot":
            raise ValueError("reconstruction and allocation 'error' need the oneshot schedule")
        if calibration is None:
            raise ValueError("reconstruction and allocation 'error' need calibration images")
    report = None
    if options.distill is not None and teacher is None:
        teacher = "dense"
    if teacher is not None and options.distill is None:
        options = replace(options, distill=DistillConfig())
    saved: dict[str, Any] = {}
    if resume:
        if checkpoint is None:
            raise ValueError("resume needs a checkpoint path")
        saved = load_checkpoint(checkpoint)
        targets = saved["targets"]  # weights (already rearranged) come back in train()
    else:
        if options.rearrange:
            report = rearrange(model, example_input, options.pattern.group, options.sparsity)
        layers = find_layers(model, example_input, options.prune_first, options.prune_last, options.exclude)
        if by_error:  # "error-macs": the target is a fraction of the pruned layers' MACs (what the engine's speed
            # follows), not of their weights (the 1000-class classifier: 38% of MobileNetV2's weights, 0.5% of its MACs)
            grid = list(options.error_grid)
            curves = error_curves(model, [lay.name for lay in layers], options.pattern, calibration,  # type: ignore
                                  grid, options.reconstruct)
            sizes = {lay.name: lay.macs if options.allocation == "error-macs" else lay.weight.numel()
                     for lay in layers}
            targets = allocate_by_error(curves, sizes, grid, options.sparsity)
        else:
            targets = allocate(layers, options.sparsity, options.pattern, options.allocation)
    extra: dict[str, Any] = {}
    dense_copy: nn.Module | None = None
    if isinstance(teacher, str):
        if teacher != "dense":
            raise ValueError(f"teacher must be a module or 'dense', got {teacher!r}")
        dense_teacher = copy.deepcopy(model).eval()
        if resume:
            if "teacher" not in saved:
                raise ValueError(f"checkpoint {checkpoint}: no teacher saved (run started without distillation)")
            dense_teacher.load_state_dict(saved["teacher"])  # the rearranged dense model the run started from
        extra["teacher"] = dense_teacher.state_dict()
        teacher = dense_copy = dense_teacher
    preset, rec_report = None, {}
    if options.reconstruct is not None and not resume:
        dense_ref = dense_copy if dense_copy is not None else copy.deepcopy(model).eval()
        preset, rec_report = reconstruct(model, dense_ref, targets, options.pattern, calibration,  # type: ignore
                                         options.reconstruct)
    masked = MaskedModel(model, targets, options.pattern,
                         options.srste_lambda if options.schedule == "srste" else 0.0, preset=preset)
    config = TrainConfig(**{**asdict(options.train), "epochs": epochs})
    schedule = Schedule(options.schedule, epochs * steps_per_epoch, options.prune_fraction, options.update_every)
    distiller = Distiller(teacher, model, options.distill or DistillConfig()) if teacher is not None else None
    reference = None
    if options.bn_relative and calibration is not None:
        reference = teacher if teacher is not None else copy.deepcopy(model).eval()

    def recalibrate() -> None:
        if calibration is not None and options.bn_reestimate:
            reestimate_bn(model, calibration, options.bn_passes, reference=reference)

    result = train(masked, schedule, batches or (lambda epoch: []), steps_per_epoch, config, checkpoint, resume,
                   evaluate, progress, distiller=distiller, after_update=recalibrate if calibration else None,
                   extra_state=extra)
    if calibration is not None and options.bn_reestimate and epochs > 0:
        recalibrate()  # train-mode BN leaves moving averages of the last batches: end on exact statistics
    masks = masked.bake()
    model.eval()
    opts = asdict(options)
    return Result(model, masks, options.pattern, targets, example_input, report, result.history, options=opts,
                  reconstruction=rec_report)
