"""Helpers of the packaging tests: a small group-sparse ONNX model, and commands run in a virtual environment
outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
INPUT_SHAPE = (1, 3, 20, 20)


def write_onnx_model(path: Path, seed: int = 0) -> Path:
    """Conv 3x3 + ReLU, a 1x1 conv keeping 1 in 4 (group of 4 output channels, input) pairs, ReLU, global average
    pool, Gemm to 10 classes: the converter stores the 1x1 sparse."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((16, 3, 3, 3), dtype=np.float32) * 0.3
    w2 = rng.standard_normal((32, 16, 1, 1), dtype=np.float32) * 0.3
    keep = rng.random((32 // 4, 16)) < 0.25
    w2 *= np.repeat(keep, 4, axis=0)[:, :, None, None]
    w3 = rng.standard_normal((10, 32), dtype=np.float32) * 0.3
    inits = [numpy_helper.from_array(a, n) for a, n in (
        (w1, "w1"), (rng.standard_normal(16, dtype=np.float32) * 0.1, "b1"), (w2, "w2"),
        (rng.standard_normal(32, dtype=np.float32) * 0.1, "b2"), (w3, "w3"),
        (rng.standard_normal(10, dtype=np.float32) * 0.1, "b3"))]
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], kernel_shape=[1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(nodes, "packaging_test", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                                                      list(INPUT_SHAPE))],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that would point Python at the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "SPARSEBYTE_"))}
    env.update(extra)
    return env


def make_venv(path: Path) -> Path:
    """A fresh virtual environment (no system site-packages); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True, env=clean_env())
    return path / "bin" / "python"


def pip_install(python: Path, *args: str, timeout: float = 900) -> None:
    result = subprocess.run([str(python), "-m", "pip", "install", "-q", *args], capture_output=True, text=True,
                            env=clean_env(), timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
