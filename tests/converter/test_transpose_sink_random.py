"""Random graphs of Transposes (any rank-4 permutation) mixed with the ops transpose_sink moves them through
(pointwise with constants and between activations, Concat, Softmax, Reduce, Slice, Pad, Resize, Reshape of size-1
axes): after the pass the graph still matches onnxruntime, and it never holds more Transposes than before."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx_helpers import model, node, run_ort

import sparsebyte
from sparsebyte.converters import build_graph, convert
from sparsebyte.converters.onnx_import import import_onnx
from sparsebyte.converters.passes.transpose_sink import count_transposes

PERMS = [list(p) for p in itertools.permutations(range(4))]


def random_graph(seed: int) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    nodes: list[onnx.NodeProto] = []
    inits: dict[str, np.ndarray] = {}
    shapes = {"x": (1, 3, 4, 5)}
    live = ["x"]
    for k in range(int(rng.integers(6, 14))):
        x = live[int(rng.integers(len(live)))]
        s = shapes[x]
        out = f"v{k}"
        kind = rng.choice(["transpose", "transpose", "relu", "add_const", "mul_pair", "concat", "softmax", "reduce",
                           "slice", "pad", "resize", "unit_reshape"])
        if kind == "transpose":
            perm = PERMS[int(rng.integers(len(PERMS)))]
            nodes.append(node("Transpose", [x], [out], perm=perm))
            shape = tuple(s[p] for p in perm)
        elif kind == "relu":
            nodes.append(node("Relu", [x], [out]))
            shape = s
        elif kind == "add_const":
            cshape = tuple(d if rng.random() < 0.5 else 1 for d in s)[int(rng.integers(0, 3)):]
            inits[f"c{k}"] = rng.standard_normal(cshape).astype(np.float32)
            nodes.append(node("Add", [x, f"c{k}"], [out]))
            shape = s
        elif kind in ("mul_pair", "concat"):
            same = [v for v in live if shapes[v] == s and v != x]
            if not same:
                continue
            y = same[int(rng.integers(len(same)))]
            if kind == "mul_pair":
                nodes.append(node("Mul", [x, y], [out]))
                shape = s
            else:
                axis = int(rng.integers(4))
                nodes.append(node("Concat", [x, y], [out], axis=axis))
                shape = tuple(d * 2 if i == axis else d for i, d in enumerate(s))
        elif kind == "softmax":
            nodes.append(node("Softmax", [x], [out], axis=int(rng.integers(-4, 4))))
            shape = s
        elif kind == "reduce":
            axes = sorted(rng.choice(4, int(rng.integers(1, 3)), replace=False).tolist())
            nodes.append(node("ReduceMean", [x], [out], axes=axes, keepdims=1))
            shape = tuple(1 if i in axes else d for i, d in enumerate(s))
        elif kind == "slice":
            axis = int(rng.integers(4))
            if s[axis] < 2:
                continue
            inits[f"st{k}"], inits[f"en{k}"] = np.array([1], np.int64), np.array([s[axis]], np.int64)
            inits[f"ax{k}"] = np.array([axis], np.int64)
            nodes.append(node("Slice", [x, f"st{k}", f"en{k}", f"ax{k}"], [out]))
            shape = tuple(d - 1 if i == axis else d for i, d in enumerate(s))
        elif kind == "pad":
            pads = rng.integers(0, 2, 8)
            inits[f"p{k}"] = pads.astype(np.int64)
            nodes.append(node("Pad", [x, f"p{k}"], [out], mode="constant"))
            shape = tuple(int(d + pads[i] + pads[i + 4]) for i, d in enumerate(s))
        elif kind == "resize":
            a = int(rng.integers(3))  # two adjacent axes a, a + 1 doubled
            scales = np.array([2.0 if i in (a, a + 1) else 1.0 for i in range(4)], np.float32)
            if max(s) > 12:
                continue
            inits[f"r{k}"] = scales
            nodes.append(node("Resize", [x, "", f"r{k}"], [out], mode="nearest"))
            shape = tuple(int(d * sc) for d, sc in zip(s, scales, strict=True))
        else:  # move a size-1 axis to the end: a Reshape of size-1 axes only
            units = [i for i, d in enumerate(s) if d == 1]
            if not units:
                continue
            target = (*s[:units[0]], *s[units[0] + 1:], 1)
            inits[f"sh{k}"] = np.array(target, np.int64)
            nodes.append(node("Reshape", [x, f"sh{k}"], [out]))
            shape = target
        shapes[out] = shape
        live.append(out)
    nodes.append(node("Relu", [live[-1]], ["y"]))
    m = model(nodes, {"x": [1, 3, 4, 5]}, ["y"], inits)
    return m, {"x": rng.standard_normal((1, 3, 4, 5)).astype(np.float32)}


@pytest.mark.parametrize("seed", range(40))
def test_random_transpose_graphs(seed: int, tmp_path: Path) -> None:
    m, feeds = random_graph(seed)
    before = count_transposes(import_onnx(m))
    assert count_transposes(build_graph(m)) <= before
    want = run_ort(m, feeds)["y"]
    convert(m, tmp_path / "m.sbn")
    got = sparsebyte.Model(tmp_path / "m.sbn").run(feeds["x"])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(want).max())))
