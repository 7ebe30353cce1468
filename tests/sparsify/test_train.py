from pathlib import Path

import pytest
import torch
from interrupt_support import Interrupted, failing_batches
from tiny_models import plain_net

from sparsebyte.sparsify.api import Options, sparsify
from sparsebyte.sparsify.masked import MaskedModel
from sparsebyte.sparsify.masks import Pattern, follows_pattern
from sparsebyte.sparsify.schedule import Schedule, cubic
from sparsebyte.sparsify.train import TrainConfig

EXAMPLE = torch.zeros(1, 3, 8, 8)


def _data(steps: int, batch: int = 8) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(batch, 3, 8, 8, generator=g), torch.randint(0, 4, (batch,), generator=g))
            for _ in range(steps)]


def test_cubic_schedule() -> None:
    assert cubic(0, 100) == 0.0 and cubic(100, 100) == 1.0 and cubic(500, 100) == 1.0
    assert cubic(50, 100) == pytest.approx(1 - 0.5 ** 3)
    values = [cubic(t, 100) for t in range(101)]
    assert values == sorted(values)
    s = Schedule("gradual", total_steps=100, prune_fraction=0.5, update_every=10)
    assert [t for t in range(100) if s.updates_at(t)] == [0, 10, 20, 30, 40, 50]


def test_gradual_pruning_reaches_the_target_in_the_pattern() -> None:
    data = _data(6)
    options = Options(0.75, Pattern("group", group=4), schedule="gradual", update_every=2,
                      train=TrainConfig(epochs=2, lr=0.05))
    result = sparsify(plain_net(), EXAMPLE, options, batches=lambda epoch: data, steps_per_epoch=6, progress=False)
    assert set(result.masks) == {"features.3", "fc"}  # the stem stays dense by default
    assert result.sparsity == pytest.approx(0.75, abs=0.01)
    modules = dict(result.model.named_modules())
    for name, mask in result.masks.items():
        assert follows_pattern(mask, Pattern("group", group=4))
        assert torch.all(modules[name].weight[mask == 0] == 0)
    sparsities = [row["sparsity"] for row in result.history]
    assert sparsities[0] < sparsities[-1]


def test_srste_gradient_adds_the_decay_of_pruned_weights() -> None:
    torch.manual_seed(0)
    layer = torch.nn.Linear(8, 8)
    masked = MaskedModel(torch.nn.Sequential(layer), {"0": 0.5}, Pattern("group", group=4), srste_lambda=0.1)
    masked.update(1.0)
    mask = masked.mask("0").clone()
    dense = masked.dense_weight("0").detach().clone()
    x = torch.randn(3, 8)
    layer.train()
    layer(x).sum().backward()
    # d(sum(x W^T))/dW = column sums of x for every row, passed straight through to pruned weights too
    expected = x.sum(dim=0).expand(8, 8) + 0.1 * (1 - mask) * dense
    torch.testing.assert_close(masked.dense_weight("0").grad, expected)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), x @ (dense * mask).T + layer.bias)


def test_srste_schedule_trains_and_ends_masked() -> None:
    data = _data(4)
    options = Options(0.5, Pattern("group", group=2), schedule="srste", update_every=1,
                      train=TrainConfig(epochs=2, lr=0.05))
    result = sparsify(plain_net(), EXAMPLE, options, batches=lambda epoch: data, steps_per_epoch=4, progress=False)
    assert result.sparsity == pytest.approx(0.5, abs=0.02)
    modules = dict(result.model.named_modules())
    for name, mask in result.masks.items():
        assert torch.all(modules[name].weight[mask == 0] == 0)


def test_resumed_training_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    data = _data(5)
    options = Options(0.5, Pattern("group", group=4), rearrange=True, schedule="gradual", update_every=2,
                      train=TrainConfig(epochs=3, lr=0.05, checkpoint_every=3))
    full = sparsify(plain_net(), EXAMPLE, options, batches=lambda epoch: data, steps_per_epoch=5, progress=False)

    checkpoint = tmp_path / "run.ckpt"
    with pytest.raises(Interrupted):
        sparsify(plain_net(), EXAMPLE, options, batches=failing_batches(data), steps_per_epoch=5, checkpoint=checkpoint,
                 progress=False)
    state = torch.load(checkpoint, weights_only=False)
    assert state["step"] == 9  # the last multiple of checkpoint_every before the failure at step 10
    resumed = sparsify(plain_net(), EXAMPLE, options, batches=lambda epoch: data, steps_per_epoch=5,
                       checkpoint=checkpoint, resume=True, progress=False)
    for (name, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert [r["step"] for r in resumed.history] == [5, 10, 15]


def test_resume_errors(tmp_path: Path) -> None:
    options = Options(0.5, schedule="gradual", train=TrainConfig(epochs=1))
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        sparsify(plain_net(), EXAMPLE, options, batches=lambda e: _data(2), steps_per_epoch=2,
                 checkpoint=tmp_path / "none.ckpt", resume=True, progress=False)
    with pytest.raises(ValueError, match="needs training"):
        sparsify(plain_net(), EXAMPLE, Options(0.5, schedule="gradual"), progress=False)
