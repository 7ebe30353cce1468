"""Small models for the TVM kernel tests: every kernel kind, pixel tails (7x7 planes), ReLU and ReLU6, and a
group-sparse 1x1 at G = 2 / 4 / 8. Compiling a few small layers keeps the tests to seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("tvm", reason="apache-tvm not installed: pip install apache-tvm==0.27.0.post1")


def _small_net():
    import torch
    from torch import nn

    torch.manual_seed(0)

    def block(cin, cout, stride, act):
        return [nn.Conv2d(cin, cin, 3, stride, 1, groups=cin), nn.BatchNorm2d(cin), act(),
                nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout), act()]

    layers = [nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU6(),
              *block(8, 16, 1, nn.ReLU), *block(16, 32, 2, nn.ReLU6), *block(32, 32, 2, nn.ReLU),
              nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)]
    net = nn.Sequential(*layers).eval()
    with torch.no_grad():  # non-trivial BN statistics so folding changes the weights
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    return net


@pytest.fixture(scope="session", params=[0, 2, 4, 8], ids=lambda g: f"G{g}" if g else "dense")
def small_model(request, tmp_path_factory) -> Path:
    """A 28x28-input net (planes 14, 7, 4) as .sbn: dense (stem conv + 1x1 GEMMs), or pruned 50% into groups of G."""
    import torch

    from sparsebyte.converters import convert
    from sparsebyte.prune import prune_groups

    net = _small_net()
    g = request.param
    if g:
        prune_groups(net, 0.5, group=g)
    path = tmp_path_factory.mktemp("tvm") / (f"small_g{g}.sbn" if g else "small_dense.sbn")
    convert(net, path, example_input=torch.zeros(1, 3, 28, 28), group=g or 4, sparse_threshold=1.0,
            force_dense=not g)
    return path
