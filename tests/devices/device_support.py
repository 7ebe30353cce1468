"""Helpers of the device tests: tiny .sbn models, the fake adb/ssh/scp tools, running the CLI."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))  # tiny_model.py: the tiny CNN the Python-package tests use

from tiny_model import INPUT_SHAPE, tiny_net  # noqa: E402

__all__ = ["INPUT_SHAPE", "make_tiny_models", "fake_device_env", "read_log", "sparsebyte"]


def make_tiny_models(root: Path) -> dict[str, Path]:
    """tiny.sbn (dense) and tiny_sparse.sbn (50% group-sparse, G=4): 7 nodes, runs in a fraction of a second
    under qemu."""
    from sparsebyte.converters import convert
    from sparsebyte.models.export import export_onnx
    from sparsebyte.prune import prune_groups

    dense = tiny_net()
    sparse = copy.deepcopy(dense)
    prune_groups(sparse, 0.5, group=4, skip_first=False)
    files = {}
    for name, model in (("tiny", dense), ("tiny_sparse", sparse)):
        onnx_path = root / f"{name}.onnx"
        export_onnx(model, onnx_path, INPUT_SHAPE)
        convert(onnx_path, root / f"{name}.sbn", group=4, force_dense=name == "tiny")
        files[name] = root / f"{name}.sbn"
    return files


def fake_device_env(tmp: Path, **overrides: str) -> dict[str, str]:
    """An environment whose PATH starts with fake adb/ssh/scp (fake_device.py) and the device directory."""
    bin_dir, root = tmp / "fake-bin", tmp / "device"
    bin_dir.mkdir(exist_ok=True)
    root.mkdir(exist_ok=True)
    for tool in ("adb", "ssh", "scp"):
        script = bin_dir / tool
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "fake_device.py"}" {tool} "$@"\n')
        script.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", FAKE_DEVICE_ROOT=str(root),
               FAKE_DEVICE_LOG=str(tmp / "device.log"))
    env.update(overrides)
    return env


def read_log(tmp: Path) -> list[dict]:
    path = tmp / "device.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def sparsebyte(*args: object, env: dict[str, str] | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sparsebyte", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)
