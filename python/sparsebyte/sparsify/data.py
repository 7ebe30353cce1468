"""Training data for accuracy recovery without the training set.

- `ImageFolder`: any folder of images, searched recursively (Pillow). Unlabeled, or labeled when laid out as
  DIR/<class>/*.jpg (`labeled=True`: classes are the sorted sub-folder names, or their integer values when every
  name is an integer, so DIR/281/x.jpg means class 281).
- Augmentations multiply a few photos into many training images: random resized crop (scale, aspect), horizontal
  flip, colour jitter (brightness, contrast, saturation), and optional mixup / cutmix between images of a batch.
  An epoch is `epoch_images` augmented images (not one pass over the files: with a dozen photos one pass means
  nothing); batch b of epoch e is a pure function of (seed, e, b), so a resumed run sees the same images.
- `synthesize`: DeepInversion-style data-free images (Yin et al., "Dreaming to Distill", CVPR 2020): pixels
  optimised so that every BatchNorm's input statistics match the teacher's running statistics, plus cross-entropy
  towards random target classes and a total-variation prior, with random jitter and flips.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageEnhance
from torch import nn

from ..images import IMAGE_SUFFIXES, IMAGENET_MEAN, IMAGENET_STD
from .bn import bn_layers
from .progress import Progress


@dataclass
class Augment:
    size: int = 224
    scale: tuple[float, float] = (0.25, 1.0)  # crop area as a fraction of the photo
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip: bool = True
    jitter: float = 0.3  # brightness/contrast/saturation factors drawn from [1 - j, 1 + j]
    mixup: float = 0.0  # probability that a batch is mixed with mixup (lambda ~ Beta(1, 1))
    cutmix: float = 0.0  # probability that a batch gets cutmix (a box of another image)


def normalise(image: Image.Image) -> np.ndarray:
    x = np.asarray(image.convert("RGB"), np.float32) / 255.0
    return ((x - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)


def center_view(image: Image.Image, size: int) -> np.ndarray:
    """The evaluation view: short side to size * 8/7, centre crop (sparsebyte.images.preprocess)."""
    from ..images import preprocess

    return preprocess(image, size, round(size * 8 / 7))[0]


def random_view(image: Image.Image, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    w, h = image.size
    for _ in range(10):
        area = rng.uniform(*aug.scale) * w * h
        ratio = math.exp(rng.uniform(math.log(aug.ratio[0]), math.log(aug.ratio[1])))
        cw, ch = round(math.sqrt(area * ratio)), round(math.sqrt(area / ratio))
        if 0 < cw <= w and 0 < ch <= h:
            break
    else:
        cw = ch = min(w, h)
    left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    crop = image.crop((left, top, left + cw, top + ch)).resize((aug.size, aug.size), Image.Resampling.BILINEAR)
    if aug.flip and rng.random() < 0.5:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if aug.jitter > 0:
        for enhance in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
            crop = enhance(crop).enhance(float(rng.uniform(1 - aug.jitter, 1 + aug.jitter)))
    return normalise(crop)


def mix(batch: torch.Tensor, aug: Augment, rng: np.random.Generator) -> torch.Tensor:
    """Mixup or cutmix with the batch rolled by one (the teacher labels the mixed image: no label mixing needed)."""
    other = batch.roll(1, dims=0)
    u = rng.random()
    if u < aug.mixup:
        lam = float(rng.beta(1.0, 1.0))
        return lam * batch + (1 - lam) * other
    if u < aug.mixup + aug.cutmix:
        h, w = batch.shape[2:]
        cut = math.sqrt(1 - float(rng.beta(1.0, 1.0)))
        bh, bw = int(h * cut), int(w * cut)
        top, left = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
        out = batch.clone()
        out[:, :, top:top + bh, left:left + bw] = other[:, :, top:top + bh, left:left + bw]
        return out
    return batch


def find_images(root: str | os.PathLike) -> list[Path]:
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"{base}: not a directory")
    files = sorted(p for p in base.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{base}: no image files ({', '.join(IMAGE_SUFFIXES)}) in it or below")
    return files


class ImageFolder:
    """Images under `root` (recursive), decoded once and kept in memory (a few hundred photos at most is the use)."""

    def __init__(self, root: str | os.PathLike, labeled: bool = False, max_side: int = 512):
        self.root = Path(root)
        self.files = find_images(root)
        self.images: list[Image.Image] = []
        for p in self.files:
            try:
                with Image.open(p) as im:
                    im = im.convert("RGB")
                    im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)  # crops are 224: keep memory low
                    self.images.append(im)
            except OSError as e:
                raise OSError(f"{p}: cannot read image: {e}") from e
        self.labels: list[int] | None = None
        self.classes: list[str] = []
        if labeled:
            parts = [p.relative_to(self.root).parts for p in self.files]
            names = sorted({q[0] for q in parts if len(q) > 1})
            stray = [p for p, q in zip(self.files, parts, strict=True) if len(q) < 2]
            if stray or not names:
                raise ValueError(f"{self.root}: a labeled folder holds DIR/<class>/<image> only; "
                                 f"{stray[0] if stray else 'no class folders'}")
            self.classes = names
            index = {n: int(n) for n in names} if all(n.isdigit() for n in names) else \
                {n: i for i, n in enumerate(names)}
            self.labels = [index[p.relative_to(self.root).parts[0]] for p in self.files]

    @classmethod
    def from_images(cls, images: list[Image.Image]) -> ImageFolder:
        """Unlabeled photos already in memory (e.g. scikit-image's), served like a folder."""
        folder = cls.__new__(cls)
        folder.root, folder.files, folder.labels, folder.classes = Path("."), [], None, []
        folder.images = [im.convert("RGB") for im in images]
        return folder

    def __len__(self) -> int:
        return len(self.images)

    def batch(self, epoch: int, index: int, batch_size: int, aug: Augment, seed: int = 0) \
            -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([seed, epoch, index])
        pick = rng.integers(0, len(self.images), batch_size)
        x = torch.from_numpy(np.stack([random_view(self.images[i], aug, rng) for i in pick]))
        if aug.mixup > 0 or aug.cutmix > 0:
            x = mix(x, aug, rng)
        labels = torch.tensor([self.labels[i] for i in pick] if self.labels is not None else [-1] * batch_size)
        return x, labels

    def batches(self, epoch: int, steps: int, batch_size: int, aug: Augment, seed: int = 0) \
            -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for index in range(steps):
            yield self.batch(epoch, index, batch_size, aug, seed)

    def center_views(self, size: int = 224) -> torch.Tensor:
        return torch.from_numpy(np.stack([center_view(im, size) for im in self.images]))


def calibration_images(batches: Iterator[tuple[torch.Tensor, torch.Tensor]] | list, count: int) -> list[torch.Tensor]:
    """The first `count` images of a batch stream, as a list of batches (for BN re-estimation)."""
    out, n = [], 0
    for x, *_ in batches:
        out.append(x[:count - n])
        n += len(out[-1])
        if n >= count:
            break
    return out


@dataclass
class SynthConfig:
    size: int = 224
    steps: int = 200
    lr: float = 0.1
    bn_weight: float = 1.0  # the BN-statistics term (the first BN's weighted x10, as in DeepInversion)
    ce_weight: float = 0.1  # towards a random target class per image
    tv_weight: float = 1e-3  # total variation prior
    l2_weight: float = 1e-5
    jitter: int = 16  # random shifts of up to this many pixels per step
    seed: int = 0


def bn_statistics_loss(model: nn.Module, x: torch.Tensor, first_weight: float = 10.0) -> tuple[torch.Tensor,
                                                                                                torch.Tensor]:
    """(sum over BNs of ||mean - running_mean|| + ||var - running_var|| of the BN's input on x, the logits)."""
    layers = list(bn_layers(model).values())
    terms: list[torch.Tensor] = []

    def hook(mod: nn.modules.batchnorm._BatchNorm, inputs: tuple[torch.Tensor, ...]) -> None:
        t = inputs[0]
        dims = [0] + list(range(2, t.dim()))
        mean, var = t.mean(dim=dims), t.var(dim=dims, unbiased=False)
        terms.append(torch.norm(mean - mod.running_mean, 2) + torch.norm(var - mod.running_var, 2))

    hooks = [m.register_forward_pre_hook(hook) for m in layers]
    try:
        logits = model(x)
    finally:
        for h in hooks:
            h.remove()
    if not terms:
        raise ValueError("data-free synthesis needs a teacher with BatchNorm layers")
    weights = [first_weight] + [1.0] * (len(terms) - 1)
    return sum(w * t for w, t in zip(weights, terms, strict=True)), logits


def _tv(x: torch.Tensor) -> torch.Tensor:
    return (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().mean() + (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean()


def teacher_channels(model: nn.Module) -> int:
    first = next((m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))), None)
    return int(first.weight.shape[1]) if first is not None else 3


def synthesize(teacher: nn.Module, count: int, config: SynthConfig | None = None, batch_size: int = 32,
               progress: bool = True, classes: int | None = None) -> torch.Tensor:
    """`count` images [count, 3, size, size] (normalised like the teacher's inputs) from the teacher's BN
    statistics. The teacher is left unchanged (eval mode, no gradient to its parameters)."""
    config = config or SynthConfig()
    was_training = teacher.training
    teacher.eval()
    flags = [p.requires_grad for p in teacher.parameters()]
    for p in teacher.parameters():
        p.requires_grad_(False)
    g = torch.Generator().manual_seed(config.seed)
    out = []
    if teacher_channels(teacher) == 3:
        lo = torch.from_numpy(-IMAGENET_MEAN / IMAGENET_STD).view(1, 3, 1, 1)
        hi = torch.from_numpy((1 - IMAGENET_MEAN) / IMAGENET_STD).view(1, 3, 1, 1)
    else:
        lo, hi = torch.tensor(-3.0), torch.tensor(3.0)
    bar = Progress(-(-count // batch_size) * config.steps, "synthesize", enabled=progress)
    try:
        for start in range(0, count, batch_size):
            n = min(batch_size, count - start)
            x = torch.randn(n, teacher_channels(teacher), config.size, config.size, generator=g).requires_grad_(True)
            target = None
            optimizer = torch.optim.Adam([x], lr=config.lr, betas=(0.5, 0.9))
            for step in range(config.steps):
                lr = 0.5 * config.lr * (1 + math.cos(math.pi * step / config.steps))
                for group in optimizer.param_groups:
                    group["lr"] = lr
                dx, dy = (int(v) for v in torch.randint(-config.jitter, config.jitter + 1, (2,), generator=g))
                view = torch.roll(x, shifts=(dx, dy), dims=(2, 3))
                if bool(torch.rand(1, generator=g) < 0.5):
                    view = view.flip(3)
                optimizer.zero_grad(set_to_none=True)
                bn_loss, logits = bn_statistics_loss(teacher, view)
                if target is None:
                    k = classes or logits.shape[1]
                    target = torch.randint(0, k, (n,), generator=g)
                loss = config.bn_weight * bn_loss + config.ce_weight * nn.functional.cross_entropy(logits, target) \
                    + config.tv_weight * _tv(x) * x.numel() / n / 1e3 + config.l2_weight * x.pow(2).sum() / n
                loss.backward()
                optimizer.step()
                with torch.no_grad():  # keep pixels inside the image range (normalised [0, 1] for RGB)
                    x.copy_(torch.max(torch.min(x, hi), lo))
                bar.update(1, f"bn {float(bn_loss.detach()):.3f}")
            out.append(x.detach())
    finally:
        bar.close()
        for p, f in zip(teacher.parameters(), flags, strict=True):
            p.requires_grad_(f)
        teacher.train(was_training)
    return torch.cat(out)


class TensorImages:
    """A fixed set of images (e.g. synthesised) served like ImageFolder: random crops/flips of the tensors."""

    def __init__(self, images: torch.Tensor):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def batch(self, epoch: int, index: int, batch_size: int, aug: Augment, seed: int = 0) \
            -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([seed, epoch, index])
        pick = rng.integers(0, len(self.images), batch_size)
        size = self.images.shape[-1]
        views = []
        for i in pick:
            s = int(size * math.sqrt(rng.uniform(max(aug.scale[0], 0.5), 1.0)))
            top, left = int(rng.integers(0, size - s + 1)), int(rng.integers(0, size - s + 1))
            v = self.images[i:i + 1, :, top:top + s, left:left + s]
            v = nn.functional.interpolate(v, size=(aug.size, aug.size), mode="bilinear", align_corners=False)
            if aug.flip and rng.random() < 0.5:
                v = v.flip(3)
            views.append(v)
        x = torch.cat(views)
        if aug.mixup > 0 or aug.cutmix > 0:
            x = mix(x, aug, rng)
        return x, torch.full((batch_size,), -1)

    def batches(self, epoch: int, steps: int, batch_size: int, aug: Augment, seed: int = 0) \
            -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for index in range(steps):
            yield self.batch(epoch, index, batch_size, aug, seed)
