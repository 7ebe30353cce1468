"""Whole-network channel rearrangement: permute each channel space so that channels with similar importance
patterns share a group of G, then apply the permutation everywhere the space is read or written.

Importance of output channel c in a space: for each producing layer p, the squared norm of its weights per input
channel, ||W_p[c, i, :]||^2, normalised by the producer's total (producers weigh equally), concatenated over
producers: a vector x_c. A group's pair scores are S = sum of its channels' x_c; pruning at sparsity s keeps the pairs
above a threshold tau. The search maximises the kept energy sum(max(S - tau, 0)) (tau from the current grouping):
a greedy start (seed = strongest free channel, add the G - 1 most similar by cosine) then rounds of the best
disjoint pairwise swaps between groups. Zero run-time cost; the network computes the same function (up to float
summation order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from .channels import ChannelGraph, Layout, analyze


@dataclass
class SpaceReport:
    channels: int
    producers: list[str]
    frozen: list[str]
    kept_energy_before: float = 0.0  # fraction of producer energy kept by group pruning at `sparsity`, identity order
    kept_energy_after: float = 0.0  # the same after the permutation
    swaps: int = 0


@dataclass
class RearrangeReport:
    group: int
    sparsity: float
    spaces: list[SpaceReport] = field(default_factory=list)

    @property
    def permuted(self) -> int:
        return sum(1 for s in self.spaces if not s.frozen)

    def summary(self) -> str:
        moved = [s for s in self.spaces if not s.frozen]
        if not moved:
            return "rearrangement: no channel space could be permuted"
        before = sum(s.kept_energy_before * s.channels for s in moved) / sum(s.channels for s in moved)
        after = sum(s.kept_energy_after * s.channels for s in moved) / sum(s.channels for s in moved)
        return (f"rearrangement G={self.group} at {self.sparsity:.0%}: {len(moved)} of {len(self.spaces)} channel "
                f"spaces permuted; group-pruned kept weight energy {before:.3f} -> {after:.3f} (channel-weighted mean)")


def _channel_importance(modules: dict[str, nn.Module], producers: list[str], channels: int) -> torch.Tensor:
    parts = []
    for name in producers:
        w = modules[name].weight.detach().float()
        x = w.reshape(w.shape[0], w.shape[1], -1).pow(2).sum(dim=2)  # [C, Cin]
        parts.append(x / x.sum().clamp_min(1e-30))
    return torch.cat(parts, dim=1) if parts else torch.zeros(channels, 1)


def _kept(scores: torch.Tensor, sparsity: float) -> tuple[float, float]:
    """(kept fraction of the total, threshold tau) when the `sparsity` fraction of the entries is dropped."""
    flat = scores.reshape(-1)
    drop = int(round(sparsity * flat.numel()))
    if drop == 0:
        return 1.0, float("-inf")
    ordered = torch.sort(flat).values
    total = float(flat.sum()) or 1.0
    return float(ordered[drop:].sum()) / total, float(ordered[drop - 1])


def _greedy_groups(x: torch.Tensor, group: int, real: int) -> list[list[int]]:
    """Groups of `group` channel indices; rows >= real are zero padding, put with the leftover channels."""
    n = x.shape[0]
    unit = x / x.norm(dim=1, keepdim=True).clamp_min(1e-30)
    norms = x.norm(dim=1)
    free = torch.zeros(n, dtype=torch.bool)
    free[:real] = True
    groups = []
    while int(free.sum()) >= group:
        seed = int(torch.where(free, norms, torch.full_like(norms, -1.0)).argmax())
        free[seed] = False
        sim = torch.where(free, unit @ unit[seed], torch.full((n,), -2.0))
        members = [seed] + sim.topk(group - 1).indices.tolist()
        free[members] = False
        groups.append(members)
    if real < n:
        groups.append(torch.nonzero(free).reshape(-1).tolist() + list(range(real, n)))
    return groups


def _refine(x: torch.Tensor, groups: list[list[int]], real: int, sparsity: float, rounds: int = 30,
            chunk: int = 64, candidates: int = 96) -> tuple[list[list[int]], int]:
    """Rounds of the best disjoint pairwise swaps between groups, each channel trying `candidates` partners drawn
    at random (seeded) per round; returns the groups and the number of swaps."""
    n, k = x.shape
    generator = torch.Generator().manual_seed(0)
    group_of = torch.empty(n, dtype=torch.long)
    for g, members in enumerate(groups):
        group_of[members] = g
    swaps = 0
    for _ in range(rounds):
        scores = torch.stack([x[m].sum(dim=0) for m in groups])  # [groups, K]
        _, tau = _kept(scores, sparsity)
        if not math.isfinite(tau):
            break
        base = (scores - tau).clamp_min(0).sum(dim=1)  # [groups]
        gs = scores[group_of]  # [n, K]: the score row of each channel's group
        best_gain = torch.zeros(n)
        best_j = torch.full((n,), -1, dtype=torch.long)
        pool = torch.randperm(real, generator=generator)[:candidates] if real > candidates else torch.arange(real)
        for start in range(0, real, chunk):
            i = torch.arange(start, min(start + chunk, real))
            delta = x[pool][None, :, :] - x[i][:, None, :]  # [c, pool, K]: x_j - x_i
            new_a = (gs[i][:, None, :] + delta - tau).clamp_min(0).sum(dim=2)
            new_b = (gs[pool][None, :, :] - delta - tau).clamp_min(0).sum(dim=2)
            gain = new_a + new_b - base[group_of[i]][:, None] - base[group_of[pool]][None, :]
            gain[group_of[i][:, None] == group_of[pool][None, :]] = 0.0
            value, j = gain.max(dim=1)
            best_gain[i], best_j[i] = value, pool[j]
        used: set[int] = set()
        applied = 0
        for i in torch.argsort(best_gain, descending=True).tolist():
            if best_gain[i] <= 1e-12:
                break
            j = int(best_j[i])
            ga, gb = int(group_of[i]), int(group_of[j])
            if ga in used or gb in used:
                continue
            used.update((ga, gb))
            groups[ga][groups[ga].index(i)] = j
            groups[gb][groups[gb].index(j)] = i
            group_of[i], group_of[j] = gb, ga
            applied += 1
        swaps += applied
        if applied == 0 and real <= candidates:
            break
    return groups, swaps


def find_permutation(x: torch.Tensor, group: int, sparsity: float, rounds: int = 30) -> tuple[torch.Tensor, int]:
    """A permutation of the rows of x (new position -> old channel) grouping similar channels; and the swap count."""
    real = x.shape[0]
    n = -(-real // group) * group
    padded = torch.zeros(n, x.shape[1])
    padded[:real] = x
    groups = _greedy_groups(padded, group, real)
    groups, swaps = _refine(padded, groups, real, sparsity, rounds)
    # the group holding the padding goes last so the padding falls past the last real channel
    groups.sort(key=lambda m: any(c >= real for c in m))
    order = [c for members in groups for c in sorted(members) if c < real]
    return torch.tensor(order, dtype=torch.long), swaps


def _layout_permutation(layout: Layout, perms: dict[int, torch.Tensor]) -> torch.Tensor:
    parts, offset = [], 0
    for space, channels in layout:
        perm = perms.get(space, torch.arange(channels))
        parts.append(perm + offset)
        offset += channels
    return torch.cat(parts)


def _permute_(tensor: torch.Tensor, dim: int, perm: torch.Tensor) -> None:
    tensor.data = tensor.data.index_select(dim, perm).contiguous()


@torch.no_grad()
def apply_permutations(model: nn.Module, graph: ChannelGraph, perms: dict[int, torch.Tensor]) -> None:
    """Permute the parameters of `model` in place: producers' outputs, channelwise modules, consumers' inputs."""
    modules = dict(model.named_modules())
    for space, perm in perms.items():
        for name in graph.spaces[space].producers:
            mod = modules[name]
            _permute_(mod.weight, 0, perm)
            if getattr(mod, "bias", None) is not None:
                _permute_(mod.bias, 0, perm)
    for name, layout in graph.module_layout.items():
        if not any(s in perms for s, _ in layout):
            continue
        perm = _layout_permutation(layout, perms)
        mod = modules[name]
        for tensor in list(mod.parameters(recurse=False)) + list(mod.buffers(recurse=False)):
            if tensor.dim() >= 1 and tensor.shape[0] == perm.numel():
                _permute_(tensor, 0, perm)
    for name, layout in graph.consumers:
        if any(s in perms for s, _ in layout):
            _permute_(modules[name].weight, 1, _layout_permutation(layout, perms))


def rearrange(model: nn.Module, example_input: torch.Tensor, group: int = 4, sparsity: float = 0.5,
              rounds: int = 30) -> RearrangeReport:
    """Permute `model`'s channels in place for group pruning at `sparsity` with groups of `group`."""
    if any(hasattr(m, "parametrizations") for m in model.modules()):
        raise ValueError("rearrange the dense model before masks are attached (it has parametrizations)")
    graph = analyze(model, example_input)
    modules = dict(model.named_modules())
    report = RearrangeReport(group, sparsity)
    perms: dict[int, torch.Tensor] = {}
    for space_id, space in graph.spaces.items():
        entry = SpaceReport(space.size, list(space.producers), sorted(set(space.frozen)))
        report.spaces.append(entry)
        if space.frozen or group == 1:
            continue
        x = _channel_importance(modules, space.producers, space.size)
        ident = torch.arange(space.size)
        entry.kept_energy_before = _kept(_group_scores(x, ident, group), sparsity)[0]
        perm, entry.swaps = find_permutation(x, group, sparsity, rounds)
        entry.kept_energy_after = _kept(_group_scores(x, perm, group), sparsity)[0]
        if entry.kept_energy_after < entry.kept_energy_before:  # the search is a heuristic: never make it worse
            perm, entry.kept_energy_after = ident, entry.kept_energy_before
        if not torch.equal(perm, ident):
            perms[space_id] = perm
    apply_permutations(model, graph, perms)
    return report


def _group_scores(x: torch.Tensor, perm: torch.Tensor, group: int) -> torch.Tensor:
    rows = x[perm]
    n = -(-rows.shape[0] // group) * group
    padded = torch.zeros(n, rows.shape[1])
    padded[:rows.shape[0]] = rows
    return padded.reshape(n // group, group, -1).sum(dim=1)
