import torch
from tiny_models import coupling_net, plain_net
from torch import nn

from sparsebyte.sparsify.channels import analyze
from sparsebyte.sparsify.masks import Pattern, make_mask
from sparsebyte.sparsify.rearrange import find_permutation, rearrange


def test_channel_spaces_of_add_concat_and_mul() -> None:
    model, x = coupling_net(), torch.randn(2, 3, 8, 8)
    graph = analyze(model, x)
    by_producer = {tuple(sorted(s.producers)): s for s in graph.spaces.values()}
    # the residual add joins stem and branch; the SE-like mul joins mix and gate
    assert set(by_producer) >= {("branch.0", "stem.0"), ("side",), ("gate", "mix.0"), ("fc",)}
    assert by_producer[("branch.0", "stem.0")].channelwise == ["stem.1", "branch.1", "dw.0", "dw.1"]
    assert by_producer[("fc",)].frozen == ["model output"]
    mix_input = dict(graph.consumers)["mix.0"]
    assert [n for _, n in mix_input] == [8, 8]  # reads the concat: two segments, two spaces


def test_rearranged_model_computes_the_same_function() -> None:
    for build in (coupling_net, plain_net):
        model, x = build(), torch.randn(4, 3, 8, 8)
        before = [p.clone() for p in model.state_dict().values()]
        with torch.no_grad():
            expected = model(x)
        report = rearrange(model, x, group=4, sparsity=0.5)
        with torch.no_grad():
            got = model(x)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
        assert report.permuted >= 2
        changed = sum(not torch.equal(a, b) for a, b in zip(before, model.state_dict().values(), strict=True))
        assert changed > 0, "nothing was permuted"
        for space in report.spaces:
            assert space.kept_energy_after >= space.kept_energy_before


def test_permutation_groups_similar_channels() -> None:
    # channels 0..7 alternate between two disjoint input patterns; the best grouping puts equal patterns together
    x = torch.zeros(8, 8)
    x[0::2, :4] = 1.0
    x[1::2, 4:] = 1.0
    perm, _ = find_permutation(x, group=4, sparsity=0.5)
    assert sorted(perm.tolist()) == list(range(8))
    assert {frozenset(perm[:4].tolist()), frozenset(perm[4:].tolist())} == {frozenset(range(0, 8, 2)),
                                                                           frozenset(range(1, 8, 2))}


class ShuffleNet(nn.Module):
    """A channel shuffle (view/transpose) the analysis does not model: the spaces around it must stay put."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 8, 1)
        self.b = nn.Conv2d(8, 8, 1)
        self.fc = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.a(x)
        n, c, h, w = y.shape
        y = y.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)
        return self.fc(self.b(y).mean((2, 3)))


def test_unknown_ops_freeze_their_spaces() -> None:
    torch.manual_seed(0)
    model, x = ShuffleNet().eval(), torch.randn(2, 3, 4, 4)
    with torch.no_grad():
        expected = model(x)
    report = rearrange(model, x, group=4, sparsity=0.5)
    frozen = {tuple(s.producers): s.frozen for s in report.spaces}
    assert frozen[("a",)], "the shuffled space must be frozen"
    assert not frozen[("b",)]
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5)


def test_rearrangement_keeps_more_weight_under_group_pruning() -> None:
    # a layer whose output channels interleave two input patterns: group pruning at 50 % loses far less after
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(8, 16, 1, bias=False), nn.ReLU(), nn.Conv2d(16, 4, 1))
    with torch.no_grad():
        w = torch.rand(16, 8) * 0.1
        w[0::2, :4] += 1.0
        w[1::2, 4:] += 1.0
        model[0].weight.copy_(w.reshape(16, 8, 1, 1))

    def kept() -> float:
        weight = model[0].weight.detach()
        return float((weight * make_mask(weight, 0.5, Pattern("group", group=4))).pow(2).sum() / weight.pow(2).sum())

    before = kept()
    rearrange(model, torch.randn(1, 8, 2, 2), group=4, sparsity=0.5)
    assert kept() > before + 0.2
