import pytest
import tiny_models  # noqa: F401  (one thread, the shared tiny models)
import torch

from sparsebyte.sparsify.masks import Pattern, follows_pattern, make_mask, nm_for_sparsity, pair_scores


def _weight(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("shape", [(16, 12), (16, 12, 1, 1), (10, 6, 3, 3)])
@pytest.mark.parametrize("group", [1, 2, 4, 8])
def test_group_mask_shares_input_mask_within_groups(shape: tuple[int, ...], group: int) -> None:
    w = _weight(*shape)
    mask = make_mask(w, 0.5, Pattern("group", group=group))
    assert mask.shape == w.shape
    assert follows_pattern(mask, Pattern("group", group=group))
    pairs = -(-shape[0] // group) * shape[1]
    kept_pairs = int((pair_scores(mask, group) > 0).sum())
    assert kept_pairs == pairs - round(0.5 * pairs)


def test_group_mask_drops_the_weakest_pairs() -> None:
    w = torch.ones(8, 4)
    w[0:4, 2] = 0.01  # group 0 input 2 is the weakest pair
    w[4:8, 0] = 0.02  # then group 1 input 0
    mask = make_mask(w, 2 / 8, Pattern("group", group=4))
    assert mask[0:4, 2].sum() == 0 and mask[4:8, 0].sum() == 0
    assert mask.sum() == 32 - 8


def test_kernel_level_for_kxk() -> None:
    mask = make_mask(_weight(8, 5, 3, 3), 0.6, Pattern("group", group=4))
    per_kernel = mask.reshape(8, 5, 9).sum(dim=2)
    assert set(per_kernel.unique().tolist()) <= {0.0, 9.0}


def test_unstructured_and_nm() -> None:
    w = _weight(16, 20)
    mask = make_mask(w, 0.7, Pattern("unstructured"))
    assert int((mask == 0).sum()) == round(0.7 * w.numel())
    assert w.abs()[mask == 1].min() >= w.abs()[mask == 0].max()
    nm = Pattern("nm", n=2, m=4)
    mask = make_mask(w, 0.0, nm)
    assert torch.equal(mask.reshape(16, 5, 4).sum(dim=2), torch.full((16, 5), 2.0))
    assert follows_pattern(mask, nm)
    assert nm_for_sparsity(0.5) == nm and nm_for_sparsity(0.7, 10) == Pattern("nm", n=3, m=10)


def test_follows_pattern_rejects_mixed_groups_and_partial_kernels() -> None:
    mask = torch.ones(8, 4)
    mask[1, 0] = 0  # channel 1 drops input 0, its group-mates keep it
    assert not follows_pattern(mask, Pattern("group", group=4))
    assert follows_pattern(mask, Pattern("group", group=1))
    kernel = torch.ones(4, 2, 3, 3)
    kernel[0, 0, 1, 1] = 0
    assert not follows_pattern(kernel, Pattern("group", group=1))
    assert not follows_pattern(torch.ones(2, 4), Pattern("nm", n=2, m=4))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="group size"):
        Pattern("group", group=3)
    with pytest.raises(ValueError, match="pattern must be"):
        Pattern("blocks")
    with pytest.raises(ValueError, match="sparsity"):
        make_mask(torch.ones(4, 4), 1.0, Pattern())
