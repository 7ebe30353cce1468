import pytest
import torch
from tiny_models import coupling_net

from sparsebyte.sparsify.allocate import allocate, find_layers
from sparsebyte.sparsify.masks import Pattern, make_mask
from sparsebyte.sparsify.mnist import MnistNet, accuracy, load_mnist

EXAMPLE = torch.zeros(1, 3, 8, 8)


def _zero_fraction(layers, targets, pattern) -> float:  # noqa: ANN001
    zeros = sum(int((make_mask(lay.weight, targets[lay.name], pattern) == 0).sum()) for lay in layers)
    return zeros / sum(lay.weight.numel() for lay in layers)


def test_layers_in_execution_order_with_first_and_last_options() -> None:
    model = coupling_net()
    names = [lay.name for lay in find_layers(model, EXAMPLE, prune_first=True)]
    assert names == ["stem.0", "branch.0", "side", "mix.0", "gate", "fc"]  # depthwise dw.0 is never pruned
    assert [lay.name for lay in find_layers(model, EXAMPLE, prune_last=False)] == names[1:-1]
    assert [lay.name for lay in find_layers(model, EXAMPLE, exclude=("gate",))] == ["branch.0", "side", "mix.0", "fc"]
    with pytest.raises(ValueError, match="no module named nope"):
        find_layers(model, EXAMPLE, exclude=("nope",))


@pytest.mark.parametrize("mode", ["uniform", "global", "flops"])
@pytest.mark.parametrize("pattern", [Pattern("group", group=4), Pattern("unstructured")])
def test_allocation_reaches_the_target(mode: str, pattern: Pattern) -> None:
    layers = find_layers(coupling_net(), EXAMPLE)
    targets = allocate(layers, 0.6, pattern, mode)
    assert set(targets) == {lay.name for lay in layers}
    assert _zero_fraction(layers, targets, pattern) == pytest.approx(0.6, abs=0.03)
    assert max(targets.values()) <= 0.98
    if mode != "uniform":
        assert len(set(targets.values())) > 1


def test_global_allocation_prunes_the_weak_layer_more() -> None:
    model = coupling_net()
    with torch.no_grad():
        model.side.weight.mul_(0.01)
    targets = allocate(find_layers(model, EXAMPLE), 0.5, Pattern("group", group=4), "global")
    assert targets["side"] > 0.9 and targets["side"] == max(targets.values())


def test_nm_allocation_is_fixed() -> None:
    layers = find_layers(coupling_net(), EXAMPLE)
    assert set(allocate(layers, 0.0, Pattern("nm", n=1, m=4)).values()) == {0.75}
    with pytest.raises(ValueError, match="N:M"):
        allocate(layers, 0.5, Pattern("nm"), "global")


def test_mnist_loads_and_the_model_runs() -> None:
    data = load_mnist(train_limit=100)
    assert len(data["train"]) == 100 and len(data["test"]) == 10000
    assert data["train"].images.shape == (100, 1, 28, 28)
    assert set(data["test"].labels.unique().tolist()) == set(range(10))
    assert 0.0 <= accuracy(MnistNet().eval(), data["val"]) <= 1.0
