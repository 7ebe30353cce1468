"""Pruning schedules: the fraction of the final sparsity in force at each training step.

- "oneshot": everything at step 0, then fine-tuning (if any steps).
- "gradual": the cubic schedule of Zhu & Gupta ("To prune, or not to prune", 2017): s_t = s_f (1 - (1 - t/T)^3)
  over the first `prune_fraction` of the steps, masks updated every `update_every` steps, then fine-tuning at s_f.
- "srste": masks at the final sparsity from step 0, recomputed from the dense weights every `update_every` steps
  (SR-STE training keeps the pruned weights alive and lets them come back).
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEDULES = ("oneshot", "gradual", "srste")


def cubic(step: int, prune_steps: int) -> float:
    """Fraction of the final sparsity at `step` of a cubic ramp lasting `prune_steps` steps."""
    if prune_steps <= 0 or step >= prune_steps:
        return 1.0
    return 1.0 - (1.0 - max(step, 0) / prune_steps) ** 3


@dataclass(frozen=True)
class Schedule:
    kind: str = "gradual"
    total_steps: int = 0
    prune_fraction: float = 0.6  # gradual: the ramp's share of the steps
    update_every: int = 50

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.kind!r}")
        if self.update_every < 1:
            raise ValueError(f"update_every must be >= 1, got {self.update_every}")

    @property
    def prune_steps(self) -> int:
        return int(self.total_steps * self.prune_fraction) if self.kind == "gradual" else 0

    def fraction(self, step: int) -> float:
        return cubic(step, self.prune_steps) if self.kind == "gradual" else 1.0

    def updates_at(self, step: int) -> bool:
        """Whether the masks are recomputed before `step`."""
        if step == 0:
            return True
        if self.kind == "oneshot":
            return False
        if self.kind == "gradual":
            return step <= self.prune_steps and (step % self.update_every == 0 or step == self.prune_steps)
        return step % self.update_every == 0
