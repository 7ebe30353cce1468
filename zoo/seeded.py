"""The seeded part of the real-model zoo: mobile vision architectures written here in PyTorch (no torchvision), with
seeded weights of realistic scale, exported by torch.onnx at opsets 11, 13 and 18 (TorchScript exporter) and by the
dynamo exporter. Exports are cached under ~/.cache/sparsebyte-test/zoo (or $SPARSEBYTE_TEST_CACHE/zoo), keyed by a
hash of this file, the model, the exporter and the torch version.

Weights: PyTorch's default initialisation, BatchNorm/LayerNorm affine parameters drawn from a seeded distribution,
and BatchNorm running statistics measured on seeded random batches (train mode, cumulative average), so every layer
sees normalised activations of unit scale and the errors of a converted model mean what they would on a trained one.

    from zoo.seeded import export_file, build
    path = export_file("mobilenet_v3_small", "ts13")   # cached .onnx (zoo.model_file(entry) for registry entries)
    model = build("mobilenet_v3_small")            # the torch.nn.Module (eval mode)
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

EXPORTERS = ("ts11", "ts13", "ts18", "dynamo")  # TorchScript exporter at opset 11/13/18; dynamo exporter (opset 18)
SEED = 20261202


def _div8(v: float) -> int:
    """Channel counts rounded to a multiple of 8 (never below 90 % of v), as in the MobileNet papers."""
    n = max(8, int(v + 4) // 8 * 8)
    return n + 8 if n < 0.9 * v else n


class ConvBN(nn.Sequential):
    def __init__(self, cin: int, cout: int, k: int = 1, stride: int = 1, groups: int = 1, act: type | None = nn.ReLU,
                 dilation: int = 1) -> None:
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, dilation * (k - 1) // 2, dilation, groups,
                                             bias=False), nn.BatchNorm2d(cout)]
        if act is not None:
            layers.append(act())
        super().__init__(*layers)


class SqueezeExcite(nn.Module):
    def __init__(self, c: int, squeeze: int, act: type = nn.ReLU, gate: type = nn.Hardsigmoid) -> None:
        super().__init__()
        self.fc1, self.act = nn.Conv2d(c, squeeze, 1), act()
        self.fc2, self.gate = nn.Conv2d(squeeze, c, 1), gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.adaptive_avg_pool2d(x, 1)
        return x * self.gate(self.fc2(self.act(self.fc1(s))))


class MBConv(nn.Module):
    """Inverted residual: optional 1x1 expand, kxk depthwise (stride, dilation), optional SE, 1x1 project."""

    def __init__(self, cin: int, k: int, hidden: int, cout: int, se: int, act: type, stride: int,
                 se_act: type = nn.ReLU, se_gate: type = nn.Hardsigmoid, dilation: int = 1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if hidden != cin:
            layers.append(ConvBN(cin, hidden, 1, act=act))
        layers.append(ConvBN(hidden, hidden, k, stride, hidden, act, dilation))
        if se:
            layers.append(SqueezeExcite(hidden, se, se_act, se_gate))
        layers.append(ConvBN(hidden, cout, 1, act=None))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


# MobileNetV3 (Howard et al. 2019, tables 1 and 2): kernel, expanded, out, SE, hardswish, stride
_V3_LARGE = [(3, 16, 16, False, False, 1), (3, 64, 24, False, False, 2), (3, 72, 24, False, False, 1),
             (5, 72, 40, True, False, 2), (5, 120, 40, True, False, 1), (5, 120, 40, True, False, 1),
             (3, 240, 80, False, True, 2), (3, 200, 80, False, True, 1), (3, 184, 80, False, True, 1),
             (3, 184, 80, False, True, 1), (3, 480, 112, True, True, 1), (3, 672, 112, True, True, 1),
             (5, 672, 160, True, True, 2), (5, 960, 160, True, True, 1), (5, 960, 160, True, True, 1)]
_V3_SMALL = [(3, 16, 16, True, False, 2), (3, 72, 24, False, False, 2), (3, 88, 24, False, False, 1),
             (5, 96, 40, True, True, 2), (5, 240, 40, True, True, 1), (5, 240, 40, True, True, 1),
             (5, 120, 48, True, True, 1), (5, 144, 48, True, True, 1), (5, 288, 96, True, True, 2),
             (5, 576, 96, True, True, 1), (5, 576, 96, True, True, 1)]


class MobileNetV3(nn.Module):
    def __init__(self, config: list[tuple[int, int, int, bool, bool, int]], last: int, classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBN(3, 16, 3, 2, act=nn.Hardswish)]
        c = 16
        for k, hidden, cout, se, hs, stride in config:
            layers.append(MBConv(c, k, hidden, cout, _div8(hidden / 4) if se else 0, nn.Hardswish if hs else nn.ReLU,
                                 stride))
            c = cout
        layers.append(ConvBN(c, 6 * c, 1, act=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(6 * c, last), nn.Hardswish(), nn.Dropout(0.2),
                                        nn.Linear(last, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class EfficientNetB0(nn.Module):
    # expand ratio, kernel, stride, out channels, repeats (Tan & Le 2019, table 1)
    STAGES = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
              (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBN(3, 32, 3, 2, act=nn.SiLU)]
        c = 32
        for expand, k, stride, cout, repeats in self.STAGES:
            for i in range(repeats):
                layers.append(MBConv(c, k, c * expand, cout, max(1, c // 4), nn.SiLU, stride if i == 0 else 1,
                                     nn.SiLU, nn.Sigmoid))
                c = cout
        layers.append(ConvBN(c, 1280, 1, act=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        half = cout // 2
        self.stride = stride
        if stride > 1:
            self.branch1 = nn.Sequential(ConvBN(cin, cin, 3, stride, cin, None), ConvBN(cin, half, 1))
        self.branch2 = nn.Sequential(ConvBN(cin if stride > 1 else half, half, 1),
                                     ConvBN(half, half, 3, stride, half, None), ConvBN(half, half, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), 1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), 1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """ShuffleNetV2 1.0x (Ma et al. 2018)."""

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBN(3, 24, 3, 2), nn.MaxPool2d(3, 2, 1)]
        c = 24
        for cout, repeats in ((116, 4), (232, 8), (464, 4)):
            for i in range(repeats):
                layers.append(ShuffleUnit(c, cout, 2 if i == 0 else 1))
                c = cout
        layers.append(ConvBN(c, 1024, 1))
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(1024, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean([2, 3]))


class DeepLabV3MobileNetV2(nn.Module):
    """DeepLabV3 (Chen et al. 2017): MobileNetV2 backbone at output stride 16 (the last strided stage dilated),
    ASPP (1x1, three dilated 3x3, image pooling), bilinear upsampling to the input size."""

    # expand, out channels, repeats, stride (Sandler et al. 2018, table 2)
    STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 1),
              (6, 320, 1, 1)]

    def __init__(self, classes: int = 21, aspp: int = 128, rates: tuple[int, ...] = (6, 12, 18)) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBN(3, 32, 3, 2, act=nn.ReLU6)]
        c, dilation = 32, 1
        for i, (expand, cout, repeats, stride) in enumerate(self.STAGES):
            if i == 5:
                dilation = 2  # the stride-2 stage of the classifier network, dilated instead (output stride 16)
            for j in range(repeats):
                layers.append(MBConv(c, 3, c * expand, cout, 0, nn.ReLU6, stride if j == 0 else 1,
                                     dilation=dilation))
                c = cout
        self.backbone = nn.Sequential(*layers)
        self.branches = nn.ModuleList([ConvBN(c, aspp, 1)] + [ConvBN(c, aspp, 3, dilation=r) for r in rates])
        self.pool = ConvBN(c, aspp, 1)
        self.project = ConvBN(aspp * (len(rates) + 2), aspp, 1)
        self.head = nn.Sequential(ConvBN(aspp, aspp, 3), nn.Conv2d(aspp, classes, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.backbone(x)
        pooled = self.pool(F.adaptive_avg_pool2d(f, 1))
        branches = [b(f) for b in self.branches]
        branches.append(F.interpolate(pooled, size=f.shape[-2:], mode="bilinear", align_corners=False))
        y = self.head(self.project(torch.cat(branches, 1)))
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


class UNet(nn.Module):
    """A small UNet (Ronneberger et al. 2015): 3 levels down (max pool), 2x2 stride-2 ConvTranspose up, skip Concat."""

    def __init__(self, cin: int = 3, classes: int = 2, width: int = 16, depth: int = 3) -> None:
        super().__init__()
        chans = [width * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList()
        c = cin
        for ch in chans:
            self.down.append(nn.Sequential(ConvBN(c, ch, 3), ConvBN(ch, ch, 3)))
            c = ch
        self.up = nn.ModuleList([nn.ConvTranspose2d(chans[i + 1], chans[i], 2, 2) for i in reversed(range(depth))])
        self.merge = nn.ModuleList([nn.Sequential(ConvBN(2 * chans[i], chans[i], 3), ConvBN(chans[i], chans[i], 3))
                                    for i in reversed(range(depth))])
        self.out = nn.Conv2d(chans[0], classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(F.max_pool2d(x, 2) if i else x)
            skips.append(x)
        for up, merge, skip in zip(self.up, self.merge, reversed(skips[:-1]), strict=True):
            x = merge(torch.cat((skip, up(x)), 1))
        return self.out(x)


class Attention(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        attn = torch.softmax(q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5, dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, d))


class TransformerLayer(nn.Module):
    def __init__(self, d: int, heads: int, mlp: int) -> None:
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(d), Attention(d, heads)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, mlp), nn.GELU(), nn.Linear(mlp, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class MobileViTBlock(nn.Module):
    """MobileViT block (Mehta & Rastegari 2022): local 3x3 + 1x1, unfold into 2x2 patches, transformer layers over
    the patches, fold back, 1x1, concat with the input, 3x3 fusion."""

    def __init__(self, c: int, d: int, layers: int, heads: int = 4, patch: int = 2) -> None:
        super().__init__()
        self.patch = patch
        self.local = nn.Sequential(ConvBN(c, c, 3, act=nn.SiLU), nn.Conv2d(c, d, 1, bias=False))
        self.transformer = nn.Sequential(*[TransformerLayer(d, heads, 2 * d) for _ in range(layers)], nn.LayerNorm(d))
        self.project = ConvBN(d, c, 1, act=nn.SiLU)
        self.fuse = ConvBN(2 * c, c, 3, act=nn.SiLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.local(x)
        n, d, h, w = y.shape
        p = self.patch
        # unfold: [N, d, H, W] -> [N * p * p, H * W / p^2, d] (one sequence per pixel position inside the patch)
        y = y.reshape(n, d, h // p, p, w // p, p).permute(0, 3, 5, 2, 4, 1).reshape(n * p * p, h * w // (p * p), d)
        y = self.transformer(y)
        y = y.reshape(n, p, p, h // p, w // p, d).permute(0, 5, 3, 1, 4, 2).reshape(n, d, h, w)  # fold
        return self.fuse(torch.cat((x, self.project(y)), 1))


class MobileViTXS(nn.Module):
    """MobileViT-XS-like: the XS channel plan (Mehta & Rastegari 2022, table 4) with two MobileViT stages."""

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        s = nn.SiLU
        self.features = nn.Sequential(
            ConvBN(3, 16, 3, 2, act=s), MBConv(16, 3, 64, 32, 0, s, 1),
            MBConv(32, 3, 128, 48, 0, s, 2), MBConv(48, 3, 192, 48, 0, s, 1),
            MBConv(48, 3, 192, 64, 0, s, 2), MobileViTBlock(64, 96, 2),
            MBConv(64, 3, 256, 80, 0, s, 2), MobileViTBlock(80, 120, 2),
            ConvBN(80, 320, 1, act=s))
        self.fc = nn.Linear(320, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


# name -> (constructor, input shape, kind)
MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], str]] = {
    "mobilenet_v3_large": (lambda: MobileNetV3(_V3_LARGE, 1280), (1, 3, 224, 224), "classifier"),
    "mobilenet_v3_small": (lambda: MobileNetV3(_V3_SMALL, 1024), (1, 3, 224, 224), "classifier"),
    "efficientnet_b0": (EfficientNetB0, (1, 3, 224, 224), "classifier"),
    "shufflenet_v2": (ShuffleNetV2, (1, 3, 224, 224), "classifier"),
    "deeplabv3_mobilenet_v2": (DeepLabV3MobileNetV2, (1, 3, 224, 224), "segmenter"),
    "unet_small": (UNet, (1, 3, 128, 128), "segmenter"),
    "mobilevit_xs": (MobileViTXS, (1, 3, 128, 128), "classifier"),
}


def _seed_parameters(model: nn.Module, shape: tuple[int, ...], gen: torch.Generator) -> None:
    """Norm affine parameters from a seeded distribution, then BN running stats measured on seeded batches."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d | nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.normal_(0.0, 0.1, generator=gen)
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = None  # cumulative average over the calibration batches
                m.reset_running_stats()
        model.train()
        for _ in range(2):
            model(torch.randn((4, *shape[1:]), generator=gen))
    model.eval()


def build(name: str) -> nn.Module:
    """The seeded model `name` of MODELS, in eval mode (deterministic for a given torch version)."""
    ctor, shape, _ = MODELS[name]
    torch.manual_seed(SEED)
    model = ctor()
    _seed_parameters(model, shape, torch.Generator().manual_seed(SEED + 1))
    return model


# ---- exports (the cache key hashes the text above this line: the definitions and the seeding) ----
_MARK = "# ---- exports (the cache key"


def cache_dir() -> Path:
    root = os.environ.get("SPARSEBYTE_TEST_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "sparsebyte-test") / "zoo"


def cache_key(name: str, exporter: str) -> str:
    text = Path(__file__).read_text()
    h = hashlib.sha256(text[:text.index(_MARK)].encode())
    h.update(f"{name}|{exporter}|{torch.__version__}".encode())
    return h.hexdigest()[:16]


def export_to(model: nn.Module, shape: tuple[int, ...], exporter: str, path: Path) -> None:
    """Export `model` with one of EXPORTERS into one self-contained .onnx file (weights inside)."""
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter {exporter!r}: expected one of {EXPORTERS}")
    x = torch.zeros(shape)
    kwargs = {"input_names": ["input"], "output_names": ["output"]}
    with torch.no_grad():
        if exporter == "dynamo":
            program = torch.onnx.export(model, (x,), dynamo=True, opset_version=18, verbose=False, **kwargs)
            program.save(str(path), external_data=False)
        else:
            torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=int(exporter[2:]), **kwargs)


@functools.lru_cache(maxsize=1)
def _built(name: str) -> nn.Module:
    """One build for the four exports of a model (export_to does not change it)."""
    return build(name)


def exporter_of(source: Any) -> str:
    """The EXPORTERS entry of a registry ``Seeded`` source."""
    return "dynamo" if source.dynamo else f"ts{source.opset}"


def export(entry: Any) -> Path:
    """The cached .onnx of a zoo/registry.py entry with a ``Seeded`` source (zoo.model_file calls this)."""
    return export_file(entry.source.factory, exporter_of(entry.source))


def export_file(name: str, exporter: str) -> Path:
    """The cached .onnx of model `name` exported by `exporter` (built and exported on the first call)."""
    if name not in MODELS:
        raise KeyError(f"no seeded model {name!r}; known: {sorted(MODELS)}")
    path = cache_dir() / f"{name}-{exporter}-{cache_key(name, exporter)}.onnx"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            part = Path(tmp) / path.name
            export_to(_built(name), MODELS[name][1], exporter, part)
            os.replace(part, path)  # atomic: a concurrent or interrupted export never leaves half a file
    return path
