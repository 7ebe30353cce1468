"""Accuracy recovery without the training set: distillation, BN re-estimation, image folders, data-free images."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from interrupt_support import Interrupted, failing_batches
from PIL import Image
from tiny_models import coupling_net, plain_net

from sparsebyte.sparsify import cli
from sparsebyte.sparsify.api import Options, sparsify
from sparsebyte.sparsify.bn import bn_layers, measure_bn_inputs, reestimate_bn
from sparsebyte.sparsify.data import Augment, ImageFolder, SynthConfig, bn_statistics_loss, synthesize
from sparsebyte.sparsify.distill import DistillConfig, kl_to_teacher
from sparsebyte.sparsify.masks import Pattern
from sparsebyte.sparsify.train import TrainConfig

EXAMPLE = torch.zeros(1, 3, 8, 8)


def _images(steps: int, batch: int = 8, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(batch, 3, 8, 8, generator=g), torch.full((batch,), -1)) for _ in range(steps)]


def test_distillation_lowers_the_kl_to_the_teacher() -> None:
    teacher = plain_net()
    held_out = torch.cat([x for x, _ in _images(4, seed=7)])
    data = _images(6)
    options = Options(0.5, Pattern("group", group=4), distill=DistillConfig(temperature=2.0, feature_weight=0.5),
                      train=TrainConfig(epochs=4, lr=0.01, optimizer="adam"))
    oneshot = sparsify(plain_net(), EXAMPLE, Options(0.5, Pattern("group", group=4)), progress=False)
    distilled = sparsify(plain_net(), EXAMPLE, options, batches=lambda epoch: data, steps_per_epoch=6,
                         progress=False)
    before, after = kl_to_teacher(oneshot.model, teacher, held_out), kl_to_teacher(distilled.model, teacher, held_out)
    assert after < 0.5 * before, (before, after)
    assert "train_agreement" in distilled.history[-1]


def test_bn_reestimation_restores_the_statistics_exactly() -> None:
    pruned = sparsify(coupling_net(), EXAMPLE, Options(0.5, Pattern("group", group=4)), progress=False).model
    calibration = [x for x, _ in _images(3, batch=5)]
    calibration.append(torch.randn(3, 3, 8, 8))  # a short last batch: the statistics are over images, not batches
    stale = measure_bn_inputs(pruned, calibration)
    layers = bn_layers(pruned)
    assert max(float((m - layers[n].running_mean).abs().max()) for n, (m, _) in stale.items()) > 0.05
    info = reestimate_bn(pruned, calibration)  # one sequential sweep is exact
    assert info["passes"] == 1
    for name, (mean, var) in measure_bn_inputs(pruned, calibration).items():
        torch.testing.assert_close(layers[name].running_mean, mean.float(), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(layers[name].running_var, var.float(), atol=1e-5, rtol=1e-4)


def test_bn_reestimation_after_pruning_and_mask_updates(tmp_path: Path) -> None:
    calibration = [x for x, _ in _images(2)]
    calls = []
    original = reestimate_bn

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        return original(*args, **kwargs)

    import sparsebyte.sparsify.api as api

    api.reestimate_bn, saved = counting, api.reestimate_bn
    try:
        sparsify(plain_net(), EXAMPLE, Options(0.5, schedule="gradual", update_every=2,
                                               train=TrainConfig(epochs=1, lr=0.01)),
                 batches=lambda epoch: _images(6), steps_per_epoch=6, calibration=calibration, teacher="dense",
                 progress=False)
    finally:
        api.reestimate_bn = saved
    assert len(calls) == 3 + 1  # the mask updates at steps 0, 2 and 3 (the end of the ramp), and once at the end


def test_synthesized_images_match_the_teachers_bn_statistics_better_than_noise() -> None:
    teacher = coupling_net()
    config = SynthConfig(size=8, steps=60, lr=0.1, ce_weight=0.0, tv_weight=0.0, jitter=1)
    images = synthesize(teacher, 8, config, batch_size=8, progress=False)
    assert images.shape == (8, 3, 8, 8)
    with torch.no_grad():
        synth_loss = float(bn_statistics_loss(teacher, images)[0])
        noise_loss = float(bn_statistics_loss(teacher, torch.randn(8, 3, 8, 8))[0])
    assert synth_loss < 0.6 * noise_loss, (synth_loss, noise_loss)
    assert all(not p.requires_grad or p.grad is None for p in teacher.parameters())


def test_resumed_distillation_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    data = _images(5)
    calibration = [x for x, _ in _images(2, seed=3)]
    options = Options(0.5, Pattern("group", group=4), rearrange=True, schedule="srste", update_every=3,
                      distill=DistillConfig(feature_weight=1.0),
                      train=TrainConfig(epochs=3, lr=0.05, checkpoint_every=3))
    full = sparsify(plain_net(), EXAMPLE, options, batches=lambda epoch: data, steps_per_epoch=5,
                    calibration=calibration, progress=False)

    checkpoint = tmp_path / "run.ckpt"
    with pytest.raises(Interrupted):
        sparsify(plain_net(), EXAMPLE, options, batches=failing_batches(data), steps_per_epoch=5, checkpoint=checkpoint,
                 calibration=calibration, progress=False)
    resumed = sparsify(plain_net(), EXAMPLE, options, batches=lambda epoch: data, steps_per_epoch=5,
                       checkpoint=checkpoint, resume=True, calibration=calibration, progress=False)
    for (name, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def _photo_dir(root: Path, labeled: bool) -> Path:
    rng = np.random.default_rng(0)
    for i in range(4):
        folder = root / (f"{i % 2}" if labeled else f"sub{i % 2}")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (20 + i, 24, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return root


def test_image_folder_augments_deterministically(tmp_path: Path) -> None:
    folder = ImageFolder(_photo_dir(tmp_path / "u", labeled=False))
    assert len(folder) == 4 and folder.labels is None
    aug = Augment(size=8, mixup=0.5, cutmix=0.5)
    x, y = folder.batch(2, 3, 6, aug)
    assert x.shape == (6, 3, 8, 8) and bool((y == -1).all())
    assert torch.equal(x, folder.batch(2, 3, 6, aug)[0]) and not torch.equal(x, folder.batch(2, 4, 6, aug)[0])
    labeled = ImageFolder(_photo_dir(tmp_path / "l", labeled=True), labeled=True)
    assert labeled.labels == [0, 0, 1, 1]  # files sorted by path: 0/p0, 0/p2, 1/p1, 1/p3
    with pytest.raises(ValueError, match="DIR/<class>"):
        ImageFolder(tmp_path / "l" / "0", labeled=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no image files"):
        ImageFolder(tmp_path / "empty")


def test_cli_distills_on_an_image_folder_with_bn_reestimation(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    photos = _photo_dir(tmp_path / "photos", labeled=False)
    out = tmp_path / "out"
    code = cli.main(["--torch", "tiny_models:plain_net", "--input-shape", "1,3,8,8", "--data", f"images:{photos}",
                     "--image-size", "8", "--epochs", "1", "--epoch-images", "16", "--batch-size", "8",
                     "--bn-images", "8", "--bn-mode", "absolute", "--sparsity", "0.5", "--no-onnx", "--quiet",
                     "-o", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "distillation from the dense model" in text and "BN re-estimated" in text
    assert "layer-wise reconstruction (obs)" in text  # the default with image data and the oneshot schedule
    assert (out / "masks.pt").exists()
    code = cli.main(["--torch", "tiny_models:plain_net", "--input-shape", "1,3,8,8", "--data", "synthetic:8",
                     "--image-size", "8", "--synth-steps", "2", "--bn-images", "8", "--no-onnx", "--quiet",
                     "-o", str(out)])
    assert code == 0
    assert cli.main(["--torch", "tiny_models:plain_net", "--input-shape", "1,3,8,8", "--data", "images:/nonexistent",
                     "-o", str(out)]) == 2


def test_delta_rebuilds_the_recovered_model(tmp_path: Path) -> None:
    from sparsebyte.sparsify.delta import apply_delta, load_masks, save_delta

    dense = plain_net()
    result = sparsify(copy.deepcopy(dense), EXAMPLE, Options(0.5, Pattern("group", group=4)), progress=False)
    with torch.no_grad():
        for p in result.model.parameters():
            p.add_(0.01 * torch.randn_like(p))
        for name, mask in result.masks.items():
            dict(result.model.named_modules())[name].weight.mul_(mask)
    size = save_delta(dense, result.model, result.masks, tmp_path / "d.npz")
    assert size > 0
    rebuilt = sparsify(copy.deepcopy(dense), EXAMPLE, Options(0.5, Pattern("group", group=4)), progress=False).model
    apply_delta(rebuilt, result.masks, tmp_path / "d.npz")
    for (name, a), b in zip(result.model.state_dict().items(), rebuilt.state_dict().values(), strict=True):
        if a.is_floating_point():
            torch.testing.assert_close(a, b, atol=2e-4, rtol=0, msg=name)
    assert load_masks(tmp_path / "d.npz") is None
    save_delta(dense, result.model, result.masks, tmp_path / "m.npz", store_masks=True)  # masks not recomputable
    stored = load_masks(tmp_path / "m.npz")
    assert stored is not None and set(stored) == set(result.masks)
    for name, mask in result.masks.items():
        assert torch.equal(stored[name], mask.float()), name
    # a layer left out of the masks (a dense classifier) is quantised per row, to `bits`
    last = list(result.masks)[-1]
    partial = {n: m for n, m in result.masks.items() if n != last}
    errors = []
    for bits in (8, 4):
        save_delta(dense, result.model, partial, tmp_path / "p.npz", bits=bits)
        again = copy.deepcopy(rebuilt)
        again.load_state_dict(dense.state_dict())
        apply_delta(again, partial, tmp_path / "p.npz")
        with torch.no_grad():
            for name, mask in partial.items():
                dict(again.named_modules())[name].weight.mul_(mask)  # as the demo prunes before the delta
        want, got = dict(result.model.named_parameters())[f"{last}.weight"], dict(again.named_parameters())[
            f"{last}.weight"]
        errors.append(float((want - got).detach().abs().max()))
    assert errors[0] < 2e-3 and 4 * errors[0] < errors[1] < 5e-2, errors  # 8 bits: close; 4 bits: coarser


def test_relative_bn_reestimation_applies_only_the_shift_pruning_caused() -> None:
    dense = coupling_net()
    calibration = [x for x, _ in _images(2)]
    same = copy.deepcopy(dense)
    reestimate_bn(same, calibration, reference=dense)  # nothing pruned: nothing moves
    for (name, a), b in zip(dense.state_dict().items(), same.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5, msg=name)
    pruned = sparsify(copy.deepcopy(dense), EXAMPLE, Options(0.5, Pattern("group", group=4)), progress=False).model
    reestimate_bn(pruned, calibration, reference=dense)
    pruned_in, dense_in = measure_bn_inputs(pruned, calibration), measure_bn_inputs(dense, calibration)
    for name, layer in bn_layers(pruned).items():
        expected = bn_layers(dense)[name].running_mean + (pruned_in[name][0] - dense_in[name][0]).float()
        torch.testing.assert_close(layer.running_mean, expected, atol=1e-4, rtol=1e-4)
