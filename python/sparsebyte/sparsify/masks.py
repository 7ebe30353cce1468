"""Masks in the engine's sparsity patterns (design.md), from importance scores.

A layer is a dense Conv2d (groups == 1) or a Linear, weight W[Cout, Cin, (kh, kw)]. Patterns:
- "group": output channels in groups of G consecutive channels share one input-channel mask; for a kxk conv a kept
  (group, input) pair keeps the whole kxk kernel. The unit of pruning is the (group, input) pair.
- "unstructured": every weight on its own (the upper bound on accuracy, no speed-up in the engine).
- "nm": N:M along input channels: for every output channel, each block of M consecutive input channels keeps its N
  strongest (input) kernels (2:4 is the usual case).
Scores are squared L2 norms (a kxk kernel counts as one entry of a pair), so "group" with G = 1 ranks like kernel-level
magnitude pruning.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

PATTERNS = ("group", "unstructured", "nm")
GROUP_SIZES = (1, 2, 4, 8)


@dataclass(frozen=True)
class Pattern:
    kind: str = "group"
    group: int = 4  # G, for "group"
    n: int = 2  # N of N:M, for "nm"
    m: int = 4  # M of N:M, for "nm"

    def __post_init__(self) -> None:
        if self.kind not in PATTERNS:
            raise ValueError(f"pattern must be one of {PATTERNS}, got {self.kind!r}")
        if self.kind == "group" and self.group not in GROUP_SIZES:
            raise ValueError(f"group size G must be one of {GROUP_SIZES}, got {self.group}")
        if self.kind == "nm" and not 0 <= self.n < self.m:
            raise ValueError(f"N:M needs 0 <= N < M, got {self.n}:{self.m}")

    @property
    def fixed_sparsity(self) -> float | None:
        """N:M fixes the sparsity of a layer at 1 - N/M."""
        return 1.0 - self.n / self.m if self.kind == "nm" else None

    def describe(self) -> str:
        return {"group": f"group G={self.group}", "unstructured": "unstructured",
                "nm": f"{self.n}:{self.m} along input channels"}[self.kind]


def nm_for_sparsity(sparsity: float, m: int = 4) -> Pattern:
    """The N:M pattern with the given M closest to `sparsity` (2:4 for 0.5)."""
    n = min(max(round((1.0 - sparsity) * m), 0), m - 1)
    return Pattern("nm", n=n, m=m)


def _as_3d(weight: torch.Tensor) -> torch.Tensor:
    """[Cout, Cin, kh*kw] (a Linear weight is a 1x1 kernel)."""
    return weight.detach().float().reshape(weight.shape[0], weight.shape[1], -1)


def pair_scores(weight: torch.Tensor, group: int) -> torch.Tensor:
    """Squared L2 norm of each (group, input channel) pair: [ceil(Cout / G), Cin]. A partial last group is padded
    with zeros."""
    w = _as_3d(weight)
    cout, cin, _ = w.shape
    groups = -(-cout // group)
    padded = torch.zeros(groups * group, cin, w.shape[2], dtype=w.dtype)
    padded[:cout] = w
    return padded.reshape(groups, group, cin, -1).pow(2).sum(dim=(1, 3))


def _keep_top(scores: torch.Tensor, keep: int) -> torch.Tensor:
    """Boolean mask (shape of scores) keeping the `keep` largest; ties break by position (stable, deterministic)."""
    flat = scores.reshape(-1)
    kept = torch.zeros(flat.numel(), dtype=torch.bool)
    keep = min(max(keep, 0), flat.numel())
    if keep:
        order = torch.sort(flat, descending=True, stable=True).indices
        kept[order[:keep]] = True
    return kept.reshape(scores.shape)


def expand_pairs(kept: torch.Tensor, weight_shape: torch.Size, group: int) -> torch.Tensor:
    """[groups, Cin] pair mask -> a 0/1 float mask of `weight_shape`."""
    cout, cin = weight_shape[0], weight_shape[1]
    rows = kept.repeat_interleave(group, dim=0)[:cout]  # [Cout, Cin]
    shape = (cout, cin) + (1,) * (len(weight_shape) - 2)
    return rows.reshape(shape).expand(weight_shape).float().contiguous()


def group_mask(weight: torch.Tensor, sparsity: float, group: int = 4) -> torch.Tensor:
    """Drop the `sparsity` fraction of (group, input) pairs with the smallest norm."""
    scores = pair_scores(weight, group)
    keep = scores.numel() - int(round(sparsity * scores.numel()))
    return expand_pairs(_keep_top(scores, keep), weight.shape, group)


def unstructured_mask(weight: torch.Tensor, sparsity: float) -> torch.Tensor:
    scores = weight.detach().float().abs()
    keep = scores.numel() - int(round(sparsity * scores.numel()))
    return _keep_top(scores, keep).float()


def nm_mask(weight: torch.Tensor, n: int, m: int) -> torch.Tensor:
    """Per output channel, each block of M consecutive input channels keeps its N strongest kernels; a partial last
    block keeps round(len * N / M)."""
    scores = pair_scores(weight, 1)  # [Cout, Cin]
    cout, cin = scores.shape
    kept = torch.zeros(cout, cin, dtype=torch.bool)
    for start in range(0, cin, m):
        block = scores[:, start:start + m]
        keep = n if block.shape[1] == m else int(round(block.shape[1] * n / m))
        if keep:
            # the same stable tie-break as _keep_top, one row at a time
            order = torch.sort(block, dim=1, descending=True, stable=True).indices[:, :keep]
            kept[:, start:start + m].scatter_(1, order, True)
    return expand_pairs(kept, weight.shape, 1)


def make_mask(weight: torch.Tensor, sparsity: float, pattern: Pattern) -> torch.Tensor:
    """A 0/1 mask of weight's shape in `pattern` at `sparsity` (N:M ignores `sparsity`: it fixes its own)."""
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
    if sparsity == 0.0 and pattern.kind != "nm":
        return torch.ones_like(weight, dtype=torch.float32)
    if pattern.kind == "group":
        return group_mask(weight, sparsity, pattern.group)
    if pattern.kind == "unstructured":
        return unstructured_mask(weight, sparsity)
    return nm_mask(weight, pattern.n, pattern.m)


def follows_pattern(mask: torch.Tensor, pattern: Pattern) -> bool:
    """Whether a 0/1 mask is expressible in `pattern` (used by tests and by the export's self-check)."""
    m = _as_3d(mask) != 0
    if pattern.kind == "unstructured":
        return True
    kernel_level = bool((m.all(dim=2) | ~m.any(dim=2)).all())  # each kxk kernel fully kept or fully dropped
    if not kernel_level:
        return False
    pairs = m.any(dim=2)  # [Cout, Cin]
    if pattern.kind == "group":
        g = pattern.group
        for start in range(0, pairs.shape[0], g):
            block = pairs[start:start + g]
            if not bool((block == block[:1]).all()):
                return False
        return True
    for start in range(0, pairs.shape[1], pattern.m):
        block = pairs[:, start:start + pattern.m]
        limit = pattern.n if block.shape[1] == pattern.m else int(round(block.shape[1] * pattern.n / pattern.m))
        if bool((block.sum(dim=1) > limit).any()):
            return False
    return True
