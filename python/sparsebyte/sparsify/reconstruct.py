"""Layer-wise reconstruction: prune each layer so that its output stays close to the dense model's, from a few
unlabeled images (OBS / SparseGPT-style, Frantar & Alistarh 2022, with the engine's group pattern).

For each pruned layer in execution order (a dense Conv2d or a Linear):
- X_s: the layer's inputs in the model being pruned (layers before it already pruned and reconstructed, so their
  errors are compensated here), X_t: the same layer's inputs in the dense model. A kxk conv's inputs are its im2col
  columns (Cin x kh*kw rows); a bias is a constant input row that is never pruned.
- Objective: min over the kept weights W' of ||W' X_s - W X_t||^2 + lambda ||W' - W||^2, with
  lambda = damp x mean(diag(X_s X_s^T)). The second term pulls weights the calibration images do not determine back
  to the dense ones (a least-squares fit on few images would otherwise shrink them to zero: the classifier sees one
  column per image). Its minimiser over all weights is W0 = (W X_t X_s^T + lambda W)(H)^-1 with
  H = X_s X_s^T + lambda I, and the objective is ||(W' - W0)||_H^2 + const.
- Mask and weights: SparseGPT's column sweep on W0 with H^-1 (its upper Cholesky factor), in blocks of columns.
  In each block the (group, input) pairs with the smallest OBS saliency sum_{rows r of the group, taps k}
  w_rk^2 / [H^-1]_kk^2 are dropped (all G rows of a group share the decision: the engine's pattern), and every
  dropped column's error is spread over the columns not yet visited (the optimal update for the remaining weights).
- `score="magnitude"`: the layer's masks from the weight magnitudes (masks.make_mask), then the kept weights of each
  group solved exactly by ridge least squares on H restricted to the kept inputs (rows of a group share a mask, so
  one solve per group).

Costs two forward passes (pruned and dense) up to each layer over the calibration images, plus a Cin x Cin Cholesky
per layer: a few CPU minutes for MobileNetV2 on 128 images of 224x224.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .bn import Images, _batches
from .masks import Pattern, expand_pairs, make_mask

SCORES = ("obs", "magnitude")


@dataclass
class ReconstructConfig:
    damp: float = 0.01  # lambda as a fraction of the mean of diag(X_s X_s^T)
    score: str = "obs"  # "obs": SparseGPT sweep with OBS saliency; "magnitude": magnitude masks + ridge refit
    block: int = 128  # columns per block of the sweep (rounded to whole kernels)
    max_columns: int = 32768  # per batch: im2col columns kept (random subset) for kxk convs

    def __post_init__(self) -> None:
        if self.score not in SCORES:
            raise ValueError(f"reconstruction score must be one of {SCORES}, got {self.score!r}")
        if self.damp <= 0:
            raise ValueError(f"damp must be > 0, got {self.damp}")


class _Stop(Exception):
    pass


def _columns(module: nn.Module, x: torch.Tensor, max_columns: int, gen: torch.Generator) -> torch.Tensor:
    """The layer's input as [features, samples] (im2col for a conv; a bias adds a row of ones)."""
    if isinstance(module, nn.Linear):
        cols = x.reshape(-1, x.shape[-1]).t()
    else:
        k, s, p, d = module.kernel_size, module.stride, module.padding, module.dilation
        if isinstance(p, str):
            raise ValueError(f"reconstruction: conv padding {p!r} is not supported")
        if math.prod(k) == 1 and s == (1, 1) and p == (0, 0):
            cols = x.transpose(0, 1).reshape(x.shape[1], -1)
        else:
            if module.padding_mode != "zeros":
                x = F.pad(x, [p[1], p[1], p[0], p[0]], mode=module.padding_mode)
                p = (0, 0)
            u = F.unfold(x, k, dilation=d, padding=p, stride=s)  # [N, Cin*kh*kw, L]
            cols = u.transpose(0, 1).reshape(u.shape[1], -1)
            if cols.shape[1] > max_columns:
                cols = cols[:, torch.randperm(cols.shape[1], generator=gen)[:max_columns]]
    cols = cols.double()
    if module.bias is not None:
        cols = torch.cat([cols, torch.ones(1, cols.shape[1], dtype=cols.dtype)])
    return cols


@torch.no_grad()
def _layer_stats(model: nn.Module, dense: nn.Module, name: str, images: Images, max_columns: int) \
        -> tuple[torch.Tensor, torch.Tensor, int]:
    """H = X_s X_s^T and C = X_s X_t^T (float64) for layer `name`, with the forward passes stopped at the layer."""
    mod_s, mod_t = dict(model.named_modules())[name], dict(dense.named_modules())[name]
    captured: dict[str, torch.Tensor] = {}

    def grab(key: str):
        def hook(_m: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            captured[key] = inputs[0].detach()
            raise _Stop
        return hook

    hooks = [mod_s.register_forward_pre_hook(grab("s")), mod_t.register_forward_pre_hook(grab("t"))]
    h = c = None
    n = 0
    try:
        for i, x in enumerate(_batches(images)):
            for net in (model, dense):
                try:
                    net(x)
                except _Stop:
                    pass
            if "s" not in captured or "t" not in captured:
                raise ValueError(f"reconstruction: layer {name} was not reached by the forward pass")
            gen_s, gen_t = torch.Generator().manual_seed(i), torch.Generator().manual_seed(i)
            xs = _columns(mod_s, captured.pop("s"), max_columns, gen_s)
            xt = _columns(mod_t, captured.pop("t"), max_columns, gen_t)  # same random columns as xs
            h = xs @ xs.t() if h is None else h.add_(xs @ xs.t())
            c = xs @ xt.t() if c is None else c.add_(xs @ xt.t())
            n += xs.shape[1]
    finally:
        for hk in hooks:
            hk.remove()
    if h is None or c is None:
        raise ValueError("reconstruction needs calibration images")
    return h, c, n


def _flat(weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    w = weight.detach().double().reshape(weight.shape[0], -1)
    return torch.cat([w, bias.detach().double()[:, None]], dim=1) if bias is not None else w


def _cholesky_inverse_upper(h: torch.Tensor) -> torch.Tensor:
    """Upper Cholesky factor of H^-1 (SparseGPT's Hinv), with extra damping if H is not positive definite."""
    extra = 0.0
    mean = float(h.diagonal().mean())
    for _ in range(6):
        try:
            hd = h + extra * torch.eye(len(h), dtype=h.dtype)
            inv = torch.cholesky_inverse(torch.linalg.cholesky(hd))
            return torch.linalg.cholesky(inv, upper=True)
        except torch.linalg.LinAlgError:
            extra = max(extra * 10, 1e-6 * mean)
    raise torch.linalg.LinAlgError("reconstruction: H is not positive definite even with extra damping")


def _sweep(w0: torch.Tensor, hinv: torch.Tensor, cin: int, taps: int, group: int, drop: int, block: int) \
        -> tuple[torch.Tensor, torch.Tensor]:
    """SparseGPT's sweep over the cin*taps pruned columns of w0 (extra columns, e.g. a bias, are never pruned but
    take the compensation). Drops exactly `drop` (group, input) pairs. Returns (weights, kept pairs [groups, cin])."""
    w = w0.clone()
    rows = w.shape[0]
    groups = -(-rows // group)
    kept = torch.ones(groups, cin, dtype=torch.bool)
    per_block = max(block // taps, 1)  # input channels per block
    starts = list(range(0, cin, per_block))
    done = 0
    for bi, c1 in enumerate(starts):
        c2 = min(c1 + per_block, cin)
        i1, i2 = c1 * taps, c2 * taps
        # pairs to drop in this block: proportional share of the total, exact at the end
        target = drop if bi == len(starts) - 1 else int(round(drop * c2 / cin))
        k = min(max(target - done, 0), groups * (c2 - c1))
        w1 = w[:, i1:i2].clone()
        hinv1 = hinv[i1:i2, i1:i2]
        d = hinv1.diagonal()
        sal = (w1.pow(2) / d.pow(2)).reshape(rows, c2 - c1, taps).sum(dim=2)  # [rows, channels]
        padded = torch.zeros(groups * group, c2 - c1, dtype=sal.dtype)
        padded[:rows] = sal
        pair = padded.reshape(groups, group, c2 - c1).sum(dim=1)  # [groups, channels]
        drop_block = torch.zeros(pair.numel(), dtype=torch.bool)
        if k:
            drop_block[torch.sort(pair.reshape(-1), stable=True).indices[:k]] = True
        drop_block = drop_block.reshape(pair.shape)
        kept[:, c1:c2] = ~drop_block
        col_drop = drop_block.repeat_interleave(group, dim=0)[:rows].repeat_interleave(taps, dim=1)  # [rows, i2-i1]
        err1 = torch.zeros_like(w1)
        for j in range(i2 - i1):
            col = w1[:, j]
            q = torch.where(col_drop[:, j], torch.zeros_like(col), col)
            e = (col - q) / hinv1[j, j]
            w1[:, j:] -= e[:, None] * hinv1[j, j:][None, :]
            w1[:, j] = q
            err1[:, j] = e
        w[:, i1:i2] = w1
        w[:, i2:] -= err1 @ hinv[i1:i2, i2:]
        done += k
    return w, kept


def _ridge_refit(w0: torch.Tensor, h: torch.Tensor, kept: torch.Tensor, cin: int, taps: int, group: int) \
        -> torch.Tensor:
    """min ||(W' - W0)||_H^2 over W' supported on each group's kept columns (plus any extra, unpruned columns)."""
    rows, total = w0.shape
    out = torch.zeros_like(w0)
    extra = torch.arange(cin * taps, total)
    for g in range(kept.shape[0]):
        r = slice(g * group, min((g + 1) * group, rows))
        cols = torch.cat([(kept[g].nonzero().flatten()[:, None] * taps + torch.arange(taps)).flatten(), extra])
        if cols.numel() == 0:
            continue
        # W'_S = W0 H[:, S] H[S, S]^-1  (projection of W0 onto the kept columns in the H inner product)
        rhs = w0[r] @ h[:, cols]
        out[r][:, cols] = torch.linalg.solve(h[cols][:, cols], rhs.t()).t()
    return out


@torch.no_grad()
def reconstruct_layer(module: nn.Module, h: torch.Tensor, c: torch.Tensor, sparsity: float, pattern: Pattern,
                      config: ReconstructConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """Prune `module` in place to `sparsity` (fraction of its (group, input) pairs) given H = X_s X_s^T and
    C = X_s X_t^T; returns (its 0/1 mask, {"error": relative output error, "magnitude_error": same for magnitude
    pruning without refit})."""
    if pattern.kind != "group":
        raise ValueError("reconstruction supports the group pattern")
    weight = module.weight
    bias = module.bias
    cout, cin = weight.shape[0], weight.shape[1]
    taps = math.prod(weight.shape[2:]) if weight.dim() > 2 else 1
    g = pattern.group
    w = _flat(weight, bias)
    lam = config.damp * float(h.diagonal()[:cin * taps].mean().clamp_min(1e-12))
    hd = h + lam * torch.eye(len(h), dtype=h.dtype)
    w0 = torch.linalg.solve(hd, (w @ c.t() + lam * w).t()).t()  # argmin ||W0 X_s - W X_t||^2 + lam ||W0 - W||^2
    groups = -(-cout // g)
    drop = int(round(sparsity * groups * cin))

    def err(wn: torch.Tensor) -> float:  # ||(wn - w0)||_H^2 relative to ||w0||_H^2 (the output energy)
        diff = wn - w0
        return float((diff @ hd * diff).sum() / (w0 @ hd * w0).sum().clamp_min(1e-30))

    mag = make_mask(weight.detach(), sparsity, pattern)
    mag_flat = mag.reshape(cout, -1)
    if bias is not None:
        mag_flat = torch.cat([mag_flat, torch.ones(cout, 1)], dim=1)
    info = {"magnitude_error": err(w * mag_flat.double())}
    if config.score == "obs":
        hinv = _cholesky_inverse_upper(hd)
        new, kept = _sweep(w0, hinv, cin, taps, g, drop, config.block)
    else:
        kept = mag.reshape(cout, cin, -1)[::g, :, 0] != 0
        new = _ridge_refit(w0, hd, kept, cin, taps, g)
    mask = expand_pairs(kept, weight.shape, g)
    flat_mask = mask.reshape(cout, -1).double()
    new[:, :cin * taps] *= flat_mask
    info["error"] = err(new)
    weight.copy_(new[:, :cin * taps].reshape(weight.shape).to(weight.dtype))
    if bias is not None:
        bias.copy_(new[:, -1].to(bias.dtype))
    return mask, info


@torch.no_grad()
def reconstruct(model: nn.Module, dense: nn.Module, targets: dict[str, float], pattern: Pattern,
                images: Images, config: ReconstructConfig | None = None,
                progress: Iterable | None = None) -> tuple[dict[str, torch.Tensor], dict[str, dict[str, float]]]:
    """Prune `model`'s layers `targets` ({name: sparsity}, in execution order) one at a time by reconstruction
    against `dense` (an unpruned copy with the same module names) on `images`. Weights are set in place (zeros where
    pruned); returns ({name: 0/1 mask}, {name: {"error", "magnitude_error"}})."""
    config = config or ReconstructConfig()
    modules = dict(model.named_modules())
    was = model.training, dense.training
    model.eval()
    dense.eval()
    masks: dict[str, torch.Tensor] = {}
    report: dict[str, dict[str, float]] = {}
    try:
        for name, sparsity in targets.items():
            module = modules[name]
            if sparsity <= 0:
                masks[name] = torch.ones_like(module.weight, dtype=torch.float32)
                continue
            h, c, n = _layer_stats(model, dense, name, images, config.max_columns)
            masks[name], report[name] = reconstruct_layer(module, h, c, sparsity, pattern, config)
            report[name]["samples"] = n
            if progress is not None:
                progress.update(1, f"{name}: error {report[name]['error']:.4f} "  # type: ignore[attr-defined]
                                   f"(magnitude {report[name]['magnitude_error']:.4f})")
    finally:
        model.train(was[0])
        dense.train(was[1])
    return masks, report


@torch.no_grad()
def dense_hessians(model: nn.Module, names: list[str], images: Images, max_columns: int = 32768) \
        -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor, int]], dict[str, tuple[torch.Tensor, torch.Tensor, int]]]:
    """(X X^T, sum of the columns X, their number) (float64) of each layer's input in `model` over the even and over
    the odd batches of `images`, from one forward pass per batch: ({name: over even batches}, {name: over odd})."""
    modules = dict(model.named_modules())
    Half = dict[str, tuple[torch.Tensor, torch.Tensor, int]]
    halves: tuple[Half, Half] = ({}, {})
    state = {"batch": 0}

    def hook_for(name: str):
        def hook(mod: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            b = state["batch"]
            cols = _columns(mod, inputs[0].detach(), max_columns, torch.Generator().manual_seed(b))
            h = halves[b % 2]
            if name not in h:
                h[name] = (cols @ cols.t(), cols.sum(dim=1), cols.shape[1])
            else:
                hh, ss, nn_ = h[name]
                h[name] = (hh.add_(cols @ cols.t()), ss.add_(cols.sum(dim=1)), nn_ + cols.shape[1])
        return hook

    hooks = [modules[n].register_forward_pre_hook(hook_for(n)) for n in names]
    was = model.training
    model.eval()
    try:
        for b, x in enumerate(_batches(images)):
            state["batch"] = b
            model(x)
    finally:
        for hk in hooks:
            hk.remove()
        model.train(was)
    if not halves[1]:
        raise ValueError("error-aware allocation needs at least 2 calibration batches (fit on one, measure on one)")
    return halves


@torch.no_grad()
def error_curves(model: nn.Module, names: list[str], pattern: Pattern, images: Images, grid: list[float],
                 config: ReconstructConfig | None = None) -> dict[str, list[float]]:
    """{layer: [held-out relative output error of that layer alone, reconstructed at each sparsity of `grid`]}:
    weights fitted on the even calibration batches, error measured on the odd ones (the classifier sees one sample
    per image: an error on its own fitting images would be optimistic). The error of an output channel is relative
    to that channel's variance (what a following BatchNorm divides by; a constant offset is not counted as signal),
    floored at 1e-3 of the layer's mean channel variance (dead channels), and averaged over the channels."""
    config = config or ReconstructConfig()
    fit, held = dense_hessians(model, names, images, config.max_columns)
    modules = dict(model.named_modules())
    curves: dict[str, list[float]] = {}
    for name in names:
        module = modules[name]
        w = _flat(module.weight, module.bias)
        h, total, n = held[name]
        mean = total / n
        cov = h / n - torch.outer(mean, mean)
        var = (w @ cov * w).sum(dim=1)
        var = var.clamp_min(1e-3 * float(var.mean().clamp_min(1e-30)))
        row = []
        for sparsity in grid:
            if sparsity <= 0:
                row.append(0.0)
                continue
            probe = _Probe(module)
            reconstruct_layer(probe, fit[name][0], fit[name][0], sparsity, pattern, config)
            d = _flat(probe.weight, probe.bias) - w
            row.append(float(((d @ h * d).sum(dim=1) / n / var).mean()))
        curves[name] = row
    return curves


class _Probe(nn.Module):
    """A throw-away copy of a layer's weight and bias for reconstruct_layer."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.weight = nn.Parameter(module.weight.detach().clone(), requires_grad=False)
        self.bias = None if module.bias is None else nn.Parameter(module.bias.detach().clone(), requires_grad=False)


def allocate_by_error(curves: dict[str, list[float]], sizes: dict[str, int], grid: list[float],
                      target: float) -> dict[str, float]:
    """Per-layer sparsities whose zeros add up to `target` of all the layers' weights (`sizes`), chosen greedily by
    the smallest increase of the summed relative layer errors per weight zeroed (the curves from error_curves)."""
    if not 0.0 <= target < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {target}")
    level = {n: 0 for n in curves}
    budget = target * sum(sizes.values())
    zeros = 0.0
    while zeros < budget:
        best, best_cost = None, float("inf")
        for n, i in level.items():
            if i + 1 >= len(grid):
                continue
            dz = (grid[i + 1] - grid[i]) * sizes[n]
            cost = (curves[n][i + 1] - curves[n][i]) / max(dz, 1e-12)
            if cost < best_cost:
                best, best_cost = n, cost
        if best is None:
            break
        i = level[best]
        dz = (grid[i + 1] - grid[i]) * sizes[best]
        if zeros + dz > budget:  # the last step only as far as the target
            out = {n: grid[j] for n, j in level.items()}
            out[best] = grid[i] + (budget - zeros) / sizes[best]
            return out
        level[best] = i + 1
        zeros += dz
    return {n: grid[j] for n, j in level.items()}
