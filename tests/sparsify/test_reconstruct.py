"""Layer-wise reconstruction (sparsify/reconstruct.py): lower layer output error than magnitude pruning at the same
masks' sparsity, the engine's group pattern kept, and the error-aware allocation hitting the target sparsity."""

from __future__ import annotations

import copy

import pytest
import torch
from tiny_models import coupling_net, plain_net

from sparsebyte.sparsify.allocate import find_layers
from sparsebyte.sparsify.api import Options, sparsify
from sparsebyte.sparsify.masks import Pattern, follows_pattern, make_mask
from sparsebyte.sparsify.reconstruct import ReconstructConfig, allocate_by_error, reconstruct

EXAMPLE = torch.zeros(1, 3, 8, 8)
G4 = Pattern("group", group=4)


def _images(seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 3, 8, 8, generator=g)
    x[:, 1] = 0.7 * x[:, 0] + 0.3 * x[:, 1]  # correlated inputs: where a least-squares refit beats magnitude
    return [x[i:i + 16] for i in range(0, 64, 16)]


def _outputs(model: torch.nn.Module, names: list[str], x: torch.Tensor) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    modules = dict(model.named_modules())
    hooks = [modules[n].register_forward_hook(lambda m, i, o, n=n: out.__setitem__(n, o.detach())) for n in names]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return out


@pytest.mark.parametrize("score", ["obs", "magnitude"])
def test_reconstruction_beats_magnitude_pruning_and_keeps_the_pattern(score: str) -> None:
    dense = coupling_net()
    names = [lay.name for lay in find_layers(dense, EXAMPLE)]
    targets = {n: 0.5 for n in names}
    images = _images()
    model = copy.deepcopy(dense)
    masks, report = reconstruct(model, dense, targets, G4, images, ReconstructConfig(score=score))
    magnitude = copy.deepcopy(dense)
    modules, mag_modules = dict(model.named_modules()), dict(magnitude.named_modules())
    for n in names:
        w = mag_modules[n].weight
        w.data.mul_(make_mask(w.data, 0.5, G4))
        assert follows_pattern(masks[n], G4), n
        assert bool((modules[n].weight[masks[n] == 0] == 0).all()), n  # pruned weights are zero
        pairs = masks[n].reshape(masks[n].shape[0], masks[n].shape[1], -1)[::4, :, 0]
        assert int((pairs == 0).sum()) == round(0.5 * pairs.numel()), n  # the layer's target, exactly
        assert report[n]["error"] < report[n]["magnitude_error"], n
    held_out = torch.cat(_images(seed=1))  # other images than the calibration ones
    ref = _outputs(dense, names, held_out)
    ours, mag = _outputs(model, names, held_out), _outputs(magnitude, names, held_out)
    err = {n: float((ours[n] - ref[n]).pow(2).mean()) for n in names}
    mag_err = {n: float((mag[n] - ref[n]).pow(2).mean()) for n in names}
    assert sum(err.values()) < 0.7 * sum(mag_err.values()), (err, mag_err)
    with torch.no_grad():
        logits = dense(held_out)
        assert float((model(held_out) - logits).pow(2).mean()) < float((magnitude(held_out) - logits).pow(2).mean())


def test_sparsify_with_reconstruction_and_error_allocation() -> None:
    dense = plain_net()
    images = _images()
    result = sparsify(copy.deepcopy(dense), EXAMPLE, Options(0.5, G4, allocation="error", bn_reestimate=False,
                                                             reconstruct=ReconstructConfig()),
                      calibration=images, progress=False)
    assert abs(result.sparsity - 0.5) < 0.02  # the target: zeros over the pruned layers' weights
    assert len(set(round(v, 3) for v in result.targets.values())) > 1  # not uniform
    assert result.reconstruction and all(follows_pattern(m, G4) for m in result.masks.values())
    for name, module in result.model.named_modules():
        if name in result.masks:
            assert bool((module.weight[result.masks[name] == 0] == 0).all())
    with pytest.raises(ValueError, match="calibration"):
        sparsify(copy.deepcopy(dense), EXAMPLE, Options(0.5, G4, reconstruct=ReconstructConfig()), progress=False)


def test_error_macs_allocation_hits_the_target_in_macs() -> None:
    dense = plain_net()
    result = sparsify(copy.deepcopy(dense), EXAMPLE, Options(0.5, G4, allocation="error-macs", bn_reestimate=False,
                                                             reconstruct=ReconstructConfig()),
                      calibration=_images(), progress=False)
    macs = {lay.name: lay.macs for lay in find_layers(dense, EXAMPLE)}
    zero_macs = sum(float((m == 0).float().mean()) * macs[n] for n, m in result.masks.items())
    assert abs(zero_macs / sum(macs[n] for n in result.masks) - 0.5) < 0.02  # the target counts MACs
    assert result.reconstruction and all(follows_pattern(m, G4) for m in result.masks.values())


def test_allocate_by_error_prefers_the_cheap_layer_and_hits_the_target() -> None:
    grid = [0.0, 0.25, 0.5, 0.75]
    curves = {"a": [0.0, 0.01, 0.02, 0.5], "b": [0.0, 0.2, 0.4, 0.9]}
    out = allocate_by_error(curves, {"a": 100, "b": 100}, grid, 0.375)
    assert out["a"] > out["b"]
    assert out == {"a": 0.5, "b": 0.25}
