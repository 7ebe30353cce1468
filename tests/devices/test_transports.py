"""adb and ssh transports through the real CLI, with fake adb/ssh/scp executables (fake_device.py) standing in for
the phone or Pi: the commands are really issued and the aarch64 runner really runs (under qemu-aarch64)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from device_support import INPUT_SHAPE, fake_device_env, make_tiny_models, read_log, sparsebyte

from sparsebyte import Model
from sparsebyte.devices import AdbDevice, DeviceError


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_tiny_models(tmp_path_factory.mktemp("models"))


def test_adb_profile_pushes_runs_and_pulls(models: dict[str, Path], tmp_path: Path) -> None:
    env = fake_device_env(tmp_path, FAKE_DEVICE_SERIAL="R58M123")
    result = sparsebyte("profile", models["tiny_sparse"], "--device", "adb:R58M123", "--repeat", "3", "--json",
                        "--no-plot", env=env)
    assert result.returncode == 0, result.stderr
    profile = json.loads(result.stdout)
    assert profile["device"] == "adb:R58M123" and profile["backend"] == "neon" and profile["metric"] == "ms"
    rows = {r["name"]: r for r in profile["rows"]}
    assert len(rows) == Model(models["tiny_sparse"]).num_nodes
    assert rows["/pw/pw.0/Conv"]["sparsity"] == 0.5 and rows["/pw/pw.0/Conv"]["group"] == 4  # from METADATA
    assert "spmm" in rows["/pw/pw.0/Conv"]["kernel"] and rows["/pw/pw.0/Conv"]["macs"] == 8192
    assert profile["arena_bytes"] > 0 and profile["peak_rss_kb"] > 0 and profile["latency_ms"]["median"] > 0

    calls = read_log(tmp_path)
    assert all(c["tool"] == "adb" and c["args"][:2] == ["-s", "R58M123"] for c in calls)
    pushes = {c["args"][4] for c in calls if c["args"][2] == "push"}
    assert pushes == {"/data/local/tmp/sparsebyte/sparsebyte-run", "/data/local/tmp/sparsebyte/model.sbn"}
    run = next(c["args"][3] for c in calls if c["args"][2] == "shell" and "./sparsebyte-run" in c["args"][3])
    assert "--repeat 3" in run and "--json" in run and "--threads 1" in run
    assert any(c["args"][2:4] == ["pull", "/data/local/tmp/sparsebyte/report.json"] for c in calls)
    device_dir = tmp_path / "device" / "data/local/tmp/sparsebyte"
    assert sorted(p.name for p in device_dir.iterdir()) == ["sparsebyte-run"]  # data removed, runner kept


def test_ssh_run_with_port_returns_the_engine_outputs(models: dict[str, Path], tmp_path: Path) -> None:
    x = np.random.default_rng(3).standard_normal(INPUT_SHAPE, dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    env = fake_device_env(tmp_path)
    result = sparsebyte("run", models["tiny"], "--device", "ssh:pi@raspberrypi:2222", "--input", tmp_path / "x.npy",
                        "--output", tmp_path / "y.npy", "--repeat", "2", env=env)
    assert result.returncode == 0, result.stderr
    assert "on ssh:pi@raspberrypi:2222 (neon" in result.stdout
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), Model(models["tiny"]).run(x), atol=1e-5, rtol=0)
    calls = read_log(tmp_path)
    assert {c["tool"] for c in calls} == {"ssh", "scp"}
    for call in calls:
        port_flag = "-p" if call["tool"] == "ssh" else "-P"
        assert call["args"][call["args"].index(port_flag) + 1] == "2222" and "BatchMode=yes" in call["args"]
    ssh_hosts = {c["args"][-2] for c in calls if c["tool"] == "ssh"}
    assert ssh_hosts == {"pi@raspberrypi"}
    assert any(c["tool"] == "scp" and c["args"][-1] == "pi@raspberrypi:sparsebyte/input0.npy" for c in calls)
    assert (tmp_path / "device" / "sparsebyte" / "sparsebyte-run").is_file()  # ~/sparsebyte on the device


def test_a_32_bit_device_is_refused_by_name(models: dict[str, Path], tmp_path: Path) -> None:
    env = fake_device_env(tmp_path, FAKE_DEVICE_ARCH="armv7l")
    result = sparsebyte("profile", models["tiny"], "--device", "ssh:pi@oldpi", "--no-plot", env=env)
    assert result.returncode == 2
    assert "ssh:pi@oldpi" in result.stderr and "'armv7l'" in result.stderr and "aarch64" in result.stderr


def test_unknown_adb_serial_is_a_clear_error(models: dict[str, Path], tmp_path: Path) -> None:
    result = sparsebyte("profile", models["tiny"], "--device", "adb:NOPE", "--no-plot", env=fake_device_env(tmp_path))
    assert result.returncode == 2
    assert "adb:NOPE" in result.stderr and "device 'NOPE' not found" in result.stderr


def test_runner_failure_on_the_device_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the CLI validates a model on the host first; the Python API hands it to the device as it is
    for key, value in fake_device_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    garbage = tmp_path / "garbage.sbn"
    garbage.write_bytes(b"SBN\x00" + bytes(100))
    with pytest.raises(DeviceError, match=r"adb:FAKE0001: the runner failed on garbage.sbn \(exit 1\): .*load"):
        AdbDevice("FAKE0001").run(garbage)


def test_missing_adb_is_a_clear_error(models: dict[str, Path], tmp_path: Path) -> None:
    env = fake_device_env(tmp_path, PATH="/usr/bin:/bin")
    result = sparsebyte("profile", models["tiny"], "--device", "adb:X", "--no-plot", env=env)
    assert result.returncode == 2 and "`adb` not found on PATH" in result.stderr


def test_bad_repeat_is_a_usage_error(models: dict[str, Path]) -> None:
    result = sparsebyte("profile", models["tiny"], "--device", "qemu", "--warmup", "-1")
    assert result.returncode == 2 and "--warmup >= 0" in result.stderr


@pytest.mark.parametrize("spec", ["phone", "ssh:", "ssh:pi@host:port", "adb:"])
def test_bad_device_specs(models: dict[str, Path], spec: str) -> None:
    result = sparsebyte("run", models["tiny"], "--device", spec)
    assert result.returncode == 2 and f"--device {spec!r}" in result.stderr
