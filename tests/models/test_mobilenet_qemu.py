"""The same MobileNets on emulated aarch64 (static runner with the NEON kernels under qemu-aarch64): logits within
1e-4 of PyTorch on two inputs each (a real photo and a random image). qemu is slow (~2 s per MobileNetV2 run), so
this covers fewer configurations than the host test: both models, four sparsities, both group sizes."""

from __future__ import annotations

import numpy as np
import pytest
from mobilenet_cases import ATOL, Converted, inputs, torch_logits

from sparsebyte.devices import run_model

CASES = [("mobilenet_v1", 0.0, 4), ("mobilenet_v1", 0.5, 4), ("mobilenet_v1", 0.7, 1), ("mobilenet_v1", 0.9, 4),
         ("mobilenet_v2", 0.0, 4), ("mobilenet_v2", 0.5, 4), ("mobilenet_v2", 0.7, 4), ("mobilenet_v2", 0.9, 1)]


@pytest.mark.parametrize("name, sparsity, group", CASES, ids=[f"{m}-s{int(s * 100)}-G{g}" for m, s, g in CASES])
def test_qemu_aarch64_matches_pytorch(converted: Converted, name: str, sparsity: float, group: int) -> None:
    model, path = converted(name, sparsity, group)
    xs = [inputs(20)[0], inputs(20)[-1]]  # chelsea the cat and a random normal image
    want = torch_logits(model, xs)
    for x, w in zip(xs, want, strict=True):
        outputs, report = run_model(path, x, "qemu")
        got = outputs["output"][0]
        assert report["backend"] == "neon"
        err = np.abs(got - w).max()
        assert err <= ATOL, f"max abs error {err:.3g} (logits up to {np.abs(w).max():.3g})"
        assert got.argmax() == w.argmax()
        if sparsity > 0:
            assert any(op["op"].endswith("_SPARSE") for op in report["ops"])
