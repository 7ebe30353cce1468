"""MobileNet-v1 1.0/224 (Howard et al. 2017). No pretrained weights ship in any wheel, so the weights are random
with a fixed seed. The BatchNorm statistics are calibrated on seeded random images and then perturbed (non-trivial
BN folding, activations of a realistic scale over 27 layers), and the classifier is centred so that the top-1 class
depends on the input."""

from __future__ import annotations

import torch
from torch import nn

# (output channels, stride) of the 13 depthwise-separable blocks
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
          (512, 1), (1024, 2), (1024, 1))


def _conv_bn(inp: int, oup: int, kernel: int, stride: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, oup, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU(inplace=True),
    )


class MobileNetV1(nn.Module):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        layers = [_conv_bn(3, 32, 3, 2)]
        channels = 32
        for out, stride in BLOCKS:
            layers.append(_conv_bn(channels, channels, 3, stride, groups=channels))  # depthwise
            layers.append(_conv_bn(channels, out, 1, 1))  # pointwise
            channels = out
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


def _calibration_images(batch: int, generator: torch.Generator) -> torch.Tensor:
    """Half white noise, half smooth noise (upsampled from coarse grids): photos are spatially correlated, and
    statistics from white noise alone leave real photos with logits in the hundreds."""
    white = torch.randn(batch - batch // 2, 3, 224, 224, generator=generator)
    smooth = [nn.functional.interpolate(torch.randn(1, 3, size, size, generator=generator) * 1.5, size=(224, 224),
                                        mode="bilinear", align_corners=False)
              for size in (7, 14, 28, 56)[: batch // 2]]
    return torch.cat([white, *smooth])


@torch.no_grad()
def _calibrate_batchnorm(model: nn.Module, generator: torch.Generator, batches: int = 2, batch: int = 4) -> None:
    """Running stats from random inputs (cumulative average), then random affine parameters around them."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    for _ in range(batches):
        model(_calibration_images(batch, generator))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.copy_(torch.empty_like(m.weight).uniform_(0.5, 1.5, generator=generator))
            m.bias.copy_(torch.empty_like(m.bias).normal_(0.0, 0.2, generator=generator))
            m.running_var.mul_(torch.empty_like(m.running_var).uniform_(0.8, 1.25, generator=generator))
            m.momentum = 0.1
    _center_classifier(model, generator)


@torch.no_grad()
def _center_classifier(model: MobileNetV1, generator: torch.Generator, batch: int = 8) -> None:
    """Random features share a large common component; without this every input gets the same top-1 class.
    Subtract it through the FC bias and scale the logits to a std of about 3 over random inputs."""
    model.eval()
    x = model.features(_calibration_images(batch, generator))
    features = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
    mean = features.mean(0)
    spread = ((features - mean) @ model.fc.weight.T).std()
    model.fc.weight.mul_(3.0 / spread)
    noise = torch.empty_like(model.fc.bias).normal_(0.0, 0.1, generator=generator)
    model.fc.bias.copy_(-model.fc.weight @ mean + noise)


def mobilenet_v1(seed: int = 0) -> MobileNetV1:
    """MobileNet-v1 1.0/224 in eval mode, deterministic for a given seed."""
    generator = torch.Generator().manual_seed(seed)
    model = MobileNetV1()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1] // m.groups
                m.weight.normal_(0.0, (2.0 / fan_out) ** 0.5, generator=generator)
            elif isinstance(m, nn.Linear):
                m.weight.normal_(0.0, (1.0 / m.in_features) ** 0.5, generator=generator)
                m.bias.normal_(0.0, 0.1, generator=generator)
    _calibrate_batchnorm(model, generator)
    return model.eval()
