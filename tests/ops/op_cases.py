"""One-operator (and small fused) ONNX models on awkward shapes, shared by the engine tests (tests/ops) and the
converter tests (tests/converter, through a numpy interpreter of the .sbn).

Each case: an ONNX model with input "x" (or several inputs: build returns {name: array}) and output "y", random
inputs, convert() options, and the .sbn ops expected.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx_helpers import model, node, rand, sparse_weight


@dataclass
class Case:
    id: str
    build: Callable[[], tuple[onnx.ModelProto, np.ndarray]]
    kwargs: dict[str, Any] = field(default_factory=dict)
    ops: list[str] | None = None  # expected .sbn node ops, in order
    group: int | None = None  # expected G of the (single) sparse layer


CASES: list[Case] = []


def case(id: str, ops: list[str] | None = None, group: int | None = None, **kwargs: Any):
    def register(fn: Callable[[], tuple[onnx.ModelProto, np.ndarray]]) -> Callable:
        CASES.append(Case(id, fn, kwargs, ops, group))
        return fn
    return register


def _rng(seed_text: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(seed_text.encode()))


def feeds(x: np.ndarray | dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The inputs of a case by name: one array is the input "x"."""
    return dict(x) if isinstance(x, dict) else {"x": x}


# ---------------- Conv ----------------

def _conv_model(x_shape, w, bias=True, act_nodes=(), seed="conv", **attrs):
    rng = _rng(seed)
    inits = {"W": w}
    ins = ["x", "W"]
    if bias:
        inits["B"] = rand(rng, w.shape[0])
        ins.append("B")
    out = "y" if not act_nodes else "c"
    nodes = [node("Conv", ins, [out], name="conv", **attrs)]
    nodes += list(act_nodes)
    return model(nodes, {"x": x_shape}, ["y"], inits), rand(rng, *x_shape)


def _conv_case(id, x_shape, w_shape, bias=True, **attrs):
    @case(id, ops=["CONV"], force_dense=True)
    def build():
        rng = _rng(id)
        return _conv_model(x_shape, rand(rng, *w_shape), bias, seed=id, **attrs)


_conv_case("conv3x3_c5_c7_pad1", (1, 5, 9, 11), (7, 5, 3, 3), pads=[1, 1, 1, 1])
_conv_case("conv1x1_on_1x1", (1, 9, 1, 1), (6, 9, 1, 1))
_conv_case("conv7x7_on_7x7_nobias", (1, 3, 7, 7), (5, 3, 7, 7), bias=False)
_conv_case("conv3x3_stride2_odd", (1, 3, 13, 10), (10, 3, 3, 3), strides=[2, 2], pads=[1, 1, 1, 1])
_conv_case("conv3x3_asym_pads", (1, 4, 8, 9), (6, 4, 3, 3), pads=[0, 1, 2, 1])
_conv_case("conv3x3_dilation2", (1, 3, 12, 12), (5, 3, 3, 3), dilations=[2, 2], pads=[2, 2, 2, 2])
_conv_case("conv_rect_kernel_stride", (1, 3, 11, 9), (4, 3, 1, 5), strides=[1, 2], pads=[0, 2, 0, 1])
_conv_case("conv_same_upper_s2", (1, 3, 11, 8), (5, 3, 3, 3), strides=[2, 2], auto_pad="SAME_UPPER")
_conv_case("conv_same_lower_s2", (1, 3, 11, 8), (5, 3, 4, 4), strides=[2, 2], auto_pad="SAME_LOWER")
_conv_case("conv_valid", (1, 3, 10, 9), (5, 3, 3, 3), auto_pad="VALID")
_conv_case("conv_grouped3", (1, 6, 8, 7), (9, 2, 3, 3), group=3, pads=[1, 1, 1, 1])
_conv_case("conv_depthwise13_s2", (1, 13, 9, 9), (13, 1, 3, 3), group=13, strides=[2, 2], pads=[1, 1, 1, 1])
_conv_case("conv_depthwise_mult2", (1, 5, 6, 6), (10, 1, 3, 3), group=5, pads=[1, 1, 1, 1])
_conv_case("conv_batch2", (2, 3, 6, 5), (4, 3, 3, 3), pads=[1, 1, 1, 1])
# Cin*kh*kw >= 64: im2col + f32-gemm in SIMD builds (engine/src/ops/conv.c); Cin not a multiple of 4, Cout not a
# multiple of the GEMM tiles, several pixel tiles (the last one partial), stride/dilation/asymmetric pads at borders.
_conv_case("im2col_c13_c11_pad1", (1, 13, 23, 29), (11, 13, 3, 3), pads=[1, 1, 1, 1])
_conv_case("im2col_c70_c21_s2_asym", (1, 70, 17, 20), (21, 70, 3, 3), strides=[2, 2], pads=[0, 1, 2, 1])
_conv_case("im2col_c9_c6_dil2", (1, 9, 15, 13), (6, 9, 3, 3), dilations=[2, 2], pads=[2, 1, 2, 3])
_conv_case("im2col_c7_c5_k5x3_s2x1", (2, 7, 12, 9), (5, 7, 5, 3), strides=[2, 1], pads=[2, 1, 1, 0], bias=False)
_conv_case("im2col_c130_c17_1x1_s2", (1, 130, 9, 7), (17, 130, 1, 1), strides=[2, 2])
_conv_case("im2col_c33_c3_k4_s3_dil3", (1, 33, 19, 16), (3, 33, 4, 4), strides=[3, 3], dilations=[3, 2],
           pads=[3, 0, 1, 4])


@case("im2col_conv_relu_fused", ops=["CONV"], force_dense=True)
def _im2col_relu():
    rng = _rng("im2col_relu")
    inits = {"W": rand(rng, 9, 16, 3, 3), "B": rand(rng, 9)}
    nodes = [node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]), node("Relu", ["c"], ["y"])]
    return model(nodes, {"x": (1, 16, 11, 10)}, ["y"], inits), rand(rng, 1, 16, 11, 10)


def _sparse_conv_case(id, x_shape, cout, k, g, density, **attrs):
    @case(id, ops=["CONV_SPARSE"], group=g, group_arg=g, sparse_threshold=1.0)
    def build():
        rng = _rng(id)
        w = sparse_weight(rng, cout, x_shape[1], k, k, g, density)
        return _conv_model(x_shape, w, seed=id, **attrs)


for _g in (1, 2, 4, 8):
    for _d in (0.0, 0.5, 1.0):
        _sparse_conv_case(f"sparse1x1_g{_g}_d{int(_d * 100)}", (1, 11, 5, 6), 13, 1, _g, _d)
        _sparse_conv_case(f"sparse3x3_g{_g}_d{int(_d * 100)}", (1, 6, 7, 5), 13, 3, _g, _d, pads=[1, 1, 1, 1])
    _sparse_conv_case(f"sparse3x3_s2_asym_g{_g}", (1, 5, 9, 8), 10, 3, _g, 0.4, strides=[2, 2], pads=[1, 0, 1, 2])
    _sparse_conv_case(f"sparse3x3_dil2_g{_g}", (1, 5, 9, 8), 6, 3, _g, 0.6, dilations=[2, 2], pads=[2, 2, 2, 2])
    _sparse_conv_case(f"sparse1x1_cout3_g{_g}", (1, 7, 4, 4), 3, 1, _g, 0.5)


# ---------------- FC ----------------

@case("gemm_transB_alpha_beta", ops=["FC"], force_dense=True)
def _gemm():
    rng = _rng("gemm")
    m = model([node("Gemm", ["x", "W", "C"], ["y"], alpha=0.5, beta=2.0, transB=1)], {"x": (3, 13)}, ["y"],
              {"W": rand(rng, 7, 13), "C": rand(rng, 1, 7)})
    return m, rand(rng, 3, 13)


@case("gemm_noTrans_scalar_bias", ops=["FC"], force_dense=True)
def _gemm2():
    rng = _rng("gemm2")
    m = model([node("Gemm", ["x", "W", "C"], ["y"])], {"x": (1, 10)}, ["y"],
              {"W": rand(rng, 10, 5), "C": np.array([0.25], np.float32)})
    return m, rand(rng, 1, 10)


@case("gemm_nobias", ops=["FC"], force_dense=True)
def _gemm3():
    rng = _rng("gemm3")
    return model([node("Gemm", ["x", "W"], ["y"], transB=1)], {"x": (2, 9)}, ["y"], {"W": rand(rng, 3, 9)}), \
        rand(rng, 2, 9)


@case("matmul_const", ops=["FC"], force_dense=True)
def _matmul():
    rng = _rng("matmul")
    return model([node("MatMul", ["x", "W"], ["y"])], {"x": (2, 9)}, ["y"], {"W": rand(rng, 9, 6)}), rand(rng, 2, 9)


@case("matmul_rank3", ops=["RESHAPE", "FC", "RESHAPE"], force_dense=True)
def _matmul3():
    rng = _rng("matmul3")
    return model([node("MatMul", ["x", "W"], ["y"])], {"x": (1, 5, 9)}, ["y"], {"W": rand(rng, 9, 6)}), \
        rand(rng, 1, 5, 9)


def _sparse_fc_case(g, density, cout=13, cin=19):
    id = f"fc_sparse_g{g}_d{int(density * 100)}"

    @case(id, ops=["FC_SPARSE"], group=g, group_arg=g, sparse_threshold=1.0)
    def build():
        rng = _rng(id)
        w = sparse_weight(rng, cout, cin, 1, 1, g, density)[:, :, 0, 0]
        m = model([node("Gemm", ["x", "W", "B"], ["y"], transB=1)], {"x": (2, cin)}, ["y"],
                  {"W": w, "B": rand(rng, cout)})
        return m, rand(rng, 2, cin)


for _g in (1, 2, 4, 8):
    for _d in (0.0, 0.5, 1.0):
        _sparse_fc_case(_g, _d)


# ---------------- normalisation and activations ----------------

@case("batchnorm_standalone", ops=["CHANNEL_AFFINE"])
def _bn():
    rng = _rng("bn")
    c = 7
    inits = {"s": rand(rng, c), "b": rand(rng, c), "m": rand(rng, c), "v": np.abs(rand(rng, c)) + 0.1}
    return model([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)], {"x": (1, c, 5, 3)},
                 ["y"], inits), rand(rng, 1, c, 5, 3)


@case("conv_bn_relu_fused", ops=["CONV"], force_dense=True)
def _conv_bn_relu():
    rng = _rng("cbr")
    c = 6
    inits = {"W": rand(rng, c, 3, 3, 3), "B": rand(rng, c), "s": rand(rng, c), "b": rand(rng, c), "m": rand(rng, c),
             "v": np.abs(rand(rng, c)) + 0.1}
    nodes = [node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]),
             node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]), node("Relu", ["n"], ["y"])]
    return model(nodes, {"x": (1, 3, 6, 7)}, ["y"], inits), rand(rng, 1, 3, 6, 7)


ACTIVATIONS: dict[str, tuple[str, dict[str, Any], dict[str, np.ndarray]]] = {
    "relu": ("Relu", {}, {}),
    "relu6": ("Clip", {}, {"lo": np.array(0, np.float32), "hi": np.array(6, np.float32)}),
    "clip_neg": ("Clip", {}, {"lo": np.array(-1.0, np.float32), "hi": np.array(0.5, np.float32)}),
    "clip_maxonly": ("Clip", {}, {"hi": np.array(0.3, np.float32)}),
    "hardsigmoid": ("HardSigmoid", {}, {}),
    "hardsigmoid_torch": ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}, {}),
    "hardswish": ("HardSwish", {}, {}),
    "sigmoid": ("Sigmoid", {}, {}),
    "leakyrelu": ("LeakyRelu", {}, {}),
    "leakyrelu_alpha": ("LeakyRelu", {"alpha": 0.3}, {}),
    "elu": ("Elu", {}, {}),
    "elu_alpha": ("Elu", {"alpha": 0.7}, {}),
    "tanh": ("Tanh", {}, {}),
    "exp": ("Exp", {}, {}),
    "erf": ("Erf", {}, {}),
    "abs": ("Abs", {}, {}),
    "neg": ("Neg", {}, {}),
    "softplus": ("Softplus", {}, {}),
}


def _act_node(kind: str, x: str, y: str):
    op, attrs, consts = ACTIVATIONS[kind]
    ins = [x]
    if op == "Clip":
        ins += ["lo" if "lo" in consts else "", "hi" if "hi" in consts else ""]
    return node(op, ins, [y], name=f"act_{kind}", **attrs), consts


for _kind in ACTIVATIONS:
    def _standalone(kind=_kind):
        rng = _rng("act" + kind)
        n, consts = _act_node(kind, "x", "y")
        return model([n], {"x": (1, 5, 4, 3)}, ["y"], consts), 4 * rand(rng, 1, 5, 4, 3)

    def _fused_conv(kind=_kind):
        rng = _rng("fconv" + kind)
        n, consts = _act_node(kind, "c", "y")
        nodes = [node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]), n]
        return model(nodes, {"x": (1, 3, 5, 4)}, ["y"], {"W": rand(rng, 5, 3, 3, 3), "B": rand(rng, 5), **consts}), \
            rand(rng, 1, 3, 5, 4)

    def _fused_add(kind=_kind):
        rng = _rng("fadd" + kind)
        n, consts = _act_node(kind, "s", "y")
        nodes = [node("Add", ["x", "k"], ["s"]), n]
        return model(nodes, {"x": (1, 5, 4, 3)}, ["y"], {"k": rand(rng, 1, 5, 1, 1), **consts}), \
            3 * rand(rng, 1, 5, 4, 3)

    def _fused_fc(kind=_kind):
        rng = _rng("ffc" + kind)
        n, consts = _act_node(kind, "f", "y")
        nodes = [node("Gemm", ["x", "W", "B"], ["f"], transB=1), n]
        return model(nodes, {"x": (2, 11)}, ["y"], {"W": rand(rng, 9, 11), "B": rand(rng, 9), **consts}), \
            rand(rng, 2, 11)

    case(f"act_{_kind}_standalone", ops=["ACTIVATION"])(_standalone)
    case(f"act_{_kind}_fused_conv", ops=["CONV"], force_dense=True)(_fused_conv)
    case(f"act_{_kind}_fused_add", ops=["ADD"])(_fused_add)
    case(f"act_{_kind}_fused_fc", ops=["FC"], force_dense=True)(_fused_fc)


@case("hardsigmoid_mul_to_hardswish", ops=["CONV"], force_dense=True)
def _hsw_pattern():
    rng = _rng("hswp")
    nodes = [node("Conv", ["x", "W"], ["c"]), node("HardSigmoid", ["c"], ["h"], alpha=1 / 6, beta=0.5),
             node("Mul", ["c", "h"], ["y"])]
    return model(nodes, {"x": (1, 3, 4, 4)}, ["y"], {"W": rand(rng, 4, 3, 1, 1)}), 4 * rand(rng, 1, 3, 4, 4)


@case("relu_on_shared_conv_stays_standalone", ops=["CONV", "ACTIVATION", "ADD"], force_dense=True)
def _shared():
    rng = _rng("shared")
    nodes = [node("Conv", ["x", "W"], ["c"]), node("Relu", ["c"], ["r"]), node("Add", ["c", "r"], ["y"])]
    return model(nodes, {"x": (1, 3, 4, 4)}, ["y"], {"W": rand(rng, 4, 3, 1, 1)}), rand(rng, 1, 3, 4, 4)


# ---------------- elementwise with broadcasting ----------------

def _binary_case(id, op, a_shape, b_shape, b_const, sbn_op):
    @case(id, ops=[sbn_op])
    def build():
        rng = _rng(id)
        if b_const:
            return model([node(op, ["x", "k"], ["y"])], {"x": a_shape}, ["y"], {"k": rand(rng, *b_shape)}), \
                rand(rng, *a_shape)
        # second operand computed from x so the graph keeps one input: a reshape-free broadcast of x with itself
        return model([node(op, ["x", "x"], ["y"])], {"x": a_shape}, ["y"]), rand(rng, *a_shape)


_binary_case("add_const_channel", "Add", (1, 7, 5, 3), (1, 7, 1, 1), True, "ADD")
_binary_case("add_const_spatial", "Add", (1, 7, 5, 3), (1, 1, 5, 3), True, "ADD")
_binary_case("add_const_scalar", "Add", (1, 7, 5, 3), (), True, "ADD")
_binary_case("add_const_rank1_lastdim", "Add", (1, 7, 5, 3), (3,), True, "ADD")
_binary_case("add_const_full", "Add", (2, 3, 4, 5), (2, 3, 4, 5), True, "ADD")
_binary_case("add_self", "Add", (1, 6, 3, 5), None, False, "ADD")
_binary_case("mul_const_channel", "Mul", (1, 7, 5, 3), (7, 1, 1), True, "MUL")
_binary_case("mul_const_2d", "Mul", (3, 11), (1, 11), True, "MUL")
_binary_case("mul_self", "Mul", (1, 6, 3, 5), None, False, "MUL")
_binary_case("sub_const", "Sub", (1, 4, 3, 3), (1, 4, 1, 1), True, "ADD")
_binary_case("div_const", "Div", (1, 4, 3, 3), (1, 4, 1, 1), True, "MUL")


@case("add_broadcast_activations", ops=["GLOBAL_AVG_POOL", "MUL"])
def _se_like():
    rng = _rng("se")
    nodes = [node("GlobalAveragePool", ["x"], ["p"]), node("Mul", ["x", "p"], ["y"])]
    return model(nodes, {"x": (1, 5, 6, 7)}, ["y"]), rand(rng, 1, 5, 6, 7)


@case("add_broadcast_first_smaller", ops=["GLOBAL_AVG_POOL", "ADD"])
def _add_small_first():
    rng = _rng("asf")
    nodes = [node("GlobalAveragePool", ["x"], ["p"]), node("Add", ["p", "x"], ["y"])]
    return model(nodes, {"x": (1, 5, 6, 7)}, ["y"]), rand(rng, 1, 5, 6, 7)


# ---------------- concat ----------------

def _concat_case(id, axis, shapes):
    @case(id)
    def build():
        rng = _rng(id)
        # slice-free: every concat input is a conv of x with a different Cout
        nodes, inits, names = [], {}, []
        for i, s in enumerate(shapes):
            nodes.append(node("Mul", ["x", f"k{i}"], [f"m{i}"]))
            inits[f"k{i}"] = rand(rng, *s)
            names.append(f"m{i}")
        nodes.append(node("Concat", names, ["y"], axis=axis))
        return model(nodes, {"x": (1, 1, 1, 1)}, ["y"], inits), rand(rng, 1, 1, 1, 1)


_concat_case("concat_axis1_3inputs", 1, [(1, 3, 4, 5), (1, 5, 4, 5), (1, 1, 4, 5)])
_concat_case("concat_axis2", 2, [(1, 3, 2, 5), (1, 3, 7, 5)])
_concat_case("concat_axis3", 3, [(1, 3, 4, 1), (1, 3, 4, 6)])
_concat_case("concat_axis_neg1", -1, [(1, 3, 4, 2), (1, 3, 4, 3)])
_concat_case("concat_axis0", 0, [(1, 3, 4, 2), (2, 3, 4, 2)])


@case("concat_with_constant", ops=["CONCAT"])
def _concat_const():
    rng = _rng("cc")
    m = model([node("Concat", ["x", "k"], ["y"], axis=1)], {"x": (1, 3, 2, 4)}, ["y"], {"k": rand(rng, 1, 2, 2, 4)})
    return m, rand(rng, 1, 3, 2, 4)


@case("concat_2d_features")
def _concat2d():
    rng = _rng("c2d")
    nodes = [node("Gemm", ["x", "W1"], ["a"], transB=1), node("Gemm", ["x", "W2"], ["b"], transB=1),
             node("Concat", ["a", "b"], ["y"], axis=1)]
    return model(nodes, {"x": (2, 6)}, ["y"], {"W1": rand(rng, 3, 6), "W2": rand(rng, 5, 6)}), rand(rng, 2, 6)


# ---------------- pooling ----------------

@case("global_avg_pool_7x5", ops=["GLOBAL_AVG_POOL"])
def _gap():
    rng = _rng("gap")
    return model([node("GlobalAveragePool", ["x"], ["y"])], {"x": (1, 9, 7, 5)}, ["y"]), rand(rng, 1, 9, 7, 5)


def _pool_case(id, op, x_shape, **attrs):
    sbn = {"AveragePool": "AVG_POOL", "MaxPool": "MAX_POOL"}[op]

    @case(id, ops=[sbn])
    def build():
        rng = _rng(id)
        return model([node(op, ["x"], ["y"], **attrs)], {"x": x_shape}, ["y"]), rand(rng, *x_shape)


for _op, _tag in (("AveragePool", "avg"), ("MaxPool", "max")):
    _pool_case(f"{_tag}pool_k2s2_odd", _op, (1, 3, 7, 9), kernel_shape=[2, 2], strides=[2, 2])
    _pool_case(f"{_tag}pool_k3s2_ceil", _op, (1, 3, 8, 10), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    _pool_case(f"{_tag}pool_k3s2_pad1", _op, (1, 3, 9, 8), kernel_shape=[3, 3], strides=[2, 2],
               pads=[1, 1, 1, 1])
    _pool_case(f"{_tag}pool_k3s2_pad_ceil", _op, (1, 2, 8, 8), kernel_shape=[3, 3], strides=[2, 2],
               pads=[1, 1, 1, 1], ceil_mode=1)
    _pool_case(f"{_tag}pool_asym_pads", _op, (1, 2, 7, 6), kernel_shape=[3, 2], strides=[1, 2], pads=[0, 1, 2, 0])
    _pool_case(f"{_tag}pool_same_upper", _op, (1, 2, 7, 6), kernel_shape=[3, 3], strides=[2, 2],
               auto_pad="SAME_UPPER")
    _pool_case(f"{_tag}pool_7x7_global_like", _op, (1, 4, 7, 7), kernel_shape=[7, 7])
_pool_case("avgpool_count_include_pad", "AveragePool", (1, 3, 6, 7), kernel_shape=[3, 3], strides=[2, 2],
           pads=[1, 1, 1, 1], count_include_pad=1)
_pool_case("avgpool_count_include_pad_ceil", "AveragePool", (1, 3, 8, 8), kernel_shape=[3, 3], strides=[2, 2],
           pads=[1, 1, 1, 1], count_include_pad=1, ceil_mode=1)


# ---------------- softmax, shapes ----------------

def _softmax_case(id, x_shape, axis):
    @case(id, ops=["SOFTMAX"])
    def build():
        rng = _rng(id)
        return model([node("Softmax", ["x"], ["y"], axis=axis)], {"x": x_shape}, ["y"]), 3 * rand(rng, *x_shape)


_softmax_case("softmax_2d_axis1", (3, 10), 1)
_softmax_case("softmax_2d_default_last", (2, 1001), -1)
_softmax_case("softmax_4d_axis1", (1, 5, 3, 4), 1)
_softmax_case("softmax_4d_axis_last", (1, 5, 3, 4), -1)
_softmax_case("softmax_4d_axis2", (2, 5, 3, 4), 2)
_softmax_case("softmax_axis0", (3, 4), 0)


@case("flatten_axis1", ops=["RESHAPE"])
def _flatten():
    rng = _rng("fl")
    return model([node("Flatten", ["x"], ["y"])], {"x": (2, 3, 4, 5)}, ["y"]), rand(rng, 2, 3, 4, 5)


@case("flatten_axis2_then_fc", ops=["RESHAPE", "FC"], force_dense=True)
def _flatten2():
    rng = _rng("fl2")
    nodes = [node("Flatten", ["x"], ["f"], axis=2), node("Gemm", ["f", "W"], ["y"], transB=1)]
    return model(nodes, {"x": (1, 3, 4, 5)}, ["y"], {"W": rand(rng, 6, 20)}), rand(rng, 1, 3, 4, 5)


@case("reshape_minus1_zero", ops=["RESHAPE"])
def _reshape():
    rng = _rng("rs")
    return model([node("Reshape", ["x", "s"], ["y"])], {"x": (1, 6, 4, 5)}, ["y"],
                 {"s": np.array([0, -1, 2, 5], np.int64)}), rand(rng, 1, 6, 4, 5)


@case("squeeze_unsqueeze", ops=["GLOBAL_AVG_POOL", "RESHAPE", "RESHAPE"])
def _squeeze():
    rng = _rng("sq")
    nodes = [node("GlobalAveragePool", ["x"], ["p"]), node("Squeeze", ["p", "ax"], ["s"]),
             node("Unsqueeze", ["s", "ax1"], ["y"])]
    return model(nodes, {"x": (1, 5, 3, 3)}, ["y"], {"ax": np.array([2, 3], np.int64),
                                                      "ax1": np.array([-1], np.int64)}), rand(rng, 1, 5, 3, 3)


@case("torch_view_chain_folded", ops=["GLOBAL_AVG_POOL", "RESHAPE", "FC"], force_dense=True)
def _view_chain():
    rng = _rng("view")
    nodes = [node("GlobalAveragePool", ["x"], ["p"]), node("Shape", ["p"], ["shp"]),
             node("Constant", [], ["zero"], value=onnx.numpy_helper.from_array(np.array(0, np.int64))),
             node("Gather", ["shp", "zero"], ["n"], axis=0),
             node("Cast", ["n"], ["n64"], to=onnx.TensorProto.INT64),
             node("Unsqueeze", ["n64", "ax0"], ["n1"]),
             node("Concat", ["n1", "minus1"], ["target"], axis=0),
             node("Reshape", ["p", "target"], ["f"]), node("Gemm", ["f", "W", "B"], ["y"], transB=1)]
    inits = {"ax0": np.array([0], np.int64), "minus1": np.array([-1], np.int64), "W": rand(rng, 4, 6),
             "B": rand(rng, 4)}
    return model(nodes, {"x": (1, 6, 5, 5)}, ["y"], inits), rand(rng, 1, 6, 5, 5)


@case("identity_and_dropout_removed", ops=["ACTIVATION"])
def _identity():
    rng = _rng("id")
    nodes = [node("Identity", ["x"], ["i"]), node("Dropout", ["i"], ["d"]), node("Relu", ["d"], ["y"])]
    return model(nodes, {"x": (1, 3, 2, 2)}, ["y"]), rand(rng, 1, 3, 2, 2)


# ---------------- transpose ----------------

def _transpose_case(id, x_shape, perm, ops=("TRANSPOSE",)):
    @case(id, ops=list(ops))
    def build():
        rng = _rng(id)
        attrs = {} if perm is None else {"perm": perm}  # None: ONNX's default, the reversed axes
        return model([node("Transpose", ["x"], ["y"], **attrs)], {"x": x_shape}, ["y"]), rand(rng, *x_shape)


_transpose_case("transpose_rank1_identity", (13,), [0], ["RESHAPE"])  # no data moves: an alias
_transpose_case("transpose_rank2", (7, 13), [1, 0])
_transpose_case("transpose_rank3_default_reverse", (3, 5, 7), None)
_transpose_case("transpose_rank3_middle", (3, 5, 7), [0, 2, 1])
_transpose_case("transpose_nchw_to_nhwc", (2, 5, 7, 3), [0, 2, 3, 1])
_transpose_case("transpose_nhwc_to_nchw", (1, 7, 5, 3), [0, 3, 1, 2])
_transpose_case("transpose_rank4_identity", (2, 3, 5, 7), [0, 1, 2, 3], ["RESHAPE"])
_transpose_case("transpose_rank4_reverse", (2, 3, 5, 7), [3, 2, 1, 0])
_transpose_case("transpose_rank4_blocks", (3, 5, 7, 2), [2, 3, 0, 1])
_transpose_case("transpose_rank4_size1_axes", (1, 9, 1, 5), [2, 3, 0, 1])
_transpose_case("transpose_rank5", (2, 3, 1, 5, 7), [4, 2, 0, 3, 1])
_transpose_case("transpose_rank6", (2, 3, 2, 5, 3, 7), [5, 3, 1, 0, 2, 4])
_transpose_case("transpose_rank6_reverse", (3, 1, 2, 5, 2, 3), None)
_transpose_case("transpose_rank6_identity", (2, 1, 3, 1, 5, 2), [0, 1, 2, 3, 4, 5], ["RESHAPE"])


@case("nhwc_conv_nhwc_roundtrip", ops=["TRANSPOSE", "CONV", "TRANSPOSE"], force_dense=True)  # Relu: sunk, fused
def _nhwc_roundtrip():
    """An NHWC model as tf2onnx exports it: transpose in, NCHW conv, transpose out, then an activation on NHWC."""
    rng = _rng("nhwc")
    nodes = [node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
             node("Conv", ["t", "W", "B"], ["c"], pads=[1, 1, 1, 1]),
             node("Transpose", ["c"], ["u"], perm=[0, 2, 3, 1]), node("Relu", ["u"], ["y"])]
    return model(nodes, {"x": (1, 9, 7, 3)}, ["y"], {"W": rand(rng, 5, 3, 3, 3), "B": rand(rng, 5)}), \
        rand(rng, 1, 9, 7, 3)


@case("transpose_of_constant_folded", ops=["ADD"])
def _transpose_const():
    rng = _rng("tconst")
    nodes = [node("Transpose", ["k"], ["kt"], perm=[0, 3, 1, 2]), node("Add", ["x", "kt"], ["y"])]
    return model(nodes, {"x": (1, 4, 3, 5)}, ["y"], {"k": rand(rng, 1, 3, 5, 4)}), rand(rng, 1, 4, 3, 5)


# ---------------- math ops (broadcasting binaries between activations, unary functions, activations) ----------------
# Every case from here to _MATH_END also runs on qemu and in wasm (tests/ops/test_ops_math_devices.py: MATH_CASES).
_MATH_START = len(CASES)


def _positive(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return (np.abs(rand(rng, *shape)) + 0.25).astype(np.float32)


def _act_binary_case(id, op, a_shape, b_shape, sbn_op, positive_b=False, positive_a=False):
    """op between two graph inputs (two activations) of awkward, broadcasting shapes."""
    @case(id, ops=[sbn_op])
    def build():
        rng = _rng(id)
        a = _positive(rng, *a_shape) if positive_a else 2 * rand(rng, *a_shape)
        b = _positive(rng, *b_shape) if positive_b else 2 * rand(rng, *b_shape)
        return model([node(op, ["x", "x2"], ["y"])], {"x": a_shape, "x2": b_shape}, ["y"]), {"x": a, "x2": b}


_act_binary_case("sub_act_same", "Sub", (2, 3, 4, 5), (2, 3, 4, 5), "SUB")
_act_binary_case("sub_act_channel", "Sub", (1, 7, 5, 3), (1, 7, 1, 1), "SUB")
_act_binary_case("sub_act_first_smaller", "Sub", (7, 1, 1), (2, 7, 5, 3), "SUB")
_act_binary_case("sub_act_rank6", "Sub", (2, 1, 3, 1, 4, 5), (3, 2, 1, 5), "SUB")
_act_binary_case("div_act_same", "Div", (3, 11), (3, 11), "DIV", positive_b=True)
_act_binary_case("div_act_lastdim", "Div", (2, 3, 4, 5), (4, 1), "DIV", positive_b=True)
_act_binary_case("div_act_scalar_input", "Div", (1, 6, 5, 3), (1,), "DIV", positive_b=True)
_act_binary_case("max_act_bcast", "Max", (1, 5, 6, 7), (5, 1, 7), "MAXIMUM")
_act_binary_case("max_act_same", "Max", (4, 9), (4, 9), "MAXIMUM")
_act_binary_case("min_act_outer", "Min", (3, 1, 5), (1, 4, 1), "MINIMUM")
_act_binary_case("min_act_channel", "Min", (2, 6, 3, 3), (1, 6, 1, 1), "MINIMUM")
_act_binary_case("pow_act_bcast", "Pow", (2, 3, 5), (3, 1), "POW", positive_a=True)
_act_binary_case("prelu_act_slope", "PRelu", (2, 4, 3, 5), (4, 1, 1), "PRELU")


def _const_binary_case(id, op, x_shape, k, ops, k_first=False, positive_x=False):
    @case(id, ops=ops)
    def build():
        rng = _rng(id)
        ins = ["k", "x"] if k_first else ["x", "k"]
        x = _positive(rng, *x_shape) if positive_x else 2 * rand(rng, *x_shape)
        return model([node(op, ins, ["y"])], {"x": x_shape}, ["y"], {"k": k(rng)}), x


_const_binary_case("sub_const_first", "Sub", (1, 4, 3, 5), lambda r: rand(r, 1, 4, 1, 5), ["SUB"], k_first=True)
_const_binary_case("div_const_first", "Div", (2, 7), lambda r: rand(r, 7), ["DIV"], k_first=True, positive_x=True)
_const_binary_case("max_const_scalar", "Max", (1, 3, 4, 5), lambda r: np.array(0.3, np.float32), ["MAXIMUM"])
_const_binary_case("min_const_channel", "Min", (1, 3, 4, 5), lambda r: rand(r, 3, 1, 1), ["MINIMUM"])
_const_binary_case("pow_const_square", "Pow", (1, 3, 4, 5), lambda r: np.array(2.0, np.float32), ["POW"])
_const_binary_case("pow_const_int_square", "Pow", (2, 9), lambda r: np.array(2, np.int64), ["POW"])
_const_binary_case("pow_const_half", "Pow", (1, 3, 4, 5), lambda r: np.array(0.5, np.float32), ["POW"],
                   positive_x=True)
_const_binary_case("pow_const_first", "Pow", (3, 4), lambda r: _positive(r, 4), ["POW"], k_first=True)
_const_binary_case("prelu_channel_slope", "PRelu", (1, 6, 4, 5), lambda r: rand(r, 6, 1, 1), ["PRELU"])
_const_binary_case("prelu_one_slope_is_leakyrelu", "PRelu", (1, 6, 4, 5),
                   lambda r: np.array([0.25], np.float32), ["ACTIVATION"])
_const_binary_case("prelu_same_slopes_is_leakyrelu", "PRelu", (1, 3, 4, 5),
                   lambda r: np.full((3, 1, 1), -0.5, np.float32), ["ACTIVATION"])
# The vmaxc/vminc/vpreluc kernels (binary.c BIN_ROWC): a scalar first (the constant is input 0), a row count that is
# neither a multiple of 4 nor of the 1024-element parallel chunk, per-channel rows of odd length over two images.
_const_binary_case("max_const_scalar_first_wide", "Max", (1, 8, 17, 19), lambda r: np.array(-0.2, np.float32),
                   ["MAXIMUM"], k_first=True)
_const_binary_case("min_const_scalar_wide", "Min", (2, 3, 31, 7), lambda r: np.full((1, 1, 1, 1), 0.4, np.float32),
                   ["MINIMUM"])
_const_binary_case("prelu_channel_slope_odd_rows", "PRelu", (2, 5, 9, 11), lambda r: rand(r, 5, 1, 1), ["PRELU"])


@case("min_const_scalar_relu_fused", ops=["MINIMUM"])
def _min_relu():
    rng = _rng("minrelu")
    m = model([node("Min", ["x", "k"], ["s"]), node("Relu", ["s"], ["y"])], {"x": (1, 4, 9, 13)}, ["y"],
              {"k": np.array(0.5, np.float32)})
    return m, 2 * rand(rng, 1, 4, 9, 13)


@case("max_three_inputs_chain", ops=["MAXIMUM", "MAXIMUM"])
def _max3():
    rng = _rng("max3")
    m = model([node("Max", ["x", "x2", "k"], ["y"])], {"x": (2, 3, 4), "x2": (3, 1)}, ["y"], {"k": rand(rng, 4)})
    return m, {"x": rand(rng, 2, 3, 4), "x2": rand(rng, 3, 1)}


@case("sub_act_relu_fused", ops=["SUB"])
def _sub_relu():
    rng = _rng("subrelu")
    m = model([node("Sub", ["x", "x2"], ["s"]), node("Relu", ["s"], ["y"])], {"x": (1, 4, 3, 3), "x2": (1, 4, 1, 3)},
              ["y"])
    return m, {"x": rand(rng, 1, 4, 3, 3), "x2": rand(rng, 1, 4, 1, 3)}


@case("conv_prelu_channel", ops=["CONV", "PRELU"], force_dense=True)
def _conv_prelu():
    rng = _rng("convprelu")
    nodes = [node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]), node("PRelu", ["c", "slope"], ["y"])]
    return model(nodes, {"x": (1, 3, 6, 5)}, ["y"], {"W": rand(rng, 5, 3, 3, 3), "B": rand(rng, 5),
                                                      "slope": rand(rng, 5, 1, 1)}), rand(rng, 1, 3, 6, 5)


@case("conv_prelu_scalar_fused", ops=["CONV"], force_dense=True)
def _conv_prelu_scalar():
    rng = _rng("convprelu1")
    nodes = [node("Conv", ["x", "W"], ["c"]), node("PRelu", ["c", "slope"], ["y"])]
    inits = {"W": rand(rng, 6, 3, 1, 1), "slope": np.array([0.1], np.float32)}
    return model(nodes, {"x": (1, 3, 4, 5)}, ["y"], inits), rand(rng, 1, 3, 4, 5)


@case("sqrt_reciprocal_of_abs", ops=["ACTIVATION", "ACTIVATION", "ACTIVATION"])
def _sqrt_recip():
    """Sqrt and Reciprocal after Abs, on inputs whose magnitude is at least 0.25 (no 0, no negative under sqrt)."""
    rng = _rng("sqrtrecip")
    nodes = [node("Abs", ["x"], ["a"]), node("Sqrt", ["a"], ["s"]), node("Reciprocal", ["s"], ["y"])]
    return model(nodes, {"x": (1, 5, 4, 3)}, ["y"]), np.sign(rand(rng, 1, 5, 4, 3)) * _positive(rng, 1, 5, 4, 3)


@case("log_of_exp_and_of_abs", ops=["ACTIVATION", "ACTIVATION", "ACTIVATION", "ADD", "MUL"])
def _log():
    """Log on positive values: of Exp (log(exp(x)) = x) and of Abs + 0.25 (Add fuses the Log)."""
    rng = _rng("log")
    nodes = [node("Exp", ["x"], ["e"]), node("Log", ["e"], ["l1"]), node("Abs", ["x"], ["a"]),
             node("Add", ["a", "k"], ["a1"]), node("Log", ["a1"], ["l2"]), node("Mul", ["l1", "l2"], ["y"])]
    return model(nodes, {"x": (2, 5, 7)}, ["y"], {"k": np.array(0.25, np.float32)}), 2 * rand(rng, 2, 5, 7)


@case("conv_abs_fused_then_sqrt", ops=["CONV", "ACTIVATION"], force_dense=True)
def _conv_sqrt():
    rng = _rng("convsqrt")
    nodes = [node("Conv", ["x", "W", "B"], ["c"]), node("Abs", ["c"], ["a"]), node("Sqrt", ["a"], ["y"])]
    return model(nodes, {"x": (1, 4, 3, 5)}, ["y"], {"W": rand(rng, 7, 4, 1, 1), "B": rand(rng, 7)}), \
        rand(rng, 1, 4, 3, 5)


# Activations written out as several nodes (passes/fuse_patterns.py), fused back and into the producing conv.
_K = {"three": np.array(3.0, np.float32), "six": np.array(6.0, np.float32), "zero": np.array(0.0, np.float32),
      "sixth": np.array(1 / 6, np.float32), "sqrt2": np.array(np.sqrt(2.0), np.float32),
      "one": np.array(1.0, np.float32), "half": np.array(0.5, np.float32)}


def _pattern_case(id, ops, body, conv=True, x_shape=(1, 3, 5, 4)):
    """body(x, y) -> nodes computing y from x with the constants of _K; conv: x is a Conv's output."""
    @case(id, ops=ops, force_dense=True)
    def build():
        rng = _rng(id)
        inits = {k: v for k, v in _K.items()}
        nodes = body("c" if conv else "x", "y")
        if conv:
            nodes = [node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]), *nodes]
            inits.update(W=rand(rng, 6, x_shape[1], 3, 3), B=rand(rng, 6))
        used = {i for n in nodes for i in n.input}
        return model(nodes, {"x": x_shape}, ["y"], {k: v for k, v in inits.items() if k in used}), \
            3 * rand(rng, *x_shape)


_pattern_case("silu_written_out_fused_conv", ["CONV"],
              lambda x, y: [node("Sigmoid", [x], ["s"]), node("Mul", [x, "s"], [y])])
_pattern_case("silu_written_out_standalone", ["ACTIVATION"],
              lambda x, y: [node("Sigmoid", [x], ["s"]), node("Mul", ["s", x], [y])], conv=False)
_pattern_case("sigmoid_used_twice_is_no_silu", ["CONV", "ACTIVATION", "MUL", "ADD"],
              lambda x, y: [node("Sigmoid", [x], ["s"]), node("Mul", [x, "s"], ["m"]), node("Add", ["m", "s"], [y])])
_pattern_case("hardswish_written_out_div_product", ["CONV"],
              lambda x, y: [node("Add", [x, "three"], ["a"]), node("Clip", ["a", "zero", "six"], ["r"]),
                            node("Mul", [x, "r"], ["m"]), node("Div", ["m", "six"], [y])])
_pattern_case("hardswish_written_out_relu6_over_6", ["ACTIVATION"],
              lambda x, y: [node("Add", ["three", x], ["a"]), node("Clip", ["a", "zero", "six"], ["r"]),
                            node("Mul", ["r", "sixth"], ["d"]), node("Mul", ["d", x], [y])], conv=False)
_pattern_case("hardswish_paddle_hardsigmoid_mul", ["CONV"],
              lambda x, y: [node("HardSigmoid", [x], ["h"], alpha=float(np.float32(1 / 6)), beta=0.5),
                            node("Mul", [x, "h"], [y])])
_pattern_case("gelu_erf_torch_form_fused_conv", ["CONV"],
              lambda x, y: [node("Div", [x, "sqrt2"], ["d"]), node("Erf", ["d"], ["e"]),
                            node("Add", ["e", "one"], ["p"]), node("Mul", [x, "p"], ["m"]),
                            node("Mul", ["m", "half"], [y])])
_pattern_case("gelu_erf_half_on_sum", ["ACTIVATION"],
              lambda x, y: [node("Div", [x, "sqrt2"], ["d"]), node("Erf", ["d"], ["e"]),
                            node("Add", ["one", "e"], ["p"]), node("Mul", ["p", "half"], ["h"]),
                            node("Mul", ["h", x], [y])], conv=False)
_pattern_case("gelu_erf_half_on_x", ["ACTIVATION"],
              lambda x, y: [node("Div", [x, "sqrt2"], ["d"]), node("Erf", ["d"], ["e"]),
                            node("Add", ["e", "one"], ["p"]), node("Mul", [x, "half"], ["h"]),
                            node("Mul", ["h", "p"], [y])], conv=False)
_K["c3"], _K["k_tanh"] = np.array(3.0, np.float32), np.array(np.sqrt(2 / np.pi), np.float32)
_K["c044"] = np.array(0.044715, np.float32)
_pattern_case("gelu_tanh_pow_form_fused_conv", ["CONV"],
              lambda x, y: [node("Pow", [x, "c3"], ["p3"]), node("Mul", ["c044", "p3"], ["t"]),
                            node("Add", [x, "t"], ["a"]), node("Mul", ["a", "k_tanh"], ["s"]),
                            node("Tanh", ["s"], ["th"]), node("Add", ["th", "one"], ["p"]),
                            node("Mul", [x, "p"], ["m"]), node("Mul", ["half", "m"], [y])])


def _gelu_op_case(id, approximate):
    @case(id, ops=["CONV"], force_dense=True)
    def build():
        rng = _rng(id)
        attrs = {} if approximate is None else {"approximate": approximate}
        nodes = [node("Conv", ["x", "W"], ["c"]), node("Gelu", ["c"], ["y"], **attrs)]
        return model(nodes, {"x": (1, 4, 3, 5)}, ["y"], {"W": rand(rng, 6, 4, 1, 1)}, opset=20), \
            2 * rand(rng, 1, 4, 3, 5)


_gelu_op_case("gelu_op20_default_fused_conv", None)
_gelu_op_case("gelu_op20_tanh_fused_conv", "tanh")
_pattern_case("gelu_erf_wrong_constant_stays", ["ACTIVATION", "ADD", "MUL", "MUL"],
              lambda x, y: [node("Erf", [x], ["e"]), node("Add", ["e", "one"], ["p"]), node("Mul", [x, "p"], ["m"]),
                            node("Mul", ["m", "half"], [y])], conv=False)


def _reduce_case(id, op, x_shape, axes, keepdims=None, opset=None, as_input=None, ops=None, **attrs):
    """as_input: axes as the second input (ReduceSum 13+, every Reduce 18+); default: by the opset."""
    opset = opset or 17
    sbn = {"ReduceMean": "REDUCE_MEAN", "ReduceSum": "REDUCE_SUM", "ReduceMax": "REDUCE_MAX",
           "ReduceMin": "REDUCE_MIN"}[op]

    @case(id, ops=ops or [sbn])
    def build():
        rng = _rng(id)
        by_input = as_input if as_input is not None else (op == "ReduceSum" or opset >= 18)
        kw = dict(attrs)
        if keepdims is not None:
            kw["keepdims"] = keepdims
        ins, inits = ["x"], {}
        if axes is not None and by_input:
            ins.append("axes")
            inits["axes"] = np.array(axes, np.int64)
        elif axes is not None:
            kw["axes"] = axes
        m = model([node(op, ins, ["y"], **kw)], {"x": x_shape}, ["y"], inits, opset=opset)
        return m, 2 * rand(rng, *x_shape)


_reduce_case("reduce_mean_last_keep", "ReduceMean", (2, 3, 5, 7), [-1])
_reduce_case("reduce_mean_middle_nokeep", "ReduceMean", (2, 3, 5, 7), [1, 2], keepdims=0)
_reduce_case("reduce_mean_hw_is_gap", "ReduceMean", (1, 6, 5, 7), [2, 3], ops=["GLOBAL_AVG_POOL"])
_reduce_case("reduce_mean_hw_nokeep", "ReduceMean", (2, 6, 5, 7), [-2, -1], keepdims=0,
             ops=["GLOBAL_AVG_POOL", "RESHAPE"])
_reduce_case("reduce_mean_opset18_axes_input", "ReduceMean", (3, 4, 5), [0, 2], opset=18)
_reduce_case("reduce_sum_axes_input", "ReduceSum", (2, 3, 4, 5), [0, 3])
_reduce_case("reduce_sum_all_default", "ReduceSum", (2, 3, 4), None, keepdims=0)
_reduce_case("reduce_sum_rank6_alternate", "ReduceSum", (2, 3, 2, 4, 1, 3), [1, 3, 5])
_reduce_case("reduce_max_rank1", "ReduceMax", (13,), [0], keepdims=0)
_reduce_case("reduce_max_first_axis", "ReduceMax", (4, 3, 5), [0])
_reduce_case("reduce_max_opset18", "ReduceMax", (2, 5, 3, 3), [1], opset=18)
_reduce_case("reduce_min_two_axes", "ReduceMin", (3, 4, 5, 2), [0, 2], keepdims=0)
_reduce_case("reduce_min_size1_axis", "ReduceMin", (3, 1, 5), [1])


def _layer_norm_case(id, x_shape, axis, bias=True, scale_shape=None, epsilon=None):
    @case(id, ops=["LAYER_NORM"])
    def build():
        rng = _rng(id)
        norm = x_shape[axis:] if axis >= 0 else x_shape[len(x_shape) + axis:]
        inits = {"s": rand(rng, *(scale_shape or norm))}
        if bias:
            inits["b"] = rand(rng, *norm)
        attrs: dict[str, Any] = {"axis": axis}
        if epsilon is not None:
            attrs["epsilon"] = epsilon
        m = model([node("LayerNormalization", ["x", *inits], ["y"], **attrs)], {"x": x_shape}, ["y"], inits)
        return m, 3 * rand(rng, *x_shape) + 1


_layer_norm_case("layer_norm_last_axis", (2, 7, 13), -1)
_layer_norm_case("layer_norm_two_axes_nobias", (2, 5, 3, 4), 2, bias=False)
_layer_norm_case("layer_norm_axis1_eps", (3, 6, 5), 1, epsilon=1e-2)
_layer_norm_case("layer_norm_scale_broadcast", (1, 4, 9), -2, scale_shape=(1, 9))


def _instance_norm_case(id, x_shape):
    @case(id, ops=["INSTANCE_NORM"])
    def build():
        rng = _rng(id)
        c = x_shape[1]
        inits = {"s": rand(rng, c), "b": rand(rng, c)}
        return model([node("InstanceNormalization", ["x", "s", "b"], ["y"], epsilon=1e-3)], {"x": x_shape}, ["y"],
                     inits), 2 * rand(rng, *x_shape) - 1


_instance_norm_case("instance_norm_4d", (2, 5, 7, 6))
_instance_norm_case("instance_norm_3d", (1, 4, 11))


def _ln_pattern_case(id, x_shape, axes, affine=True, square="pow", ops=("LAYER_NORM",), opset=17):
    """LayerNorm written out as exporters before opset 17 do (ReduceMean axes as an attribute below opset 18)."""
    @case(id, ops=list(ops))
    def build():
        rng = _rng(id)
        inits: dict[str, np.ndarray] = {"two": np.array(2.0, np.float32), "eps": np.array(1e-5, np.float32)}
        nodes = [node("ReduceMean", ["x"], ["m"], axes=axes), node("Sub", ["x", "m"], ["d"]),
                 node("Pow", ["d", "two"], ["p"]) if square == "pow" else node("Mul", ["d", "d"], ["p"]),
                 node("ReduceMean", ["p"], ["v"], axes=axes), node("Add", ["v", "eps"], ["ve"]),
                 node("Sqrt", ["ve"], ["s"]), node("Div", ["d", "s"], ["n" if affine else "y"])]
        if affine:
            norm = x_shape[min(a % len(x_shape) for a in axes):]
            inits.update(g=rand(rng, *norm), b=rand(rng, *norm[-1:]))
            nodes += [node("Mul", ["n", "g"], ["gn"]), node("Add", ["gn", "b"], ["y"])]
        if square != "pow":
            del inits["two"]
        return model(nodes, {"x": x_shape}, ["y"], inits, opset=opset), 2 * rand(rng, *x_shape) + 0.5


_ln_pattern_case("layer_norm_pattern_affine", (2, 6, 11), [-1])
_ln_pattern_case("layer_norm_pattern_two_axes", (1, 3, 4, 5), [2, 3])
_ln_pattern_case("layer_norm_pattern_no_affine_mul_square", (3, 8), [-1], affine=False, square="mul")
_ln_pattern_case("layer_norm_pattern_not_trailing_stays", (2, 5, 4), [1],
                 ops=("REDUCE_MEAN", "SUB", "POW", "REDUCE_MEAN", "ADD", "DIV", "MUL", "ADD"))  # Sqrt fused


def _matmul_case(id, a_shape, b_shape, ops=("MATMUL",), b_const=False, a_const=False):
    @case(id, ops=list(ops), force_dense=True)
    def build():
        rng = _rng(id)
        inits, shapes, feed = {}, {}, {}
        for name, shape, const in (("x", a_shape, a_const), ("x2", b_shape, b_const)):
            if const:
                inits[name] = rand(rng, *shape)
            else:
                shapes[name], feed[name] = shape, rand(rng, *shape)
        m = model([node("MatMul", ["x", "x2"], ["y"])], shapes, ["y"], inits)
        return m, feed if len(feed) > 1 else feed["x" if "x" in feed else "x2"]
    return build


_matmul_case("matmul_act_2d", (5, 7), (7, 3))
_matmul_case("matmul_act_batched", (2, 3, 4, 6), (2, 3, 6, 5))
_matmul_case("matmul_act_broadcast_batch", (2, 1, 4, 6), (3, 6, 5))
_matmul_case("matmul_act_rank3_by_2d", (3, 4, 6), (6, 2))
_matmul_case("matmul_const_batched_b", (2, 4, 6), (2, 6, 3), b_const=True)
_matmul_case("matmul_vector_left", (6,), (2, 6, 3), ops=("RESHAPE", "MATMUL", "RESHAPE"))
_matmul_case("matmul_vector_right", (2, 4, 6), (6,), ops=("RESHAPE", "MATMUL", "RESHAPE"))
_matmul_case("matmul_attention_scores", (1, 2, 9, 8), (1, 2, 8, 9))


@case("matmul_softmax_matmul_attention", ops=["MATMUL", "MUL", "SOFTMAX", "MATMUL"])
def _attention():
    """softmax(q k^T / sqrt(d)) v with q, k^T, v three activations."""
    rng = _rng("attention")
    nodes = [node("MatMul", ["x", "x2"], ["s"]), node("Mul", ["s", "scale"], ["t"]), node("Softmax", ["t"], ["p"]),
             node("MatMul", ["p", "x3"], ["y"])]
    m = model(nodes, {"x": (1, 2, 5, 4), "x2": (1, 2, 4, 5), "x3": (1, 2, 5, 4)}, ["y"],
              {"scale": np.array(0.5, np.float32)})
    return m, {"x": rand(rng, 1, 2, 5, 4), "x2": rand(rng, 1, 2, 4, 5), "x3": rand(rng, 1, 2, 5, 4)}


@case("linear_rank3_bias_gelu_folded_into_fc", ops=["RESHAPE", "FC", "RESHAPE"], force_dense=True)
def _linear3():
    """torch's Linear on [B, N, D]: MatMul + Add(bias) (+ an activation): one FC with its bias and activation."""
    rng = _rng("linear3")
    nodes = [node("MatMul", ["x", "W"], ["m"]), node("Add", ["b", "m"], ["a"]), node("Relu", ["a"], ["y"])]
    return model(nodes, {"x": (2, 5, 6)}, ["y"], {"W": rand(rng, 6, 7), "b": rand(rng, 1, 1, 7)}), rand(rng, 2, 5, 6)


@case("gemm_free_bias_add_not_over_features_stays", ops=["FC", "ADD"], force_dense=True)
def _fc_add_rows():
    rng = _rng("fcaddrows")
    nodes = [node("MatMul", ["x", "W"], ["m"]), node("Add", ["m", "b"], ["y"])]
    return model(nodes, {"x": (3, 6)}, ["y"], {"W": rand(rng, 6, 4), "b": rand(rng, 3, 1)}), rand(rng, 3, 6)


@case("matmul_relu_fused", ops=["MATMUL"])
def _matmul_relu():
    rng = _rng("mmrelu")
    m = model([node("MatMul", ["x", "x2"], ["s"]), node("Relu", ["s"], ["y"])], {"x": (3, 4), "x2": (4, 5)}, ["y"])
    return m, {"x": rand(rng, 3, 4), "x2": rand(rng, 4, 5)}


def _log_softmax_case(id, x_shape, axis):
    @case(id, ops=["LOG_SOFTMAX"])
    def build():
        rng = _rng(id)
        return model([node("LogSoftmax", ["x"], ["y"], axis=axis)], {"x": x_shape}, ["y"]), 4 * rand(rng, *x_shape)


_log_softmax_case("log_softmax_last", (3, 17), -1)
_log_softmax_case("log_softmax_axis1_4d", (2, 5, 3, 4), 1)
_log_softmax_case("log_softmax_axis0", (4, 3), 0)
_softmax_case("softmax_rank5_axis3", (2, 3, 2, 5, 3), 3)


def _argmax_case(id, x_shape, **attrs):
    @case(id, ops=["ARGMAX"])
    def build():
        rng = _rng(id)
        x = rand(rng, *x_shape)
        if attrs.get("select_last_index"):
            x = np.round(x)  # ties, so first and last differ
        m = model([node("ArgMax", ["x"], ["y"], **attrs)], {"x": x_shape}, ["y"], check=False)
        del m.graph.output[:]  # the helper declares FLOAT outputs: ArgMax's is INT64
        m.graph.output.append(onnx.helper.make_tensor_value_info("y", onnx.TensorProto.INT64, None))
        m = onnx.shape_inference.infer_shapes(m)
        onnx.checker.check_model(m)
        return m, x


_argmax_case("argmax_default_axis0", (5, 3, 4))
_argmax_case("argmax_channels_nokeep", (1, 7, 3, 5), axis=1, keepdims=0)
_argmax_case("argmax_last_axis_neg", (2, 3, 11), axis=-1)
_argmax_case("argmax_select_last_ties", (4, 9), axis=1, select_last_index=1)


_MATH_END = len(CASES)
_MATH_ACT_KINDS = ("leakyrelu", "elu", "tanh", "exp", "erf", "abs", "neg", "softplus")
MATH_CASES = CASES[_MATH_START:_MATH_END] + [c for c in CASES if c.id.startswith("act_")
                                              and c.id.split("_")[1] in _MATH_ACT_KINDS]


# ---------------- pad (structural ops, helper F) ----------------

def _pad_case(id, x_shape, pads, mode=None, value=None, axes=None, ops=("PAD",), opset=None):
    @case(id, ops=list(ops))
    def build():
        rng = _rng(id)
        inits = {"pads": np.array(pads, np.int64)}
        ins = ["x", "pads"]
        if value is not None or axes is not None:
            ins.append("" if value is None else "cv")
            if value is not None:
                inits["cv"] = np.array(value, np.float32)
        if axes is not None:
            ins.append("axes")
            inits["axes"] = np.array(axes, np.int64)
        attrs = {} if mode is None else {"mode": mode}
        kw = {} if opset is None else {"opset": opset}
        return model([node("Pad", ins, ["y"], **attrs)], {"x": x_shape}, ["y"], inits, **kw), rand(rng, *x_shape)


_pad_case("pad_constant_spatial", (1, 3, 5, 7), [0, 0, 1, 2, 0, 0, 3, 0])
_pad_case("pad_constant_value_all_axes", (2, 3, 4, 5), [1, 2, 0, 1, 0, 1, 3, 2], value=-1.5)
_pad_case("pad_constant_rank1", (9,), [4, 0], value=2.0)
_pad_case("pad_reflect_rank3_max", (3, 5, 7), [2, 4, 6, 1, 4, 6], mode="reflect")
_pad_case("pad_reflect_nchw", (1, 4, 6, 5), [0, 0, 3, 4, 0, 0, 5, 1], mode="reflect")
_pad_case("pad_reflect_rank1", (6,), [5, 3], mode="reflect")
_pad_case("pad_edge_rank2", (7, 1), [3, 4, 2, 5], mode="edge")
_pad_case("pad_edge_rank5", (2, 1, 3, 2, 3), [1, 0, 2, 1, 0, 0, 3, 0, 2, 4], mode="edge")
_pad_case("pad_edge_rank6", (1, 2, 1, 3, 2, 2), [0, 1, 1, 0, 2, 1, 1, 0, 2, 1, 0, 3], mode="edge")
_pad_case("pad_axes_negative_opset18", (1, 3, 4, 5), [2, 1, 0, 3], axes=[-1, 1], opset=18)
_pad_case("pad_reflect_axes_opset18", (2, 5, 6), [3, 4], mode="reflect", axes=[2], opset=18)
_pad_case("pad_all_zero_is_identity", (1, 3, 4, 5), [0] * 8, ops=("RESHAPE",))
_pad_case("pad_negative_crop_and_pad_constant", (1, 3, 6, 7), [0, 0, -1, 2, 0, -1, 3, -2], value=0.25,
          ops=("SLICE", "PAD"))
_pad_case("pad_negative_crop_edge_other_axis", (2, 5, 6), [0, -2, 1, 0, -1, 2], mode="edge", ops=("SLICE", "PAD"))
_pad_case("pad_negative_only_is_a_slice", (1, 4, 5, 5), [0, -1, 0, -2, 0, 0, -1, 0], ops=("SLICE",))
# One padded axis in constant mode (pad.c's fill + memcpy blocks): BlazeFace's channel PAD before a residual ADD, a
# padded row axis with a value, a padded batch axis.
_pad_case("pad_constant_channels_only", (1, 24, 9, 7), [0, 0, 0, 0, 0, 24, 0, 0])
_pad_case("pad_constant_one_axis_value", (2, 3, 4, 5), [0, 0, 1, 0, 0, 0, 3, 0], value=0.5)
_pad_case("pad_constant_batch_axis", (2, 3, 2, 2), [1, 0, 0, 0, 2, 0, 0, 0], value=-2.0)


def _pad_then(id, x_shape, pad_width, consumer, ops, value=None, mode=None, **attrs):
    @case(id, ops=ops, force_dense=True)
    def build():
        rng = _rng(id)
        inits = {"pads": np.array(pad_width, np.int64)}
        ins = ["x", "pads"]
        if value is not None:
            ins.append("cv")
            inits["cv"] = np.array(value, np.float32)
        if consumer == "Conv":
            inits["W"] = rand(rng, 4, x_shape[1], 3, 3)
            tail = node("Conv", ["p", "W"], ["y"], **attrs)
        else:
            tail = node(consumer, ["p"], ["y"], **attrs)
        pad_attrs = {} if mode is None else {"mode": mode}
        nodes = [node("Pad", ins, ["p"], **pad_attrs), tail]
        return model(nodes, {"x": x_shape}, ["y"], inits), rand(rng, *x_shape)


_pad_then("pad_folds_into_conv", (1, 3, 7, 6), [0, 0, 1, 0, 0, 0, 2, 1], "Conv", ["CONV"], strides=[2, 2])
_pad_then("pad_folds_into_conv_with_pads", (1, 3, 7, 6), [0, 0, 0, 1, 0, 0, 1, 0], "Conv", ["CONV"],
          pads=[1, 1, 1, 1])
_pad_then("pad_folds_into_avgpool", (1, 3, 7, 8), [0, 0, 1, 1, 0, 0, 1, 0], "AveragePool", ["AVG_POOL"],
          kernel_shape=[3, 3], strides=[2, 2])
_pad_then("pad_folds_into_maxpool_neg_inf", (1, 3, 7, 8), [0, 0, 1, 0, 0, 0, 1, 1], "MaxPool", ["MAX_POOL"],
          value=float("-inf"), kernel_shape=[3, 3], strides=[2, 2])
_pad_then("pad_nonzero_value_stays_before_conv", (1, 3, 6, 6), [0, 0, 1, 1, 0, 0, 1, 1], "Conv", ["PAD", "CONV"],
          value=0.5)
_pad_then("pad_reflect_stays_before_conv", (1, 3, 6, 5), [0, 0, 2, 1, 0, 0, 0, 1], "Conv", ["PAD", "CONV"],
          mode="reflect")
_pad_then("pad_channel_axis_stays_before_conv", (1, 2, 5, 5), [0, 1, 0, 0, 0, 0, 0, 0], "Relu", ["PAD", "ACTIVATION"])
_pad_then("pad_avgpool_exclude_pad_stays", (1, 3, 7, 8), [0, 0, 1, 1, 0, 0, 1, 1], "AveragePool",
          ["PAD", "AVG_POOL"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])


@case("pad_of_constant_folded", ops=["ADD"])
def _pad_const():
    rng = _rng("padconst")
    nodes = [node("Pad", ["k", "pads"], ["kp"], mode="reflect"), node("Add", ["x", "kp"], ["y"])]
    return model(nodes, {"x": (1, 2, 5, 6)}, ["y"], {"k": rand(rng, 1, 2, 3, 4),
                                                     "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)}), \
        rand(rng, 1, 2, 5, 6)


# ---------------- resize (structural ops, helper F) ----------------

def _resize_case(id, x_shape, scales=None, sizes=None, ops=("RESIZE",), opset=None, axes=None, **attrs):
    @case(id, ops=list(ops))
    def build():
        rng = _rng(id)
        inits, ins = {}, ["x", ""]
        if opset == 11:  # roi is not optional before opset 13
            inits["roi"], ins[1] = np.zeros(0, np.float32), "roi"
        if scales is not None:
            inits["scales"] = np.array(scales, np.float32)
            ins.append("scales")
        else:
            inits["sizes"] = np.array(sizes, np.int64)
            ins += ["", "sizes"]
        if axes is not None:
            attrs["axes"] = axes
        kw = {} if opset is None else {"opset": opset}
        return model([node("Resize", ins, ["y"], **attrs)], {"x": x_shape}, ["y"], inits, **kw), \
            rand(rng, *x_shape)


_COORDS = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric")
for _coord in (*_COORDS, "tf_half_pixel_for_nn"):
    _resize_case(f"resize_nearest_{_coord}_up", (1, 2, 5, 7), [1, 1, 2.5, 1.5], mode="nearest",
                 coordinate_transformation_mode=_coord)
    _resize_case(f"resize_nearest_{_coord}_down", (1, 2, 9, 11), [1, 1, 0.6, 0.45], mode="nearest",
                 coordinate_transformation_mode=_coord)
for _nm in ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil"):
    _resize_case(f"resize_nearest_mode_{_nm}", (1, 3, 4, 6), [1, 1, 2, 0.5], mode="nearest", nearest_mode=_nm,
                 coordinate_transformation_mode="half_pixel")
    _resize_case(f"resize_nearest_mode_{_nm}_asym_x3", (1, 1, 3, 5), [1, 1, 3, 1.3], mode="nearest",
                 nearest_mode=_nm, coordinate_transformation_mode="asymmetric")
for _coord in _COORDS:
    _resize_case(f"resize_linear_{_coord}_up", (1, 3, 5, 4), [1, 1, 2, 3], mode="linear",
                 coordinate_transformation_mode=_coord)
    _resize_case(f"resize_linear_{_coord}_down_sizes", (2, 2, 9, 10), sizes=[2, 2, 4, 7], mode="linear",
                 coordinate_transformation_mode=_coord)
_resize_case("resize_linear_pytorch_one_row", (1, 3, 4, 5), sizes=[1, 3, 1, 7], mode="linear",
             coordinate_transformation_mode="pytorch_half_pixel")
_resize_case("resize_linear_align_corners_one_col", (1, 2, 4, 5), sizes=[1, 2, 6, 1], mode="linear",
             coordinate_transformation_mode="align_corners")
_resize_case("resize_nearest_sizes_odd", (1, 2, 5, 3), sizes=[1, 2, 9, 4], mode="nearest")
_resize_case("resize_default_attrs", (1, 2, 3, 3), [1, 1, 2, 2])
_resize_case("resize_linear_rank3", (2, 5, 6), [1, 1.5, 0.5], mode="linear")
_resize_case("resize_nearest_rank5", (1, 2, 2, 3, 4), [1, 1, 1, 2, 2], mode="nearest")
_resize_case("resize_linear_rank2", (3, 4), sizes=[7, 5], mode="linear", coordinate_transformation_mode="asymmetric")
_resize_case("resize_axes_opset18", (1, 3, 4, 5), [2.0, 1.5], mode="linear", axes=[2, 3], opset=18)
_resize_case("resize_axes_negative_sizes_opset18", (1, 3, 4, 5), sizes=[3], mode="nearest", axes=[-1], opset=18)
_resize_case("resize_identity_scales", (1, 3, 4, 5), [1, 1, 1, 1], ops=("RESHAPE",), mode="linear")
_resize_case("resize_opset11_roi_input", (1, 2, 3, 4), [1, 1, 2, 2], mode="linear", opset=11,
             coordinate_transformation_mode="align_corners")
# Resize on axes other than the last two (RESIZE's inner_axes): H, W of NHWC (tf2onnx, TFLite), rank 5, one axis.
_resize_case("resize_nhwc_nearest_up", (1, 5, 7, 3), [1, 2, 1.5, 1], mode="nearest",
             coordinate_transformation_mode="asymmetric", nearest_mode="floor")
_resize_case("resize_nhwc_nearest_half_pixel_down", (2, 9, 6, 5), [1, 0.6, 0.5, 1], mode="nearest")
_resize_case("resize_nhwc_linear_half_pixel", (1, 4, 5, 7), [1, 2.5, 1.5, 1], mode="linear")
_resize_case("resize_nhwc_linear_align_corners_sizes", (1, 6, 4, 9), sizes=[1, 3, 7, 9], mode="linear",
             coordinate_transformation_mode="align_corners")
_resize_case("resize_nhwc_linear_pytorch_one_col", (1, 4, 5, 3), sizes=[1, 7, 1, 3], mode="linear",
             coordinate_transformation_mode="pytorch_half_pixel")
# (linear only up to 4-D in onnxruntime)
_resize_case("resize_rank5_inner2_nearest", (1, 3, 4, 2, 3), [1, 1.5, 2, 1, 1], mode="nearest")
_resize_case("resize_axis0_only_nearest", (3, 4, 5), [2, 1, 1], mode="nearest")
_resize_case("resize_middle_axis_only_linear", (2, 5, 3), [1, 1.6, 1], mode="linear",
             coordinate_transformation_mode="asymmetric")
_resize_case("resize_nhwc_axes_opset18", (1, 4, 6, 5), sizes=[8, 3], mode="linear", axes=[1, 2], opset=18)


def _legacy_resize_case(id, op, opset, x_shape, scales, mode, as_attr=False):
    @case(id, ops=["RESIZE"])
    def build():
        rng = _rng(id)
        if as_attr:
            return model([node(op, ["x"], ["y"], mode=mode, scales=scales)], {"x": x_shape}, ["y"], opset=opset), \
                rand(rng, *x_shape)
        inits = {"scales": np.array(scales, np.float32)}
        return model([node(op, ["x", "scales"], ["y"], mode=mode)], {"x": x_shape}, ["y"], inits, opset=opset), \
            rand(rng, *x_shape)


_legacy_resize_case("upsample7_nearest_attr", "Upsample", 7, (1, 2, 3, 4), [1.0, 1.0, 2.0, 3.0], "nearest", True)
_legacy_resize_case("upsample7_linear_attr", "Upsample", 7, (1, 2, 3, 4), [1.0, 1.0, 2.0, 2.0], "linear", True)
_legacy_resize_case("upsample9_nearest", "Upsample", 9, (1, 3, 4, 3), [1, 1, 1.5, 2.5], "nearest")
_legacy_resize_case("resize10_nearest_down", "Resize", 10, (1, 2, 7, 9), [1, 1, 0.5, 0.7], "nearest")
_legacy_resize_case("resize10_linear_up", "Resize", 10, (1, 2, 3, 5), [1, 1, 2.5, 1.5], "linear")


@case("resize_nearest_then_conv", ops=["RESIZE", "CONV"], force_dense=True)
def _resize_conv():
    rng = _rng("resizeconv")
    nodes = [node("Resize", ["x", "", "scales"], ["u"], mode="nearest"), node("Conv", ["u", "W"], ["y"], pads=[1] * 4)]
    return model(nodes, {"x": (1, 3, 4, 5)}, ["y"], {"scales": np.array([1, 1, 2, 2], np.float32),
                                                     "W": rand(rng, 4, 3, 3, 3)}), rand(rng, 1, 3, 4, 5)


# ---------------- conv transpose (structural ops, helper F) ----------------

def _convt_case(id, x_shape, w_shape, bias=True, ops=("CONV_TRANSPOSE",), **attrs):
    @case(id, ops=list(ops))
    def build():
        rng = _rng(id)
        inits = {"W": rand(rng, *w_shape)}
        ins = ["x", "W"]
        if bias:
            inits["B"] = rand(rng, w_shape[1] * attrs.get("group", 1))
            ins.append("B")
        return model([node("ConvTranspose", ins, ["y"], **attrs)], {"x": x_shape}, ["y"], inits), \
            rand(rng, *x_shape)


_convt_case("convt_k2_s2", (1, 5, 4, 3), (5, 3, 2, 2), strides=[2, 2])
_convt_case("convt_k3_s2_pads_outpad", (1, 4, 5, 4), (4, 6, 3, 3), strides=[2, 2], pads=[1, 1, 1, 1],
            output_padding=[1, 1])
_convt_case("convt_k4_s2_p1_nobias", (2, 3, 3, 5), (3, 2, 4, 4), bias=False, strides=[2, 2], pads=[1, 1, 1, 1])
_convt_case("convt_k3_s1_asym_pads", (1, 3, 5, 6), (3, 4, 3, 3), pads=[0, 1, 2, 0])
_convt_case("convt_rect_stride_1x3", (1, 2, 4, 3), (2, 3, 2, 3), strides=[1, 3], output_padding=[0, 2])
_convt_case("convt_dilation2", (1, 3, 4, 4), (3, 2, 3, 3), dilations=[2, 2], strides=[2, 1], pads=[1, 2, 0, 1])
_convt_case("convt_dilation3_outpad", (1, 2, 3, 3), (2, 2, 2, 2), dilations=[3, 3], strides=[3, 2],
            output_padding=[2, 1])
_convt_case("convt_groups2", (1, 4, 3, 4), (4, 3, 3, 3), group=2, strides=[2, 2], pads=[1, 0, 1, 0])
_convt_case("convt_depthwise", (1, 6, 5, 5), (6, 1, 4, 4), group=6, strides=[2, 2], pads=[1, 1, 1, 1])
_convt_case("convt_depthwise_mult2", (1, 3, 4, 3), (3, 2, 3, 3), group=3, strides=[2, 2])
_convt_case("convt_output_shape_same_upper", (1, 3, 4, 5), (3, 2, 3, 3), strides=[2, 2], output_shape=[9, 11])
_convt_case("convt_auto_pad_same_upper", (1, 3, 4, 5), (3, 2, 3, 3), strides=[2, 2], auto_pad="SAME_UPPER")
_convt_case("convt_auto_pad_same_lower", (1, 3, 4, 5), (3, 2, 4, 4), strides=[2, 2], auto_pad="SAME_LOWER")
_convt_case("convt_auto_pad_valid", (1, 2, 3, 3), (2, 2, 3, 3), strides=[2, 2], auto_pad="VALID")
_convt_case("convt_1x1_on_1x1", (1, 7, 1, 1), (7, 5, 1, 1))
_convt_case("convt_kernel_larger_than_input", (1, 2, 2, 2), (2, 3, 5, 5), strides=[3, 3], pads=[2, 2, 2, 2])


@case("convt_bn_relu_fused", ops=["CONV_TRANSPOSE"])
def _convt_bn_relu():
    """ConvTranspose -> BatchNormalization -> Relu (UNet/DeepLab decoders): BN folds into the weights, Relu fuses."""
    rng = _rng("convtbn")
    bn = {"s": rand(rng, 6), "b": rand(rng, 6), "m": rand(rng, 6), "v": (np.abs(rand(rng, 6)) + 0.5).astype(np.float32)}
    nodes = [node("ConvTranspose", ["x", "W"], ["c"], strides=[2, 2], group=2, pads=[1, 1, 1, 1]),
             node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]), node("Relu", ["n"], ["y"])]
    return model(nodes, {"x": (1, 4, 3, 5)}, ["y"], {"W": rand(rng, 4, 3, 4, 4), **bn}), rand(rng, 1, 4, 3, 5)


@case("convt_then_relu_concat_unet", ops=["CONV_TRANSPOSE", "CONCAT"])
def _convt_unet():
    """A UNet decoder step: upsample by ConvTranspose, ReLU, concatenate with the skip connection."""
    rng = _rng("convtunet")
    nodes = [node("ConvTranspose", ["x", "W", "B"], ["u"], strides=[2, 2]), node("Relu", ["u"], ["r"]),
             node("Concat", ["r", "skip"], ["y"], axis=1)]
    return model(nodes, {"x": (1, 4, 3, 4)}, ["y"], {"W": rand(rng, 4, 2, 2, 2), "B": rand(rng, 2),
                                                     "skip": rand(rng, 1, 3, 6, 8)}), rand(rng, 1, 4, 3, 4)


# ---------------- depth to space / space to depth (structural ops, helper F) ----------------

def _space_depth_case(id, op, x_shape, blocksize, mode=None, ops=("RESHAPE", "TRANSPOSE", "RESHAPE")):
    @case(id, ops=list(ops))
    def build():
        attrs = {"blocksize": blocksize, **({} if mode is None else {"mode": mode})}
        return model([node(op, ["x"], ["y"], **attrs)], {"x": x_shape}, ["y"]), rand(_rng(id), *x_shape)


_space_depth_case("depth_to_space_dcr_b2", "DepthToSpace", (1, 12, 3, 5), 2, "DCR")
_space_depth_case("depth_to_space_crd_b2", "DepthToSpace", (2, 8, 5, 3), 2, "CRD")
_space_depth_case("depth_to_space_dcr_b3_default", "DepthToSpace", (1, 18, 2, 3), 3)
_space_depth_case("depth_to_space_crd_b3", "DepthToSpace", (1, 9, 4, 1), 3, "CRD")
_space_depth_case("depth_to_space_b1", "DepthToSpace", (1, 5, 3, 3), 1, "CRD", ["RESHAPE"])  # moves nothing
_space_depth_case("space_to_depth_b2", "SpaceToDepth", (1, 3, 6, 4), 2)
_space_depth_case("space_to_depth_b3_batch2", "SpaceToDepth", (2, 5, 9, 3), 3)


@case("space_to_depth_conv_depth_to_space", ops=["RESHAPE", "TRANSPOSE", "RESHAPE", "CONV", "RESHAPE", "TRANSPOSE",
                                                  "RESHAPE"], force_dense=True)
def _s2d_conv_d2s():
    """The pixel-(un)shuffle pair of super-resolution and YOLO-style models around a conv."""
    rng = _rng("s2dconv")
    nodes = [node("SpaceToDepth", ["x"], ["s"], blocksize=2), node("Conv", ["s", "W"], ["c"], pads=[1] * 4),
             node("DepthToSpace", ["c"], ["y"], blocksize=2, mode="CRD")]
    return model(nodes, {"x": (1, 3, 8, 6)}, ["y"], {"W": rand(rng, 8, 12, 3, 3)}), rand(rng, 1, 3, 8, 6)


@case("depth_to_space_of_constant_folded", ops=["ADD"])
def _d2s_const():
    rng = _rng("d2sconst")
    nodes = [node("DepthToSpace", ["k"], ["kd"], blocksize=2), node("Add", ["x", "kd"], ["y"])]
    return model(nodes, {"x": (1, 2, 4, 6)}, ["y"], {"k": rand(rng, 1, 8, 2, 3)}), rand(rng, 1, 2, 4, 6)


# ---------------- slice / split (structural ops, helper F) ----------------

def _slice_case(id, x_shape, starts, ends, axes=None, steps=None, ops=("SLICE",)):
    @case(id, ops=list(ops))
    def build():
        inits = {"starts": np.array(starts, np.int64), "ends": np.array(ends, np.int64)}
        ins = ["x", "starts", "ends"]
        if axes is not None or steps is not None:
            ins.append("axes" if axes is not None else "")
            if axes is not None:
                inits["axes"] = np.array(axes, np.int64)
        if steps is not None:
            ins.append("steps")
            inits["steps"] = np.array(steps, np.int64)
        return model([node("Slice", ins, ["y"])], {"x": x_shape}, ["y"], inits), rand(_rng(id), *x_shape)


_BIG = 2 ** 63 - 1
_slice_case("slice_channels", (1, 7, 3, 4), [2], [5], [1])
_slice_case("slice_spatial_step2", (1, 3, 9, 8), [1, 0], [_BIG, 7], [2, 3], [2, 3])
_slice_case("slice_negative_indices", (2, 5, 6), [-4, -1], [-1, -_BIG], [1, 2], [1, -2])
_slice_case("slice_reverse_axis", (3, 7), [-1], [-_BIG], [1], [-1])
_slice_case("slice_default_axes", (5, 4, 3), [1, 0, 1], [4, 3, 3])
_slice_case("slice_clamped_ends", (4, 6), [-10, 2], [10, 100])
_slice_case("slice_rank1_step3", (11,), [1], [11], [0], [3])
_slice_case("slice_rank6", (2, 3, 2, 4, 3, 5), [1, 0, 2], [2, 2, 5], [0, 1, 5], [1, 1, 2])
_slice_case("slice_yolo_focus_like", (1, 3, 8, 6), [1, 0], [_BIG, _BIG], [2, 3], [2, 2])
_slice_case("slice_whole_is_identity", (2, 3), [0], [_BIG], [1], ops=("RESHAPE",))


def _split_case(id, x_shape, axis, split=None, num_outputs=None, opset=None, use=None):
    n_out = len(split) if split is not None else num_outputs
    outs = [f"o{k}" for k in range(n_out)]
    used = outs if use is None else [outs[k] for k in use]

    @case(id, ops=["SLICE"] * len(used) + ["CONCAT"])
    def build():
        inits, ins = {}, ["x"]
        if split is not None:
            inits["split"] = np.array(split, np.int64)
            ins.append("split")
        attrs = {"axis": axis, **({} if num_outputs is None else {"num_outputs": num_outputs})}
        # Reverse the parts so the result differs from the input.
        nodes = [node("Split", ins, outs, name="sp", **attrs), node("Concat", used[::-1], ["y"], axis=axis)]
        kw = {} if opset is None else {"opset": opset}
        return model(nodes, {"x": x_shape}, ["y"], inits, **kw), rand(_rng(id), *x_shape)


_split_case("split_sizes_channels", (1, 7, 3, 3), 1, split=[2, 4, 1])
_split_case("split_equal_last_axis", (2, 3, 9), -1, split=[3, 3, 3])
_split_case("split_num_outputs_uneven_opset18", (1, 3, 7, 2), 2, num_outputs=3, opset=18)
_split_case("split_one_output_unused", (1, 6, 2, 2), 1, split=[1, 2, 3], use=[0, 2])


@case("split_into_equal_parts_no_split_input", ops=["SLICE", "SLICE", "ADD"])
def _split_equal():
    nodes = [node("Split", ["x"], ["a", "b"], axis=0), node("Add", ["a", "b"], ["y"])]
    return model(nodes, {"x": (6, 5)}, ["y"]), rand(_rng("spliteq"), 6, 5)


@case("split_of_constant_folded", ops=["ADD", "MUL"])
def _split_const():
    rng = _rng("splitconst")
    nodes = [node("Split", ["k", "split"], ["k0", "k1"], axis=1), node("Add", ["x", "k0"], ["t"]),
             node("Mul", ["t", "k1"], ["y"])]
    return model(nodes, {"x": (1, 2, 3)}, ["y"], {"k": rand(rng, 1, 4, 3), "split": np.array([2, 2], np.int64)}), \
        rand(rng, 1, 2, 3)


# ---------------- gather with constant indices (structural ops, helper F) ----------------

def _gather_case(id, x_shape, indices, axis, ops=("GATHER",)):
    @case(id, ops=list(ops))
    def build():
        inits = {"idx": np.array(indices, np.int64)}
        return model([node("Gather", ["x", "idx"], ["y"], axis=axis)], {"x": x_shape}, ["y"], inits), \
            rand(_rng(id), *x_shape)


_gather_case("gather_channels_list", (1, 7, 3, 4), [6, 0, 3, 3], 1)
_gather_case("gather_negative_indices_last_axis", (2, 3, 9), [-1, -9, 4], -1)
_gather_case("gather_2d_indices_axis0", (5, 4), [[0, 4], [2, 2], [1, 3]], 0)
_gather_case("gather_scalar_index_is_a_slice", (1, 6, 5), 2, 1, ops=("SLICE", "RESHAPE"))
_gather_case("gather_scalar_negative_first_axis", (3, 4, 2), -1, 0, ops=("SLICE", "RESHAPE"))
_gather_case("gather_embedding_like_rows", (10, 6), [[3, 1, 4, 1, 5]], 0)


# ---------------- expand / tile (structural ops, helper F) ----------------

def _expand_case(id, x_shape, shape, ops=("EXPAND",)):
    @case(id, ops=list(ops))
    def build():
        return model([node("Expand", ["x", "shape"], ["y"])], {"x": x_shape}, ["y"],
                     {"shape": np.array(shape, np.int64)}), rand(_rng(id), *x_shape)


_expand_case("expand_channels_to_spatial", (1, 5, 1, 1), [1, 5, 3, 7])
_expand_case("expand_last_axis", (2, 3, 1), [2, 3, 6])
_expand_case("expand_new_leading_axes", (4, 1), [2, 3, 4, 5])
_expand_case("expand_shape_ones_bidirectional", (2, 1, 6), [1, 3, 1])
_expand_case("expand_rank1_to_rank6", (3,), [2, 1, 2, 1, 2, 3])
_expand_case("expand_same_shape_is_identity", (2, 3), [2, 3], ops=("RESHAPE",))


def _tile_case(id, x_shape, repeats, ops=("RESHAPE", "EXPAND", "RESHAPE")):
    @case(id, ops=list(ops))
    def build():
        return model([node("Tile", ["x", "r"], ["y"])], {"x": x_shape}, ["y"],
                     {"r": np.array(repeats, np.int64)}), rand(_rng(id), *x_shape)


_tile_case("tile_spatial", (1, 3, 2, 5), [1, 1, 3, 2])
_tile_case("tile_channels_batch", (2, 3, 4), [2, 3, 1])
_tile_case("tile_rank1", (7,), [4])
_tile_case("tile_all_ones_is_identity", (2, 3), [1, 1], ops=("RESHAPE",))


@case("expand_of_constant_folded", ops=["ADD"])
def _expand_const():
    nodes = [node("Expand", ["k", "shape"], ["ke"]), node("Tile", ["ke", "r"], ["kt"]), node("Add", ["x", "kt"], ["y"])]
    rng = _rng("expandconst")
    return model(nodes, {"x": (2, 4, 6)}, ["y"], {"k": rand(rng, 4, 1), "shape": np.array([1, 4, 3], np.int64),
                                                  "r": np.array([2, 1, 2], np.int64)}), rand(rng, 2, 4, 6)


# ---------------- Conv1d and Clip with computed bounds (helper Z1: openwakeword's log-mel front end) ----------------

def _conv1d_case(id, x_shape, w_shape, bias=True, **attrs):
    @case(id, ops=["RESHAPE", "CONV", "RESHAPE"], force_dense=True)
    def build():
        rng = _rng(id)
        return _conv_model(x_shape, rand(rng, *w_shape), bias, seed=id, **attrs)


_conv1d_case("conv1d_stft_like_stride5", (1, 1, 203), (9, 1, 16), strides=[5], pads=[3, 2])
_conv1d_case("conv1d_grouped_dilated_batch2", (2, 6, 17), (4, 3, 3), group=2, dilations=[2], pads=[2, 2])
_conv1d_case("conv1d_same_upper_nobias", (1, 3, 10), (5, 3, 4), bias=False, strides=[3], auto_pad="SAME_UPPER")


@case("clip_by_computed_floor_max_minus_const", ops=["REDUCE_MAX", "ADD", "MAXIMUM"])
def _clip_floor():
    """torch.clamp(x, min=x.max() - 2.5): the floor is a tensor, the max an infinite constant."""
    rng = _rng("clipfloor")
    nodes = [node("ReduceMax", ["x"], ["m"], keepdims=0), node("Sub", ["m", "k"], ["lo"]),
             node("Clip", ["x", "lo", "inf"], ["y"])]
    inits = {"k": np.array(2.5, np.float32), "inf": np.array(np.inf, np.float32)}
    return model(nodes, {"x": (1, 3, 5, 4)}, ["y"], inits), rand(rng, 1, 3, 5, 4)


@case("clip_by_computed_min_and_max", ops=["REDUCE_MIN", "ADD", "REDUCE_MAX", "ADD", "MAXIMUM", "MINIMUM"])
def _clip_both():
    rng = _rng("clipboth")
    nodes = [node("ReduceMin", ["x"], ["a"], keepdims=0), node("Add", ["a", "k"], ["lo"]),
             node("ReduceMax", ["x"], ["b"], keepdims=0), node("Sub", ["b", "k"], ["hi"]),
             node("Clip", ["x", "lo", "hi"], ["y"])]
    return model(nodes, {"x": (2, 7)}, ["y"], {"k": np.array(0.75, np.float32)}), rand(rng, 2, 7)


def _conv_bias_add_case(id, ops, bias_shape, conv_bias=False, relu=False, second_use=False):
    """Paddle2ONNX's conv bias: a bias-free Conv, then Add of a [1, C, 1, 1] constant (fold_fc_bias.fold_conv_bias)."""
    @case(id, ops=ops, force_dense=True)
    def build():
        rng = _rng(id)
        inits = {"W": rand(rng, 6, 4, 3, 3), "b": rand(rng, *bias_shape)}
        ins = ["x", "W"]
        if conv_bias:
            inits["B"] = rand(rng, 6)
            ins.append("B")
        nodes = [node("Conv", ins, ["c"], name="conv", pads=[1, 1, 1, 1]),
                 node("Add", ["c", "b"], ["a" if relu or second_use else "y"], name="bias")]
        if relu:
            nodes.append(node("Relu", ["a"], ["y"]))
        if second_use:
            nodes.append(node("Mul", ["a", "c"], ["y"]))
        return model(nodes, {"x": (1, 4, 7, 5)}, ["y"], inits), rand(rng, 1, 4, 7, 5)


_conv_bias_add_case("conv_bias_add_paddle_style_relu", ["CONV"], (1, 6, 1, 1), relu=True)
_conv_bias_add_case("conv_bias_add_rank3_bias_summed_with_conv_bias", ["CONV"], (6, 1, 1), conv_bias=True)
_conv_bias_add_case("conv_bias_add_scalar", ["CONV"], (1,))
_conv_bias_add_case("conv_bias_add_not_per_channel_stays", ["CONV", "ADD"], (1, 6, 7, 1))
_conv_bias_add_case("conv_bias_add_conv_output_used_twice_stays", ["CONV", "ADD", "MUL"], (1, 6, 1, 1),
                    second_use=True)


def convert_kwargs(c: Case) -> dict[str, Any]:
    kw = dict(c.kwargs)
    if "group_arg" in kw:
        kw["group"] = kw.pop("group_arg")
    return kw
