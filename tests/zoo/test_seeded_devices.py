"""The seeded zoo models under qemu-aarch64 (the static runner with the NEON kernels) and in WebAssembly (node):
every exporter variant of a model converted once, merged side by side into one .sbn so that one process per model
and device runs them all (variants that converted to the identical program run once: seeded_cases.merged), each
within 1e-4 of its scale of onnxruntime, same top-1 for the classifiers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import seeded_cases as sc

from sparsebyte.devices import NodeDevice, QemuDevice, RunOptions


@pytest.mark.parametrize("device_name", ["qemu", "node"])
@pytest.mark.parametrize("factory", sc.FACTORIES)
def test_seeded_model_matches_onnxruntime_on_device(factory: str, device_name: str, tmp_path: Path) -> None:
    device = QemuDevice(count_insns=False) if device_name == "qemu" else NodeDevice()
    device.command(tmp_path)  # builds the runner / finds web/dist; a missing tool fails (ToolMissing)
    path, groups = sc.merged(factory)
    files = []
    for i, group in enumerate(groups):
        files.append(tmp_path / f"input{i}.npy")
        np.save(files[-1], sc.feeds(group[0])["input"])  # a model's variants share the feed
    run = device.run(path, files, num_outputs=len(groups), options=RunOptions(warmup=0, repeat=1))
    if device_name == "qemu":
        assert run.report["backend"] == "neon"
    failures = []
    for group, got in zip(groups, run.outputs, strict=True):
        for name in group:  # each variant against its own export's onnxruntime output
            want = sc.reference(name)
            outputs = {"output": got.reshape(want["output"].shape)}
            print(sc.report_line(name, device_name, outputs))
            failures += [f"{name}: {p}" for p in sc.harness.problems(sc.ENTRIES[name], outputs, want)]
    assert failures == []
