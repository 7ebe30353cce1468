"""Per-thread instruction counts under qemu-aarch64 (tools/qemu-insn-count counts per guest thread; QemuDevice
reports each thread's work and the critical path of a multi-threaded run). Small models only: a few seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from device_support import make_tiny_models
from torch import nn

from sparsebyte.devices import QemuDevice
from sparsebyte.devices.base import RunOptions
from sparsebyte.devices.qemu import makespan
from sparsebyte.report import build_profile, summary


class InlineCountingDevice(QemuDevice):
    """The plugin's old single-thread counting (one inline add per block), with the same marks."""

    def command(self, work: Path) -> list[str]:
        cmd = super().command(work)
        cmd[2] += ",inline=1"
        return cmd


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    files = make_tiny_models(root)
    # big enough that its 1x1 and depthwise layers split into chunks at 2 threads, small enough for a second
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1), nn.ReLU(), nn.Conv2d(32, 32, 3, 1, 1, groups=32), nn.ReLU(),
                        nn.Conv2d(32, 64, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    from sparsebyte.converters import convert

    convert(net.eval(), root / "wide.sbn", example_input=torch.zeros(1, 3, 64, 64), force_dense=True)
    files["wide"] = root / "wide.sbn"
    return files


def test_one_thread_counts_equal_the_single_counter_and_sum_to_the_total(models: dict[str, Path]) -> None:
    per_thread = QemuDevice().run(models["tiny_sparse"]).report
    single = InlineCountingDevice().run(models["tiny_sparse"]).report
    assert [op["insns"] for op in per_thread["ops"]] == [op["insns"] for op in single["ops"]]
    assert per_thread["run_insns"] == single["run_insns"] == per_thread["critical_path_insns"]
    assert per_thread["thread_insns"] == [per_thread["work_insns"]] == [per_thread["run_insns"]]
    assert sum(per_thread["process_thread_insns"]) == per_thread["process_insns"]
    assert all(op["thread_insns"] == [op["insns"]] and op["chunk_insns"] == [] for op in per_thread["ops"])


def test_two_threads_split_the_work_and_give_the_same_results(models: dict[str, Path], tmp_path: Path) -> None:
    x = np.random.default_rng(3).standard_normal((1, 3, 64, 64), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    device = QemuDevice()
    one = device.run(models["wide"], [tmp_path / "x.npy"], 1, RunOptions(threads=1))
    two = device.run(models["wide"], [tmp_path / "x.npy"], 1, RunOptions(threads=2))
    np.testing.assert_allclose(two.outputs[0], one.outputs[0], atol=1e-5, rtol=0)
    r = two.report
    assert r["threads"] == 2 and len(r["thread_insns"]) == 2 and min(r["thread_insns"]) > 0
    assert sum(r["thread_insns"]) == r["work_insns"]
    assert sum(r["process_thread_insns"]) == r["process_insns"]
    assert r["work_insns"] / 2 <= r["critical_path_insns"] <= r["work_insns"]
    assert r["critical_path_insns"] < 0.8 * one.report["critical_path_insns"]  # the 1x1 and depthwise layers split
    for op in r["ops"]:
        assert len(op["thread_insns"]) == 2
        # chunks are the same work whichever thread runs them: an op's work is at least its chunks'
        assert sum(op["chunk_insns"]) <= sum(op["thread_insns"])
    assert any(len(op["chunk_insns"]) >= 2 for op in r["ops"])
    # the modelled critical path hardly depends on timing (chunks are index ranges; a depthwise chunk costs 16
    # instructions more on a worker than on the caller: memset of its stack buffer, at another alignment)
    again = device.run(models["wide"], [tmp_path / "x.npy"], 1, RunOptions(threads=2)).report
    assert again["critical_path_insns"] == pytest.approx(r["critical_path_insns"], rel=1e-3)
    # the profile's summary names the figure for what it is
    line = summary(build_profile(models["wide"], r, "insns"))
    assert f"critical path {r['critical_path_insns']:,} instructions on 2 equal cores" in line
    assert f"{r['work_insns']:,} in all threads" in line


def test_makespan_claims_chunks_in_order() -> None:
    assert makespan([], 4) == 0
    assert makespan([5, 5, 5, 5], 2) == 10
    assert makespan([1, 1, 9, 1], 2) == 9  # biggest first
    assert makespan([3, 3, 3], 1) == 9

