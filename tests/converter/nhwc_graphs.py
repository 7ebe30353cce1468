"""NHWC graphs as tf2onnx writes them (for tests/converter/test_transpose_sink*.py): the input and every
activation between the convolutions are NHWC; each Conv / pool is wrapped in Transpose(0,3,1,2) ... Transpose(0,2,3,1);
elementwise ops, Concat on axis 3, Pad with NHWC pads, Resize with NHWC scales, ReduceMean over (1, 2), Softmax on the
last axis run in NHWC between them. Each builder returns (model, feeds) like tests/ops/op_cases.py's cases."""

from __future__ import annotations

import zlib

import numpy as np
import onnx
from onnx_helpers import model, node, rand

TO_NCHW, TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]


class Builder:
    """Nodes and initializers of one NHWC graph; every helper takes and returns NHWC value names."""

    def __init__(self, seed: str) -> None:
        self.rng = np.random.default_rng(zlib.crc32(seed.encode()))
        self.nodes: list[onnx.NodeProto] = []
        self.inits: dict[str, np.ndarray] = {}
        self.k = 0

    def name(self, base: str) -> str:
        self.k += 1
        return f"{base}{self.k}"

    def const(self, base: str, array: np.ndarray) -> str:
        n = self.name(base)
        a = np.asarray(array)
        self.inits[n] = a.astype(np.float32) if a.dtype == np.float64 else a
        return n

    def op(self, op: str, inputs: list[str], **attrs: object) -> str:
        out = self.name(op.lower())
        self.nodes.append(node(op, inputs, [out], **attrs))
        return out

    def nchw_op(self, op: str, x: str, extra: list[str], **attrs: object) -> str:
        """tf2onnx's wrapping of a layout-sensitive op: Transpose in, the op on NCHW, Transpose out."""
        t = self.op("Transpose", [x], perm=TO_NCHW)
        y = self.op(op, [t, *extra], **attrs)
        return self.op("Transpose", [y], perm=TO_NHWC)

    def conv(self, x: str, cin: int, cout: int, k: int = 1, stride: int = 1, group: int = 1, pad: int = 0) -> str:
        w = self.const("w", rand(self.rng, cout, cin // group, k, k) * (1.0 / np.sqrt(k * k * cin / group)))
        b = self.const("b", rand(self.rng, cout) * 0.1)
        return self.nchw_op("Conv", x, [w, b], kernel_shape=[k, k], strides=[stride, stride], group=group,
                            pads=[pad] * 4)

    def relu6(self, x: str) -> str:
        return self.op("Clip", [x, self.const("lo", np.float32(0)), self.const("hi", np.float32(6))])

    def swish(self, x: str) -> str:
        return self.op("Mul", [x, self.op("Sigmoid", [x])])

    def pad_nhwc(self, x: str, top: int, left: int, bottom: int, right: int) -> str:
        pads = self.const("pads", np.array([0, top, left, 0, 0, bottom, right, 0], np.int64))
        return self.op("Pad", [x, pads], mode="constant")


def mobilenet_like(seed: str = "nhwc", hw: int = 16, resize: bool = False, nhwc_output: bool = False
                   ) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """A small MobileNet-like stack in tf2onnx's NHWC form: preprocessing on the NHWC input, a stem conv, a
    depthwise-separable block with an explicit NHWC Pad and a residual Add, a swish expansion, two branches joined by
    Concat on axis 3, a per-channel affine with NHWC constants, (optionally a nearest Resize with NHWC scales), a max
    pool, global mean over (1, 2), the classifier MatMul and Softmax on the last axis. With nhwc_output the feature
    map before the mean is a second (NHWC) graph output."""
    b = Builder(seed)
    x = b.op("Mul", ["x", b.const("k", np.float32(1 / 127.5))])
    x = b.op("Add", [x, b.const("k", np.float32(-1.0))])
    x = b.relu6(b.conv(x, 3, 8, k=3, stride=2, pad=1))  # [1, hw/2, hw/2, 8]
    skip = x
    y = b.pad_nhwc(x, 1, 1, 1, 1)  # tf2onnx's explicit "SAME" padding of the depthwise conv
    y = b.op("Relu", [b.conv(y, 8, 8, k=3, group=8)])
    y = b.conv(y, 8, 8)
    x = b.op("Add", [y, skip])
    e = b.swish(b.conv(x, 8, 16))
    branch_a = b.conv(e, 16, 8)
    branch_b = b.relu6(b.conv(e, 16, 16, k=3, group=16, pad=1))
    x = b.op("Concat", [branch_a, branch_b], axis=3)  # [.., 24]
    x = b.op("Mul", [x, b.const("scale", (1.0 + 0.1 * rand(b.rng, 24)).astype(np.float32))])
    x = b.op("Add", [x, b.const("shift", (0.1 * rand(b.rng, 1, 1, 1, 24)).astype(np.float32))])
    if resize:
        scales = b.const("scales", np.array([1, 2, 2, 1], np.float32))
        x = b.op("Resize", [x, "", scales], mode="nearest", coordinate_transformation_mode="asymmetric",
                 nearest_mode="floor")
    x = b.nchw_op("MaxPool", x, [], kernel_shape=[2, 2], strides=[2, 2])
    features = b.relu6(b.conv(x, 24, 32))
    pooled = b.op("ReduceMean", [features], axes=[1, 2], keepdims=0)  # [1, 32]
    logits = b.op("MatMul", [pooled, b.const("fc", rand(b.rng, 32, 10) * 0.3)])
    logits = b.op("Add", [logits, b.const("fc_b", rand(b.rng, 10) * 0.1)])
    b.nodes.append(node("Softmax", [logits], ["y"], axis=-1))
    outputs = ["y"]
    if nhwc_output:
        b.nodes.append(node("Identity", [features], ["features"]))
        outputs.append("features")
    m = model(b.nodes, {"x": [1, hw, hw, 3]}, outputs, b.inits, opset=13)
    return m, {"x": (b.rng.random((1, hw, hw, 3)) * 255).astype(np.float32)}


def squeeze_head(seed: str = "squeeze") -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """Global mean kept (keepdims=1, [1,1,1,C]) then Squeeze(1, 2) to the logits, as older tf2onnx writes it; the
    middle has a LeakyRelu, a Slice of channels and a Split on the NHWC channel axis."""
    b = Builder(seed)
    x = b.op("LeakyRelu", [b.conv("x", 4, 12, k=3, pad=1)], alpha=0.1)
    left, right = b.name("left"), b.name("right")
    b.nodes.append(node("Split", [x, b.const("split", np.array([4, 8], np.int64))], [left, right], axis=3))
    right = b.op("Slice", [right, b.const("st", np.array([1], np.int64)), b.const("en", np.array([7], np.int64)),
                           b.const("ax", np.array([3], np.int64))])
    x = b.op("Concat", [b.conv(left, 4, 6), right], axis=-1)  # 12 channels
    x = b.op("ReduceMean", [x], axes=[1, 2], keepdims=1)
    b.nodes.append(node("Squeeze", [x, b.const("axes", np.array([1, 2], np.int64))], ["y"]))
    m = model(b.nodes, {"x": [1, 9, 7, 4]}, ["y"], b.inits, opset=13)
    return m, {"x": rand(b.rng, 1, 9, 7, 4)}


def flatten_head(seed: str = "flatten") -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """Sinking is impossible: a Reshape that mixes H, W and C ([1,H,W,C] -> [1, H*W*C], the NHWC memory order)
    needs the NHWC tensor; and a Reshape to [1, H, W*C] after a second conv."""
    b = Builder(seed)
    x = b.op("Relu", [b.conv("x", 3, 5, k=3, pad=1)])
    a = b.op("Reshape", [x, b.const("shape", np.array([1, -1], np.int64))])
    a = b.op("MatMul", [a, b.const("fc", rand(b.rng, 6 * 6 * 5, 7) * 0.1)])
    c = b.op("Reshape", [b.conv(x, 5, 4), b.const("shape", np.array([1, 6, 24], np.int64))])
    c = b.op("ReduceSum", [c, b.const("axes", np.array([1], np.int64))], keepdims=0)  # [1, 24]
    c = b.op("MatMul", [c, b.const("fc", rand(b.rng, 24, 7) * 0.1)])
    b.nodes.append(node("Add", [a, c], ["y"]))
    m = model(b.nodes, {"x": [1, 6, 6, 3]}, ["y"], b.inits, opset=13)
    return m, {"x": rand(b.rng, 1, 6, 6, 3)}


def nhwc_segmenter(seed: str = "seg") -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """NHWC in and out (a dense prediction head): conv, edge Pad, conv, Softmax over the channel (last) axis,
    and an NHWC bilinear Resize of the result. The output keeps its NHWC shape."""
    b = Builder(seed)
    x = b.relu6(b.conv("x", 3, 8, k=3, pad=1))
    x = b.op("Pad", [x, b.const("pads", np.array([0, 2, 1, 0, 0, 0, 1, 0], np.int64))], mode="edge")
    x = b.conv(x, 8, 5, k=3)
    x = b.op("Softmax", [x], axis=3)
    sizes = b.const("sizes", np.array([1, 10, 12, 5], np.int64))
    b.nodes.append(node("Resize", [x, "", "", sizes], ["y"], mode="linear",
                        coordinate_transformation_mode="half_pixel"))
    m = model(b.nodes, {"x": [1, 7, 8, 3]}, ["y"], b.inits, opset=13)
    return m, {"x": rand(b.rng, 1, 7, 8, 3)}


def squeeze_excite(seed: str = "se") -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """A squeeze-excite block in NHWC (MobileNetV3 through tf2onnx): global mean kept over (1, 2), two 1x1 convs on
    it, HardSigmoid, the channel gate multiplied back into the NHWC feature map; NHWC output."""
    b = Builder(seed)
    x = b.relu6(b.conv("x", 3, 16, k=3, pad=1))
    s = b.op("ReduceMean", [x], axes=[1, 2], keepdims=1)
    s = b.op("Relu", [b.conv(s, 16, 4)])
    s = b.op("HardSigmoid", [b.conv(s, 4, 16)], alpha=1 / 6, beta=0.5)
    x = b.conv(b.op("Mul", [x, s]), 16, 8)
    b.nodes.append(node("Identity", [x], ["y"]))
    m = model(b.nodes, {"x": [1, 6, 6, 3]}, ["y"], b.inits, opset=13)
    return m, {"x": rand(b.rng, 1, 6, 6, 3)}
