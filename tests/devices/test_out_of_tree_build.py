"""The device programs as an installed package builds them: the static aarch64 runner and the qemu plugin from a
read-only copy of the files a wheel ships (resources.native_files, under sparsebyte/_native/) into a separate build
root, and the qemu device runs with them. Missing tools are one-line errors naming the package to install."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from device_support import INPUT_SHAPE, make_tiny_models

from sparsebyte import Model, resources
from sparsebyte.devices import QemuDevice, ToolMissing, get_device, tools


@pytest.fixture()
def packaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """(source root, build root): a read-only copy of the packaged sources and an empty cache directory."""
    checkout = resources.source_root()
    source, build = tmp_path / "site-packages" / "sparsebyte" / "_native", tmp_path / "cache"
    for path in resources.native_files(checkout):
        target = source / path.relative_to(checkout)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    for root, _, files in os.walk(source):
        for name in files:
            os.chmod(Path(root) / name, stat.S_IRUSR | stat.S_IRGRP)
        os.chmod(root, stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setattr(resources, "source_root", lambda: source)
    monkeypatch.setattr(resources, "build_root", lambda: build)
    monkeypatch.delenv(tools.RUNNER_ENV, raising=False)
    yield source, build
    for root, _, _ in os.walk(source):
        os.chmod(root, stat.S_IRWXU)


def test_runner_and_plugin_build_outside_the_source_tree(packaged: tuple[Path, Path], tmp_path: Path) -> None:
    source, build = packaged
    before = sorted(source.rglob("*"))
    runner, plugin = tools.aarch64_runner(), tools.insn_count_plugin()
    assert runner == build / "aarch64" / "sparsebyte-run" and runner.is_file()
    assert plugin == build / "qemu-insn-count" / "libinsn_count.so" and plugin.is_file()
    assert sorted(source.rglob("*")) == before  # nothing written into the (read-only) sources
    assert tools.aarch64_runner().stat().st_mtime == runner.stat().st_mtime  # up to date: not rebuilt

    models = make_tiny_models(tmp_path)
    x = np.random.default_rng(5).standard_normal(INPUT_SHAPE, dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    run = QemuDevice().run(models["tiny_sparse"], [tmp_path / "x.npy"], num_outputs=1)
    np.testing.assert_allclose(run.outputs[0], Model(models["tiny_sparse"]).run(x), atol=1e-5, rtol=0)
    assert run.report["backend"] == "neon" and all(op["insns"] > 0 for op in run.report["ops"])


def _path_with(tmp_path: Path, *programs: str) -> str:
    """A PATH holding only links to `programs` (found on the real PATH)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for program in programs:
        found = shutil.which(program)
        assert found, program
        (bin_dir / program).symlink_to(found)
    return str(bin_dir)


@pytest.mark.parametrize("present, call, missing, install", [
    ((), tools.aarch64_runner, "aarch64-linux-gnu-gcc", "apt-get install -y gcc-aarch64-linux-gnu"),
    (("aarch64-linux-gnu-gcc",), tools.aarch64_runner, "make", "apt-get install -y make"),
    (("make",), tools.insn_count_plugin, "gcc", "apt-get install -y gcc"),
    (("gcc",), tools.insn_count_plugin, "make", "apt-get install -y make"),
    ((), tools.qemu_binary, "qemu-aarch64", "apt-get install -y qemu-user"),
    ((), tools.node_binary, "node", "apt-get install -y nodejs"),
], ids=["cross-gcc", "make-for-runner", "gcc", "make-for-plugin", "qemu", "node"])
def test_a_missing_tool_is_one_line_naming_it(packaged: tuple[Path, Path], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, present: tuple[str, ...],
                                              call: object, missing: str, install: str) -> None:
    monkeypatch.setenv("PATH", _path_with(tmp_path, *present))
    with pytest.raises(ToolMissing) as error:
        call()  # type: ignore[operator]
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"`{missing}` not found") and message.endswith(install)


def test_a_broken_installation_is_a_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sources() -> Path:
        raise resources.ResourceError("no engine sources in /x/sparsebyte/_native (reinstall sparsebyte)")

    monkeypatch.setattr(resources, "source_root", no_sources)
    monkeypatch.delenv(tools.RUNNER_ENV, raising=False)
    with pytest.raises(ToolMissing, match="no engine sources"):
        get_device("qemu").run(Path("model.sbn"))
