"""Export -> sparsebyte convert -> the engine, checked against the masked PyTorch model."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_models import coupling_net, plain_net

from sparsebyte.converters import convert
from sparsebyte.runtime import Model
from sparsebyte.sparsify.api import Options, sparsify
from sparsebyte.sparsify.cli import main
from sparsebyte.sparsify.export import apply_masks, load_masks
from sparsebyte.sparsify.masks import Pattern


@pytest.mark.parametrize("build", [plain_net, coupling_net])
def test_export_converts_and_the_engine_matches_the_masked_model(tmp_path: Path, build) -> None:  # noqa: ANN001
    example = torch.zeros(1, 3, 8, 8)
    result = sparsify(build(), example, Options(0.6, Pattern("group", group=4), rearrange=True), progress=False)
    paths = result.export(tmp_path)
    report = convert(paths["onnx"], str(tmp_path / "model.sbn"), group=4, sparse_threshold=1.0)
    assert report.sparse_layers >= 1
    engine = Model(str(tmp_path / "model.sbn"))
    reference = torch.jit.load(paths["torchscript"])
    x = np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype(np.float32)
    out = engine.run({engine.inputs[0].name: x})
    got = out if isinstance(out, np.ndarray) else next(iter(out.values()))
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    table = json.loads(Path(paths["report"]).read_text())["layers"]
    assert {row["layer"] for row in table} == set(result.masks)


def test_masks_file_rebuilds_the_masked_model(tmp_path: Path) -> None:
    dense = plain_net()
    pruned = plain_net()
    result = sparsify(pruned, torch.zeros(1, 3, 8, 8), Options(0.5), progress=False)
    paths = result.export(tmp_path, onnx=False)
    masks, pattern = load_masks(paths["masks"])
    assert pattern == Pattern("group", group=4)
    apply_masks(dense, masks)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(dense(x), result.model(x))
    with pytest.raises(ValueError, match="no module named"):
        apply_masks(plain_net(), {"nope": torch.ones(1)})


def test_export_refuses_unbaked_weights(tmp_path: Path) -> None:
    model = plain_net()
    mask = torch.zeros_like(model.fc.weight)
    with pytest.raises(ValueError, match="fc has nonzero weights"):
        from sparsebyte.sparsify.export import export

        export(model, {"fc": mask}, Pattern(), tmp_path, torch.zeros(1, 3, 8, 8))


def test_cli_sparsify_then_convert(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    out = tmp_path / "out"
    status = main(["--torch", "tiny_models:plain_net", "--input-shape", "1,3,8,8", "--sparsity", "0.5",
                   "--rearrange", "--allocation", "global", "-o", str(out), "--quiet"])
    assert status == 0
    text = capsys.readouterr().out
    assert "sparsebyte convert" in text and "features.3" in text
    assert {"model.onnx", "model.pt", "masks.pt", "state_dict.pt", "report.json"} <= {p.name for p in out.iterdir()}
    masks, _ = load_masks(out / "masks.pt")
    zeros = sum(int((m == 0).sum()) for m in masks.values())
    assert zeros / sum(m.numel() for m in masks.values()) == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("argv, message", [
    (["--model", "resnet9000"], "known models"),
    (["--torch", "nomodule"], "expected module:callable"),
    (["--model", "mnist", "--epochs", "2"], "--epochs needs --data"),
    (["--model", "mnist", "--pattern", "nm", "--nm", "2-4"], "expected N:M"),
    (["--model", "mnist", "--sparsity", "1.5"], "sparsity must be in"),
])
def test_cli_errors(argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main([*argv, "-o", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
