"""Every TFLite operator and sparse format the importer maps, on small files written with the schema
(tflite_build.py), converted and run on the host against LiteRT's builtin kernels. Odd sizes on purpose: SAME
padding with odd input sizes, strides that do not divide, channel counts that are not multiples of the group size."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as s
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from tflite_build import Builder, csr_sparsity, options

import sparsebyte
from sparsebyte.converters import ConversionError, convert

OP = s.BuiltinOperator
RNG = np.random.default_rng(7)


def litert(model: bytes, feeds: list[np.ndarray]) -> list[np.ndarray]:
    it = Interpreter(model_content=model,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), feeds, strict=True):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [np.array(it.get_tensor(d["index"])) for d in it.get_output_details()]


def w(*shape: int, scale: float = 0.5) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


# ---- the cases: each returns (the .tflite bytes, the input arrays) ----
def conv_same_stride2_relu6() -> tuple[bytes, list[np.ndarray]]:
    b = Builder()
    x = b.tensor("x", (1, 9, 11, 3))
    y = b.tensor("y", (1, 5, 6, 8))
    b.op(OP.CONV_2D, [x, b.const("w", w(8, 3, 3, 3)), b.const("b", w(8))], [y],
         options("Conv2DOptions", padding=s.Padding.SAME, strideW=2, strideH=2, fusedActivationFunction=3))
    return b.build([x], [y]), [w(1, 9, 11, 3, scale=2)]


def depthwise_valid_dilated_multiplier() -> tuple[bytes, list[np.ndarray]]:
    b = Builder()
    x = b.tensor("x", (1, 10, 9, 3))
    y = b.tensor("y", (1, 6, 5, 6))
    b.op(OP.DEPTHWISE_CONV_2D, [x, b.const("w", w(1, 3, 3, 6)), b.const("b", w(6))], [y],
         options("DepthwiseConv2DOptions", padding=s.Padding.VALID, strideW=1, strideH=1, depthMultiplier=2,
                 dilationWFactor=2, dilationHFactor=2, fusedActivationFunction=1))
    return b.build([x], [y]), [w(1, 10, 9, 3, scale=2)]


def _sparse_conv(b: Builder, x: int, y: int, dense: np.ndarray, **encoding: object) -> None:
    """MediaPipe's chain: fp16 sparse constant -> DENSIFY -> DEQUANTIZE -> CONV_2D 1x1."""
    half = dense.astype(np.float16)
    sp, values = csr_sparsity(half, **encoding)  # type: ignore[arg-type]
    packed = b.tensor("w.sparse", half.shape, np.float16, values, sparsity=sp)
    densified = b.tensor("w.fp16", half.shape, np.float16)
    weights = b.tensor("w", half.shape)
    b.op(OP.DENSIFY, [packed], [densified])
    b.op(OP.DEQUANTIZE, [densified], [weights])
    b.op(OP.CONV_2D, [x, weights, b.const("b", w(dense.shape[0]))], [y],
         options("Conv2DOptions", padding=s.Padding.VALID, strideW=1, strideH=1))


def block_sparse_conv() -> tuple[bytes, list[np.ndarray]]:
    """Blocks of 4 output channels (XNNPACK's block pattern over Cout), CSR over the input channels."""
    mask = RNG.random((5, 13)) < 0.3  # 5 blocks of 4 output channels x 13 inputs
    dense = w(20, 1, 1, 13) * np.repeat(mask, 4, axis=0).reshape(20, 1, 1, 13)
    b = Builder()
    x, y = b.tensor("x", (1, 7, 6, 13)), b.tensor("y", (1, 7, 6, 20))
    _sparse_conv(b, x, y, dense, order=[0, 1, 2, 3, 4], block_map=[0], block_sizes=[4], csr_levels=[3])
    return b.build([x], [y]), [w(1, 7, 6, 13, scale=2)]


def csr_conv_cin_first() -> tuple[bytes, list[np.ndarray]]:
    """Unstructured sparsity, traversal order Cin first, two CSR levels."""
    dense = w(11, 1, 1, 9) * (RNG.random((11, 1, 1, 9)) < 0.25)
    b = Builder()
    x, y = b.tensor("x", (1, 5, 4, 9)), b.tensor("y", (1, 5, 4, 11))
    _sparse_conv(b, x, y, dense, order=[3, 1, 2, 0], csr_levels=[0, 3])
    return b.build([x], [y]), [w(1, 5, 4, 9, scale=2)]


def transpose_conv_same_and_valid() -> tuple[bytes, list[np.ndarray]]:
    b = Builder()
    x = b.tensor("x", (1, 4, 5, 6))
    y1, y2 = b.tensor("same", (1, 8, 10, 4)), b.tensor("valid", (1, 9, 11, 3))
    b.op(OP.TRANSPOSE_CONV, [b.const("s1", np.asarray([1, 8, 10, 4], np.int32)), b.const("w1", w(4, 3, 3, 6)), x,
                             b.const("b1", w(4))], [y1],
         options("TransposeConvOptions", padding=s.Padding.SAME, strideW=2, strideH=2), version=3)
    b.op(OP.TRANSPOSE_CONV, [b.const("s2", np.asarray([1, 9, 11, 3], np.int32)), b.const("w2", w(3, 3, 3, 6)), x],
         [y2], options("TransposeConvOptions", padding=s.Padding.VALID, strideW=2, strideH=2), version=3)
    return b.build([x], [y1, y2]), [w(1, 4, 5, 6)]


def mediapipe_transpose_conv_bias() -> tuple[bytes, list[np.ndarray]]:
    """MediaPipe's custom op; check.litert_model_bytes gives LiteRT its builtin equivalent."""
    from sparsebyte.check import litert_model_bytes

    b = Builder()
    x, y = b.tensor("x", (1, 5, 6, 3)), b.tensor("y", (1, 10, 12, 2))
    b.op(OP.CUSTOM, [x, b.const("w", w(2, 2, 2, 3)), b.const("b", w(2))], [y], custom="Convolution2DTransposeBias",
         custom_options=struct.pack("<3i", 1, 2, 2))
    raw = b.build([x], [y])
    path = Path(__file__).parent / "__custom.tflite"
    try:
        path.write_bytes(raw)
        ref = litert_model_bytes(str(path))
    finally:
        path.unlink(missing_ok=True)
    return raw, [w(1, 5, 6, 3)], ref  # type: ignore[return-value]


def slices_and_splits() -> tuple[bytes, list[np.ndarray]]:
    b = Builder()
    x = b.tensor("x", (1, 6, 7, 8))
    ss = b.tensor("strided", (1, 3, 2, 3))
    shrink = b.tensor("shrink", (6, 8))
    parts = [b.tensor(f"split{k}", (1, 6, 7, 4)) for k in range(2)]
    vparts = [b.tensor(f"splitv{k}", (1, 6, n, 8)) for k, n in enumerate((2, 5))]
    cat = b.tensor("cat", (1, 6, 7, 16))
    i32 = lambda v: b.const(f"c{len(b.graph.tensors)}", np.asarray(v, np.int32))  # noqa: E731
    b.op(OP.STRIDED_SLICE, [x, i32([0, 1, -1, 7]), i32([1, 6, 0, 0]), i32([1, 2, -3, -3])], [ss],
         options("StridedSliceOptions", beginMask=1))
    b.op(OP.STRIDED_SLICE, [x, i32([0, 0, 3, 0]), i32([1, 6, 4, 8]), i32([1, 1, 1, 1])], [shrink],
         options("StridedSliceOptions", shrinkAxisMask=0b101))
    b.op(OP.SPLIT, [i32(3), x], parts, options("SplitOptions", numSplits=2))
    b.op(OP.SPLIT_V, [x, i32([2, -1]), i32(2)], vparts, options("SplitVOptions", numSplits=2))
    b.op(OP.CONCATENATION, [parts[1], x, parts[0]], [cat], options("ConcatenationOptions", axis=-1))
    return b.build([x], [ss, shrink, vparts[0], vparts[1], cat]), [w(1, 6, 7, 8)]


def resizes() -> tuple[bytes, list[np.ndarray]]:
    b = Builder()
    x = b.tensor("x", (1, 5, 7, 3))
    size = b.const("size", np.asarray([9, 12], np.int32))
    outs = []
    for op, opts in ((OP.RESIZE_NEAREST_NEIGHBOR, "ResizeNearestNeighborOptions"),
                     (OP.RESIZE_BILINEAR, "ResizeBilinearOptions")):
        for align, half in ((False, False), (True, False), (False, True)):
            outs.append(b.tensor(f"{opts}{int(align)}{int(half)}", (1, 9, 12, 3)))
            b.op(op, [x, size], [outs[-1]], options(opts, alignCorners=align, halfPixelCenters=half), version=3)
    return b.build([x], outs), [w(1, 5, 7, 3, scale=3)]


def space_depth_pools() -> tuple[bytes, list[np.ndarray]]:
    b = Builder()
    x = b.tensor("x", (1, 6, 10, 3))
    s2d, d2s = b.tensor("s2d", (1, 3, 5, 12)), b.tensor("d2s", (1, 6, 10, 3))
    avg, mx = b.tensor("avg", (1, 2, 3, 12)), b.tensor("max", (1, 1, 2, 12))
    b.op(OP.SPACE_TO_DEPTH, [x], [s2d], options("SpaceToDepthOptions", blockSize=2))
    b.op(OP.DEPTH_TO_SPACE, [s2d], [d2s], options("DepthToSpaceOptions", blockSize=2))
    b.op(OP.AVERAGE_POOL_2D, [s2d], [avg], options("Pool2DOptions", padding=s.Padding.SAME, strideW=2, strideH=2,
                                                   filterWidth=3, filterHeight=3))
    b.op(OP.MAX_POOL_2D, [s2d], [mx], options("Pool2DOptions", padding=s.Padding.VALID, strideW=2, strideH=2,
                                              filterWidth=2, filterHeight=3, fusedActivationFunction=1))
    return b.build([x], [d2s, avg, mx]), [w(1, 6, 10, 3)]


def mean_fc_softmax() -> tuple[bytes, list[np.ndarray]]:
    b = Builder()
    x = b.tensor("x", (1, 5, 6, 7))
    m, keep = b.tensor("mean", (1, 7)), b.tensor("keep", (1, 5, 1, 7))
    fc, sm = b.tensor("fc", (1, 10)), b.tensor("softmax", (1, 10))
    fc3 = b.tensor("fc3", (1, 5, 1, 4))
    b.op(OP.MEAN, [x, b.const("axes", np.asarray([1, 2], np.int32))], [m], options("ReducerOptions", keepDims=False))
    b.op(OP.MEAN, [x, b.const("axes2", np.asarray([2], np.int32))], [keep], options("ReducerOptions", keepDims=True))
    b.op(OP.FULLY_CONNECTED, [m, b.const("w", w(10, 7)), b.const("b", w(10))], [fc],
         options("FullyConnectedOptions", fusedActivationFunction=2))
    b.op(OP.SOFTMAX, [fc], [sm], options("SoftmaxOptions", beta=0.5))
    b.op(OP.FULLY_CONNECTED, [keep, b.const("w3", w(4, 7)), -1], [fc3],
         options("FullyConnectedOptions", keepNumDims=True))
    return b.build([x], [m, sm, fc3]), [w(1, 5, 6, 7, scale=3)]


def elementwise_and_activations() -> tuple[bytes, list[np.ndarray]]:
    b = Builder()
    x, z = b.tensor("x", (1, 4, 5, 6)), b.tensor("z", (1, 4, 5, 6))
    names = ["sub", "mul", "add", "sig", "tanh", "hswish", "leaky", "n1to1", "prelu", "relu6"]
    t = {n: b.tensor(n, (1, 4, 5, 6)) for n in names}
    reshaped = b.tensor("reshaped", (1, 20, 6))
    b.op(OP.SUB, [x, b.const("c", w(6))], [t["sub"]], options("SubOptions"))
    b.op(OP.MUL, [b.const("m", w(1, 1, 5, 1)), t["sub"]], [t["mul"]], options("MulOptions"))
    b.op(OP.ADD, [t["mul"], z], [t["add"]], options("AddOptions", fusedActivationFunction=1))
    b.op(OP.LOGISTIC, [x], [t["sig"]])
    b.op(OP.TANH, [x], [t["tanh"]])
    b.op(OP.HARD_SWISH, [z], [t["hswish"]])
    b.op(OP.LEAKY_RELU, [x], [t["leaky"]], options("LeakyReluOptions", alpha=0.2))
    b.op(OP.RELU_N1_TO_1, [z], [t["n1to1"]])
    b.op(OP.PRELU, [x, b.const("slope", w(1, 1, 6))], [t["prelu"]])
    b.op(OP.RELU6, [t["add"]], [t["relu6"]])
    b.op(OP.RESHAPE, [t["prelu"], b.const("shape", np.asarray([1, 20, 6], np.int32))], [reshaped],
         options("ReshapeOptions", newShape=np.asarray([1, 20, 6], np.int32)))
    outs = [t[n] for n in names if n not in ("sub", "mul", "prelu")] + [reshaped]
    return b.build([x, z], outs), [w(1, 4, 5, 6, scale=3), w(1, 4, 5, 6, scale=3)]


def pad_and_padv2() -> tuple[bytes, list[np.ndarray]]:
    b = Builder()
    x = b.tensor("x", (1, 4, 5, 3))
    p1, p2 = b.tensor("pad", (1, 5, 8, 3)), b.tensor("padv2", (1, 6, 5, 5))
    b.op(OP.PAD, [x, b.const("p", np.asarray([[0, 0], [1, 0], [2, 1], [0, 0]], np.int32))], [p1])
    b.op(OP.PADV2, [x, b.const("p2", np.asarray([[0, 0], [1, 1], [0, 0], [1, 1]], np.int32)),
                    b.const("v", np.asarray([-1.5], np.float32))], [p2])
    return b.build([x], [p1, p2]), [w(1, 4, 5, 3)]


def pad_shared_by_two_convs() -> tuple[bytes, list[np.ndarray]]:
    """BlazeBlock's stride-2 pattern: one PAD feeding two depthwise convs (folds into both)."""
    b = Builder()
    x = b.tensor("x", (1, 8, 9, 4))
    padded = b.tensor("padded", (1, 10, 11, 4))
    y1, y2 = b.tensor("dw1", (1, 4, 5, 4)), b.tensor("dw2", (1, 4, 5, 4))
    b.op(OP.PAD, [x, b.const("p", np.asarray([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32))], [padded])
    for k, y in enumerate((y1, y2)):
        b.op(OP.DEPTHWISE_CONV_2D, [padded, b.const(f"w{k}", w(1, 3, 3, 4)), b.const(f"b{k}", w(4))], [y],
             options("DepthwiseConv2DOptions", padding=s.Padding.VALID, strideW=2, strideH=2, depthMultiplier=1))
    return b.build([x], [y1, y2]), [w(1, 8, 9, 4)]


CASES: dict[str, Callable[[], tuple]] = {f.__name__: f for f in (
    pad_shared_by_two_convs,
    conv_same_stride2_relu6, depthwise_valid_dilated_multiplier, block_sparse_conv, csr_conv_cin_first,
    transpose_conv_same_and_valid, mediapipe_transpose_conv_bias, slices_and_splits, resizes, space_depth_pools,
    mean_fc_softmax, elementwise_and_activations, pad_and_padv2)}


def _convert_and_run(tmp_path: Path, raw: bytes, feeds: list[np.ndarray], **kwargs: object
                     ) -> tuple[list[np.ndarray], object]:
    src, out = tmp_path / "m.tflite", tmp_path / "m.sbn"
    src.write_bytes(raw)
    report = convert(src, out, **kwargs)  # type: ignore[arg-type]
    with sparsebyte.Model(out) as m:
        res = m.run({t.name: x for t, x in zip(m.inputs, feeds, strict=True)})
        outs = res if isinstance(res, dict) else {m.outputs[0].name: res}
        return [outs[o.name] for o in m.outputs], report


@pytest.mark.parametrize("name", list(CASES))
def test_operator_matches_litert(tmp_path: Path, name: str) -> None:
    built = CASES[name]()
    raw, feeds = built[0], built[1]
    ref_model = built[2] if len(built) > 2 else raw
    want = litert(ref_model, feeds)
    got, _ = _convert_and_run(tmp_path, raw, feeds)
    assert len(got) == len(want)
    for k, (g, r) in enumerate(zip(got, want, strict=True)):
        assert g.shape == r.shape, (name, k)
        scale = max(float(np.abs(r).max()), 1e-6)
        assert float(np.abs(g - r).max()) <= 1e-5 * scale + 1e-6, (name, k, float(np.abs(g - r).max()), scale)


def test_block_sparse_weights_pack_with_the_block_as_group(tmp_path: Path) -> None:
    """Blocks of 4 output channels come out as G = 4 (the kept (group, input) pairs are the blocks); unstructured
    CSR as G = 1 or 2; both packed sparse, and DENSIFY/DEQUANTIZE leave no node behind."""
    for case, groups in ((block_sparse_conv, {4}), (csr_conv_cin_first, {1, 2})):
        raw, feeds = case()
        _, report = _convert_and_run(tmp_path, raw, feeds)
        (layer,) = report.layers  # type: ignore[attr-defined]
        assert layer.choice == "sparse" and layer.group in groups, (case.__name__, layer)
        with sparsebyte.Model(tmp_path / "m.sbn") as m:
            assert [n.op for n in m.nodes] == ["TRANSPOSE", "CONV_SPARSE", "TRANSPOSE"]  # NHWC in and out


def test_nchw_layout_drops_the_boundary_transposes(tmp_path: Path) -> None:
    raw, feeds = conv_same_stride2_relu6()
    want = litert(raw, feeds)[0]
    got, report = _convert_and_run(tmp_path, raw, [np.ascontiguousarray(feeds[0].transpose(0, 3, 1, 2))],
                                   layout="nchw")
    assert report.inputs == {"x": [1, 3, 9, 11]} and report.outputs == {"y": [1, 8, 5, 6]}  # type: ignore[attr-defined]
    np.testing.assert_allclose(got[0], want.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5)
    assert report.node_count == 1  # type: ignore[attr-defined]  # the conv alone: no TRANSPOSE at either end


def test_quantized_model_is_refused_in_one_line_naming_the_op(tmp_path: Path) -> None:
    b = Builder()
    x = b.tensor("x", (1, 4, 4, 3))
    q = b.tensor("x.q", (1, 4, 4, 3), np.int8, quant=(0.1, 0))
    y = b.tensor("y.q", (1, 2, 2, 3), np.int8, quant=(0.1, 0))
    b.op(OP.QUANTIZE, [x], [q])
    b.op(OP.MAX_POOL_2D, [q], [y], options("Pool2DOptions", padding=s.Padding.VALID, strideW=2, strideH=2,
                                           filterWidth=2, filterHeight=2))
    src = tmp_path / "q.tflite"
    src.write_bytes(b.build([x], [y]))
    with pytest.raises(ConversionError) as e:
        convert(src, tmp_path / "q.sbn")
    message = str(e.value)
    assert "\n" not in message and "quantized model" in message and "QUANTIZE #0" in message, message
    assert not (tmp_path / "q.sbn").exists()


def test_unsupported_operator_is_named(tmp_path: Path) -> None:
    b = Builder()
    x, y = b.tensor("x", (1, 4)), b.tensor("y", (1, 4))
    b.op(OP.COS, [x], [y])
    src = tmp_path / "cos.tflite"
    src.write_bytes(b.build([x], [y]))
    with pytest.raises(ConversionError, match=r"COS #0 \(y\): unsupported TFLite operator COS"):
        convert(src, tmp_path / "cos.sbn")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cos.tflite"]


def test_a_pad_shared_by_two_convs_folds_into_both(tmp_path: Path) -> None:
    raw, feeds = pad_shared_by_two_convs()
    _convert_and_run(tmp_path, raw, feeds)
    with sparsebyte.Model(tmp_path / "m.sbn") as m:
        assert "PAD" not in [n.op for n in m.nodes], [n.op for n in m.nodes]


@pytest.mark.parametrize("command", ["convert", "check"])
def test_without_ai_edge_litert_the_cli_says_what_to_install(tmp_path: Path, command: str) -> None:
    import subprocess
    import sys

    raw, feeds = conv_same_stride2_relu6()
    src = tmp_path / "m.tflite"
    src.write_bytes(raw)
    convert(src, tmp_path / "m.sbn")
    args = ["convert", str(src), "-o", str(tmp_path / "new.sbn")] if command == "convert" else \
        ["check", str(tmp_path / "m.sbn"), "--reference", str(src), "-n", "1"]
    code = ("import sys\nsys.modules['ai_edge_litert'] = None\nfrom sparsebyte.cli import main\n"
            "sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300,
                            check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].endswith("needs the Python package 'ai_edge_litert': pip install ai-edge-litert"), lines[0]
    assert not (tmp_path / "new.sbn").exists()
