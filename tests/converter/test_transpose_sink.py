"""Transpose sinking (converters/passes/transpose_sink.py): tf2onnx-style NHWC graphs run NCHW inside with at most
one layout change at each graph input and output, match onnxruntime on the host (engine and the numpy interpreter)
and, bundled once, under qemu-aarch64 and in node; graphs where sinking is impossible stay correct."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import nhwc_graphs as G
import numpy as np
import onnx
import pytest
from device_bundles import DEVICES, check_on_device
from onnx_helpers import model, node, rand, run_ort
from op_cases import Case
from sbn_numpy import SbnFile

import sparsebyte
from sparsebyte.converters import build_graph, convert
from sparsebyte.converters.ir import Graph
from sparsebyte.converters.onnx_import import import_onnx
from sparsebyte.converters.passes.transpose_sink import compose, count_transposes, inverse, transpose_sink

Build = Callable[[], tuple[onnx.ModelProto, dict[str, np.ndarray]]]

# name -> (builder, Transposes in the imported IR, Transposes left)
GRAPHS: dict[str, tuple[Build, int, int]] = {
    "mobilenet_like": (G.mobilenet_like, 16, 1),
    "mobilenet_like_resize": (lambda: G.mobilenet_like(resize=True), 16, 1),
    "mobilenet_like_nhwc_output": (lambda: G.mobilenet_like(nhwc_output=True), 16, 2),
    "squeeze_head": (G.squeeze_head, 4, 1),
    "nhwc_segmenter": (G.nhwc_segmenter, 4, 2),
    "squeeze_excite": (G.squeeze_excite, 8, 2),
}


def _boundary_only(graph: Graph) -> None:
    """Every Transpose left reads a graph input or writes a graph output, at most one per boundary value."""
    ts = [n for n in graph.nodes if n.op == "Transpose"]
    for t in ts:
        assert t.inputs[0] in graph.inputs or t.output in graph.outputs, (t.name, [n.op for n in graph.nodes])
    for value in graph.inputs:
        assert sum(t.inputs[0] == value for t in ts) <= 1
    for value in graph.outputs:
        assert sum(t.output == value for t in ts) <= 1


def _check_outputs(m: onnx.ModelProto, feeds: dict[str, np.ndarray], path: Path) -> None:
    want = run_ort(m, feeds)
    convert(m, path)
    with sparsebyte.Model(path) as sb:
        got = sb.run(feeds)
    got = got if isinstance(got, dict) else {sb.outputs[0].name: got}
    sbn = SbnFile.load(str(path))
    names = sbn.tensor_names()
    ref = sbn.run(*[feeds[names[i]] for i in sbn.inputs])
    for name, w in want.items():
        tol = 1e-4 * max(1.0, float(np.abs(w).max()))
        assert got[name].shape == w.shape, name  # the API keeps the NHWC shapes
        np.testing.assert_allclose(got[name], w, rtol=1e-4, atol=tol, err_msg=f"{name} (engine)")
        np.testing.assert_allclose(ref[name], w, rtol=1e-4, atol=tol, err_msg=f"{name} (numpy interpreter)")


@pytest.mark.parametrize("name", list(GRAPHS))
def test_nhwc_graph_runs_nchw_inside(name: str, tmp_path: Path) -> None:
    build, before, after = GRAPHS[name]
    m, feeds = build()
    assert count_transposes(import_onnx(m)) == before
    graph = build_graph(m)
    assert count_transposes(graph) == after
    _boundary_only(graph)
    ops = [n.op for n in graph.nodes]
    # In NCHW the explicit NHWC Pad folds into its conv and Relu/Relu6 fuse into the convs' epilogues.
    if name.startswith("mobilenet"):
        assert "Pad" not in ops and "Activation" not in ops, ops
        assert graph.shape(graph.nodes[0].output) == (1, 3, 16, 16) and ops[0] == "Transpose"
    _check_outputs(m, feeds, tmp_path / "m.sbn")


def test_sinking_impossible_keeps_the_needed_transposes(tmp_path: Path) -> None:
    """Reshapes that mix H, W and C need the NHWC order: a Transpose stays right before each, and the result is
    still right."""
    m, feeds = G.flatten_head()
    graph = build_graph(m)
    assert count_transposes(import_onnx(m)) == 4 and count_transposes(graph) == 3
    for t in [n for n in graph.nodes if n.op == "Transpose" and n.inputs[0] not in graph.inputs]:
        (reader,) = graph.consumers(t.output)
        assert reader.op == "Reshape" and t.attrs["perm"] == (0, 2, 3, 1)
    _check_outputs(m, feeds, tmp_path / "m.sbn")


def test_binary_with_an_nchw_operand_stays_correct(tmp_path: Path) -> None:
    """Add(Transpose(conv), y) with y an activation in the other layout: moving the Transpose would add one on y
    (no gain), so it stays; Mul with a rank-1 constant on the NHWC side is permuted when it moves."""
    rng = np.random.default_rng(3)
    nodes = [node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]), node("Conv", ["t", "W"], ["c"]),
             node("Transpose", ["c"], ["u"], perm=[0, 2, 3, 1]), node("Mul", ["u", "k"], ["v"]),
             node("Relu", ["x"], ["r"]), node("Add", ["v", "r"], ["y"])]
    m = model(nodes, {"x": [1, 5, 6, 4]}, ["y"],
              {"W": rand(rng, 4, 4, 1, 1), "k": rand(rng, 4)})
    graph = build_graph(m)
    assert count_transposes(graph) == 2  # the input's, and the conv output's (before the Add)
    feeds = {"x": rand(rng, 1, 5, 6, 4)}
    _check_outputs(m, feeds, tmp_path / "m.sbn")


def test_transpose_chains_compose(tmp_path: Path) -> None:
    """Every chain of three rank-4 Transposes collapses into one (or none), the result unchanged."""
    perms = list(itertools.permutations(range(4)))
    rng = np.random.default_rng(7)
    for k in range(12):
        chain = [perms[i] for i in rng.choice(len(perms), 3)]
        if k == 0:
            chain = [(0, 3, 1, 2), (0, 2, 3, 1), (0, 1, 2, 3)]  # cancels
        nodes = [node("Transpose", ["x"], ["a"], perm=list(chain[0])),
                 node("Transpose", ["a"], ["b"], perm=list(chain[1])), node("Relu", ["b"], ["c"]),
                 node("Transpose", ["c"], ["y"], perm=list(chain[2]))]
        m = model(nodes, {"x": [2, 3, 4, 5]}, ["y"])
        graph = build_graph(m)
        total = compose(compose(chain[0], chain[1]), chain[2])
        assert count_transposes(graph) == (0 if total == (0, 1, 2, 3) else 1), chain
        _check_outputs(m, {"x": rand(rng, 2, 3, 4, 5)}, tmp_path / f"c{k}.sbn")


def test_perm_helpers() -> None:
    x = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    for p, q in [((0, 3, 1, 2), (0, 2, 3, 1)), ((3, 1, 0, 2), (1, 0, 3, 2))]:
        assert np.array_equal(np.transpose(np.transpose(x, p), q), np.transpose(x, compose(p, q)))
        assert compose(p, inverse(p)) == (0, 1, 2, 3)


def test_reduce_keepdims0_and_argmax_axes(tmp_path: Path) -> None:
    """Reductions over NHWC axes (keepdims 0 renumbers the output's axes) and ArgMax / Softmax on NHWC axes."""
    rng = np.random.default_rng(11)
    nodes = [node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]), node("Conv", ["t", "W"], ["c"], pads=[1] * 4,
                                                                       kernel_shape=[3, 3]),
             node("Transpose", ["c"], ["u"], perm=[0, 2, 3, 1]),
             node("ReduceMax", ["u"], ["r"], axes=[2], keepdims=0),  # [1, H, C]
             node("Softmax", ["r"], ["s"], axis=1), node("ArgMax", ["u"], ["i"], axis=3, keepdims=0),
             node("Cast", ["i"], ["a"], to=onnx.TensorProto.FLOAT),
             node("ReduceSum", ["a", "ax"], ["y"], keepdims=1)]
    m = model(nodes, {"x": [1, 5, 7, 3]}, ["y", "s"], {"W": rand(rng, 6, 3, 3, 3), "ax": np.array([2], np.int64)})
    graph = build_graph(m)
    _boundary_only(graph)
    assert count_transposes(graph) == 2  # x's, and s's ([1, C, H] inside, [1, H, C] at the API); y needs none
    assert [n.output for n in graph.nodes if n.op == "Transpose"] == ["t", "s"]
    _check_outputs(m, {"x": rand(rng, 1, 5, 7, 3)}, tmp_path / "m.sbn")


def test_pass_reports_counts() -> None:
    m, _ = G.mobilenet_like()
    graph = import_onnx(m)
    assert transpose_sink(graph) == {"before": 16, "after": 1}


DEVICE_CASES = [Case(name, GRAPHS[name][0])
                for name in ("mobilenet_like_resize", "squeeze_head", "nhwc_segmenter", "squeeze_excite")]
DEVICE_CASES.append(Case("flatten_head", G.flatten_head))


@pytest.mark.parametrize("device_name", DEVICES)
def test_nhwc_graphs_on_device(device_name: str, tmp_path: Path) -> None:
    """One bundle of the NHWC graphs, one run per device (qemu-aarch64's NEON build, the wasm build in node)."""
    check_on_device(DEVICE_CASES, device_name, tmp_path)


def test_one_channel_nhwc_input_pad_folds(tmp_path: Path) -> None:
    """tf2onnx writes the NHWC -> NCHW change of a one-channel input as a Reshape (openwakeword's embedding model):
    an NHWC Pad before it moves after it, meets the Conv and folds into its pads."""
    rng = np.random.default_rng(5)
    nodes = [node("Pad", ["x", "pads"], ["p"], mode="constant"), node("Reshape", ["p", "shape"], ["r"]),
             node("Conv", ["r", "W", "B"], ["c"], kernel_shape=[3, 3]), node("Relu", ["c"], ["y"])]
    m = model(nodes, {"x": [1, 9, 8, 1]}, ["y"],
              {"pads": np.array([0, 1, 2, 0, 0, 0, 1, 0], np.int64), "shape": np.array([1, 1, 10, 11], np.int64),
               "W": rand(rng, 4, 1, 3, 3), "B": rand(rng, 4)})
    graph = build_graph(m)
    assert [n.op for n in graph.nodes] == ["Reshape", "Conv"]
    assert graph.nodes[1].attrs["pads"] == (1, 2, 0, 1)
    _check_outputs(m, {"x": rand(rng, 1, 9, 8, 1)}, tmp_path / "m.sbn")


def test_attention_split_does_not_gain_transposes(tmp_path: Path) -> None:
    """A q/k/v split as torch writes it (Reshape, Transpose(2,0,3,1,4), Gather 0/1/2): moving the Transpose past
    the three picks would make three (the strict walk keeps one); the pass never ends with more than it started."""
    rng = np.random.default_rng(9)
    nodes = [node("Reshape", ["x", "split_shape"], ["s"]), node("Transpose", ["s"], ["t"], perm=[2, 0, 3, 1, 4])]
    for k, name in enumerate("qkv"):
        nodes.append(node("Gather", ["t", f"i{k}"], [name], axis=0))
    nodes += [node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]), node("MatMul", ["q", "kt"], ["a"]),
              node("Softmax", ["a"], ["p"], axis=-1), node("MatMul", ["p", "v"], ["o"]),
              node("Transpose", ["o"], ["ot"], perm=[0, 2, 1, 3]), node("Reshape", ["ot", "out_shape"], ["y"])]
    inits = {"split_shape": np.array([1, 6, 3, 2, 2], np.int64), "out_shape": np.array([1, 6, 4], np.int64),
             **{f"i{k}": np.array(k, np.int64) for k in range(3)}}
    m = model(nodes, {"x": [1, 6, 12]}, ["y"], inits)
    before = count_transposes(import_onnx(m))
    graph = build_graph(m)
    assert before == 3 and count_transposes(graph) <= before
    _check_outputs(m, {"x": rand(rng, 1, 6, 12)}, tmp_path / "m.sbn")


def test_pad_of_the_nhwc_input_moves_below_its_transpose(tmp_path: Path) -> None:
    """An explicit NHWC Pad of the input before the Transpose to NCHW (TFLite's and tf2onnx's "SAME" stride-2 stem):
    the Transpose moves up to the input, the Pad (its pads permuted) then meets the Conv and folds into it."""
    rng = np.random.default_rng(13)
    nodes = [node("Pad", ["x", "pads"], ["p"], mode="constant"), node("Transpose", ["p"], ["t"], perm=[0, 3, 1, 2]),
             node("Conv", ["t", "W"], ["c"], kernel_shape=[3, 3], strides=[2, 2]),
             node("Transpose", ["c"], ["y"], perm=[0, 2, 3, 1])]
    m = model(nodes, {"x": [1, 8, 10, 3]}, ["y"],
              {"pads": np.array([0, 0, 0, 0, 0, 1, 1, 0], np.int64), "W": rand(rng, 4, 3, 3, 3)})
    graph = build_graph(m)
    assert [n.op for n in graph.nodes] == ["Transpose", "Conv", "Transpose"]
    assert graph.nodes[1].attrs["pads"] == (0, 0, 1, 1)
    _check_outputs(m, {"x": rand(rng, 1, 8, 10, 3)}, tmp_path / "m.sbn")
