"""Seeded zoo models pruned into the group pattern (sparsebyte.prune.prune_groups, 50 %, G = 4) run their convs
through the sparse kernels: MobileNetV3-Small's 1x1 convs (expand, project, squeeze-excite, head) through f32-spmm,
the small UNet's 3x3 convs through f32-spconv (kernel-level sparsity). The engine matches onnxruntime on the pruned
export and the masked PyTorch model on the host, and onnxruntime under qemu-aarch64 and in node (both models in one
process per device)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
import seeded_cases as sc
import torch

import sparsebyte
from sparsebyte import sbnformat
from sparsebyte.converters import convert
from sparsebyte.devices import NodeDevice, QemuDevice, RunOptions
from sparsebyte.prune import prune_groups
from zoo import seeded
from zoo.registry import Tolerance

SPARSITY, GROUP = 0.5, 4
# model, the zoo entry whose feed it takes, the sparse kernel family its pruned convs must use, their kernel size
CASES = {"mobilenet_v3_small": ("mobilenet_v3_small-opset13", "f32_spmm", 1),
         "unet_small": ("unet_small-opset13", "f32_spconv", 3)}


@cache
def pruned(factory: str) -> tuple[torch.nn.Module, dict[str, torch.Tensor], Path, Path]:
    """The pruned model, its masks, its opset-13 export and the .sbn converted from it."""
    model = seeded.build(factory)
    masks = prune_groups(model, SPARSITY, group=GROUP)
    work = sc.workdir()
    onnx_path, sbn_path = work / f"{factory}-pruned.onnx", work / f"{factory}-pruned.sbn"
    seeded.export_to(model, seeded.MODELS[factory][1], "ts13", onnx_path)
    convert(onnx_path, sbn_path)
    return model, masks, onnx_path, sbn_path


def feed(factory: str) -> np.ndarray:
    return sc.feeds(CASES[factory][0])["input"]


@cache
def ort_output(factory: str) -> np.ndarray:
    import onnxruntime as ort

    path = pruned(factory)[2]
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": feed(factory)})[0]


def tolerance(factory: str) -> Tolerance:
    return sc.ENTRIES[CASES[factory][0]].tolerance


@pytest.mark.parametrize("factory", list(CASES))
def test_pruned_convs_run_sparse_kernels_on_host(factory: str) -> None:
    model, masks, _, path = pruned(factory)
    _, family, k = CASES[factory]
    # the pruned layers the engine must run sparse: the dense groups=1 convs of kernel size k (not the stem)
    convs = {name for name, m in model.named_modules() if name in masks and isinstance(m, torch.nn.Conv2d)
             and m.kernel_size == (k, k)}
    assert len(convs) >= 10, sorted(convs)
    with sparsebyte.Model(path) as engine:
        x = feed(factory)
        got = engine.run(x)
        rows = engine.profile(x)
    macs, dense = sum(r["macs"] for r in rows), sum(r["dense_macs"] for r in rows)
    assert macs < 0.8 * dense  # the pruned half of the pointwise/kxk MACs is skipped
    # every pruned conv of size k is a CONV_SPARSE node running the family's kernels (the stem stays dense)
    family_of = {r["name"]: r["kernel_family"] for r in rows}
    nodes = sbnformat.read_model(path).nodes
    kxk = [n for n in nodes if n.op in ("CONV", "CONV_SPARSE") and n.attrs[0] == k and n.attrs[10] <= 1]
    sparse = [n.name for n in kxk if n.op == "CONV_SPARSE"]
    assert len(sparse) == len(convs), [(n.name, n.op) for n in kxk]
    assert {family_of[n] for n in sparse} == {family}
    want_ort = ort_output(factory)
    assert tolerance(factory).problems(got, want_ort, "output") == []
    with torch.no_grad():
        want_torch = model(torch.from_numpy(x)).numpy()
    for mask_name, mask in masks.items():  # the model really is masked: pruned weights are zero
        weight = dict(model.named_modules())[mask_name].weight
        assert torch.all(weight[mask == 0] == 0)
    assert tolerance(factory).problems(got, want_torch, "output") == []


@pytest.mark.parametrize("device_name", ["qemu", "node"])
def test_pruned_models_match_onnxruntime_on_device(device_name: str, tmp_path: Path) -> None:
    device = QemuDevice(count_insns=False) if device_name == "qemu" else NodeDevice()
    device.command(tmp_path)  # builds the runner / finds web/dist; a missing tool fails (ToolMissing)
    factories = list(CASES)
    path = sc.merge([pruned(f)[3] for f in factories], tmp_path / "pruned.sbn")
    files = []
    for i, f in enumerate(factories):
        files.append(tmp_path / f"input{i}.npy")
        np.save(files[-1], feed(f))
    run = device.run(path, files, num_outputs=len(factories), options=RunOptions(warmup=0, repeat=1))
    # the runner's report names kernels (sb_<family>_ukernel__<variant>): the SIMD ones of both sparse families
    kernels = {op["kernel"] for op in run.report["ops"] if op["op"] == "CONV_SPARSE"}
    simd = "neon" if device_name == "qemu" else "wasm"
    for family in ("f32_spmm", "f32_spconv"):
        assert any(k.startswith(f"sb_{family}_ukernel__{simd}") for k in kernels), sorted(kernels)
    for f, got in zip(factories, run.outputs, strict=True):
        want = ort_output(f)
        err = float(np.abs(got.reshape(want.shape) - want).max())
        print(f"{f} pruned {SPARSITY:.0%} G={GROUP} on {device_name}: max abs error {err:.3g} "
              f"(scale {np.abs(want).max():.3g})")
        assert tolerance(f).problems(got.reshape(want.shape), want, "output") == [], f
