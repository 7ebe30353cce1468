"""The seeded zoo models (zoo/seeded.py: MobileNetV3-Large/-Small, EfficientNet-B0, ShuffleNetV2, DeepLabV3 on
MobileNetV2, a small UNet, MobileViT-XS-like), each exported at opsets 11, 13, 18 and by the dynamo exporter,
converted by `sparsebyte convert` with no option and run on the host: every output within 1e-4 of its scale of
onnxruntime's, the same top-1 class for the classifiers."""

from __future__ import annotations

import numpy as np
import pytest
import seeded_cases as sc

import sparsebyte
from sparsebyte import sbnformat


@pytest.mark.parametrize("name", list(sc.ENTRIES))
def test_seeded_model_matches_onnxruntime_on_host(name: str) -> None:
    path = sc.converted(name)
    with sparsebyte.Model(path) as model:
        out = model.run(sc.feeds(name)["input"])
        got = out if isinstance(out, dict) else {model.outputs[0].name: out}
    print(sc.report_line(name, "host", got))
    assert sc.harness.problems(sc.ENTRIES[name], got, sc.reference(name)) == []


@pytest.mark.parametrize("exporter", ["opset11", "opset13", "opset18", "dynamo"])
def test_shufflenet_channel_shuffle_is_folded(exporter: str) -> None:
    """passes/channel_shuffle: no Transpose is left of the 16 shuffles; each split after one is a Gather of the
    unshuffled tensor (one copy per half), the shuffle before conv5 is folded into its weights."""
    ops = [n.op for n in sbnformat.read_model(sc.converted(f"shufflenet_v2-{exporter}")).nodes]
    assert "TRANSPOSE" not in ops and "SLICE" not in ops, ops
    # 13 stride-1 units split a shuffled tensor (2 gathers each), 2 stride-2 units read it whole (1 each)
    assert ops.count("GATHER") == 13 * 2 + 2
    assert np.isin(ops, ["CONV", "GATHER", "CONCAT", "MAX_POOL", "GLOBAL_AVG_POOL", "RESHAPE", "FC"]).all()
