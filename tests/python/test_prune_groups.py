"""prune_groups: the group pattern, per-layer sparsity, skipped layers, depthwise untouched."""

from __future__ import annotations

import pytest
import torch
from tiny_model import tiny_net
from torch import nn

from sparsebyte.prune import group_mask, mask_sparsity, prunable_layers, prune_groups


def groups_share_masks(mask: torch.Tensor, group: int) -> bool:
    """Every group of `group` consecutive output channels keeps the same inputs, whole kernels at a time."""
    per_input = mask.reshape(mask.shape[0], mask.shape[1], -1)
    whole_kernels = bool(((per_input == 0).all(-1) | (per_input == 1).all(-1)).all())
    kept = per_input[:, :, 0]
    same = all(torch.equal(kept[g], kept[g - g % group]) for g in range(kept.shape[0]))
    return whole_kernels and same


@pytest.mark.parametrize("group", [1, 2, 4, 8])
@pytest.mark.parametrize("shape", [(16, 8, 1, 1), (18, 5, 3, 3), (10, 12)])
def test_group_mask_pattern_and_sparsity(group: int, shape: tuple[int, ...]) -> None:
    weight = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    mask = group_mask(weight, 0.6, group)
    assert mask.shape == weight.shape
    assert groups_share_masks(mask, group)
    pairs = -(-shape[0] // group) * shape[1]
    dropped_pairs = pairs - int(round(0.6 * pairs))
    kept_pairs = sum(len({int(i) for i in mask.reshape(shape[0], shape[1], -1)[g, :, 0].nonzero()})
                     for g in range(0, shape[0], group))
    assert kept_pairs == dropped_pairs


def test_group_mask_drops_the_weakest_inputs() -> None:
    weight = torch.ones(4, 4, 1, 1)
    weight[:, 2] = 0.01  # input 2 is weak for the whole group
    mask = group_mask(weight, 0.25, 4)
    assert mask[:, 2].sum() == 0 and mask[:, [0, 1, 3]].sum() == 12


def test_prune_groups_masks_weights_in_place() -> None:
    model = tiny_net()
    masks = prune_groups(model, 0.5, group=4)
    assert set(masks) == {"pw.0", "fc"}  # stem skipped, depthwise never pruned
    for name, mask in masks.items():
        weight = dict(model.named_modules())[name].weight
        assert torch.equal(weight * mask, weight) and groups_share_masks(mask, 4)
    # half of the (group, input) pairs; fc has a partial last group (10 = 4 + 4 + 2), so weights differ slightly
    assert mask_sparsity(masks) == pytest.approx(0.5, abs=0.03)
    assert (model.dw[0].weight != 0).all()


def test_skip_options() -> None:
    assert set(prune_groups(tiny_net(), 0.5, skip_first=False)) == {"stem.0", "pw.0", "fc"}
    assert set(prune_groups(tiny_net(), 0.5, skip_last=True)) == {"pw.0"}
    assert [name for name, _ in prunable_layers(tiny_net())] == ["stem.0", "pw.0", "fc"]


def test_zero_sparsity_keeps_everything_and_bad_arguments_raise() -> None:
    model = tiny_net()
    before = model.pw[0].weight.clone()
    prune_groups(model, 0.0)
    assert torch.equal(model.pw[0].weight, before)
    with pytest.raises(ValueError, match="sparsity"):
        prune_groups(model, 1.0)
    with pytest.raises(ValueError, match="group"):
        prune_groups(model, 0.5, group=3)
    assert isinstance(model.dw[0], nn.Conv2d)
