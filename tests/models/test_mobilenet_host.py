"""MobileNet-v1 and MobileNetV2 at 0/50/70/90% group sparsity (G = 1 and 4) on the host: the engine's logits match
the masked PyTorch model within 1e-4 max abs, with the same top-1 class, on 20 inputs (4 real photos + 16 random)."""

from __future__ import annotations

import numpy as np
import pytest
from mobilenet_cases import ATOL, Converted, inputs, torch_logits

from sparsebyte import Model

CASES = [(model, sparsity, group) for model in ("mobilenet_v1", "mobilenet_v2")
         for sparsity, groups in ((0.0, (4,)), (0.5, (1, 4)), (0.7, (1, 4)), (0.9, (1, 4))) for group in groups]


@pytest.mark.parametrize("name, sparsity, group", CASES, ids=[f"{m}-s{int(s * 100)}-G{g}" for m, s, g in CASES])
def test_engine_matches_pytorch(converted: Converted, name: str, sparsity: float, group: int) -> None:
    model, path = converted(name, sparsity, group)
    engine = Model(path)
    xs = inputs(20)
    want = torch_logits(model, xs)
    got = np.concatenate([engine.run(x) for x in xs])
    err = np.abs(got - want).max()
    assert err <= ATOL, f"max abs error {err:.3g} (logits up to {np.abs(want).max():.3g})"
    np.testing.assert_array_equal(got.argmax(1), want.argmax(1))
    if sparsity > 0:  # the sparse path really ran: pointwise convs and the classifier skip the pruned weights
        rows = engine.profile(xs[0])
        sparse = [r for r in rows if r["op"].endswith("_SPARSE")]
        assert len(sparse) >= 14, [r["op"] for r in rows]
        macs, dense = sum(r["macs"] for r in rows), sum(r["dense_macs"] for r in rows)
        assert macs < (1 - sparsity / 2) * dense
