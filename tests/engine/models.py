"""Small valid .sbn models for the engine tests, built with the converter's writer, with numpy references."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sparsebyte.sbnformat import SbnWriter

CONV3 = dict(kh=3, kw=3, stride_h=1, stride_w=1, pad_top=1, pad_left=1, pad_bottom=1, pad_right=1, dilation_h=1,
             dilation_w=1, groups=1)
CONV1 = dict(kh=1, kw=1, stride_h=1, stride_w=1, dilation_h=1, dilation_w=1, groups=1)
RELU = ("CLIP", 0.0, float("inf"))


@dataclass
class Case:
    name: str
    writer: SbnWriter
    inputs: list[np.ndarray]
    reference: Callable[[list[np.ndarray]], list[np.ndarray]]

    def bytes(self) -> bytes:
        return self.writer.to_bytes(metadata={"producer": "tests/engine"})


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def conv_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0, groups: int = 1) -> np.ndarray:
    n, cin, h, wd = x.shape
    cout, cpg, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, cout, oh, ow))
    opg = cout // groups
    for o in range(cout):
        g = o // opg
        for ky in range(kh):
            for kx in range(kw):
                patch = xp[:, g * cpg:(g + 1) * cpg, ky:ky + stride * oh:stride, kx:kx + stride * ow:stride]
                y[:, o] += np.einsum("nchw,c->nhw", patch, w[o, :, ky, kx].astype(np.float64))
    return (y + b.reshape(1, -1, 1, 1)).astype(np.float32)


def pack_group_sparse(w: np.ndarray, group: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense W [Cout, Cin, kh, kw] whose zero pattern is group-structured -> (nnz, index, values)."""
    cout, cin, kh, kw = w.shape
    ng = -(-cout // group)
    nnz, index, values = [], [], []
    for g in range(ng):
        rows = w[g * group:(g + 1) * group]
        kept = [i for i in range(cin) if np.any(rows[:, i] != 0)]
        nnz.append(len(kept))
        for i in kept:
            index.append(i)
            v = np.zeros((kh * kw, group), np.float32)
            v[:, :rows.shape[0]] = rows[:, i].reshape(rows.shape[0], kh * kw).T
            values.append(v)
    vals = np.array(values, np.float32).reshape(len(index), kh * kw, group)
    return np.array(nnz, np.int32), np.array(index, np.int32), vals


def group_sparse_weight(cout: int, cin: int, k: int, group: int, seed: int) -> np.ndarray:
    r = rng(seed)
    w = r.standard_normal((cout, cin, k, k)).astype(np.float32)
    for g in range(-(-cout // group)):
        drop = r.random(cin) < 0.6
        w[g * group:(g + 1) * group, drop] = 0.0
    return w


def conv_model() -> Case:
    """3x3 conv + ReLU, then a 1x1 conv (gemm path) with bias."""
    r = rng(1)
    w1 = r.standard_normal((8, 3, 3, 3)).astype(np.float32)
    b1 = r.standard_normal(8).astype(np.float32)
    w2 = r.standard_normal((6, 8, 1, 1)).astype(np.float32)
    b2 = r.standard_normal(6).astype(np.float32)
    s = SbnWriter()
    x = s.add_tensor("x", (1, 3, 10, 10))
    h = s.add_tensor("h", (1, 8, 10, 10))
    y = s.add_tensor("y", (1, 6, 10, 10))
    s.add_node("CONV", "conv3", [x, s.add_constant("w1", w1), s.add_constant("b1", b1)], [h], CONV3, act=RELU)
    s.add_node("CONV", "pw", [h, s.add_constant("w2", w2), s.add_constant("b2", b2)], [y], CONV1)
    s.set_graph([x], [y])

    def ref(ins: list[np.ndarray]) -> list[np.ndarray]:
        hh = np.maximum(conv_ref(ins[0], w1, b1, pad=1), 0)
        return [conv_ref(hh, w2, b2)]

    return Case("conv", s, [r.standard_normal((1, 3, 10, 10)).astype(np.float32)], ref)


def sparse_conv_model(group: int = 4) -> Case:
    """Group-sparse 1x1 conv (spmm path, Cout not a multiple of G) and a group-sparse 3x3 stride-2 conv (spconv)."""
    w1 = group_sparse_weight(10, 8, 1, group, seed=2)
    w2 = group_sparse_weight(8, 10, 3, group, seed=3)
    b1 = rng(4).standard_normal(10).astype(np.float32)
    s = SbnWriter()
    x = s.add_tensor("x", (2, 8, 7, 7))
    h = s.add_tensor("h", (2, 10, 7, 7))
    y = s.add_tensor("y", (2, 8, 4, 4))
    nnz, idx, val = pack_group_sparse(w1, group)
    ins = [x, s.add_constant("nnz1", nnz), s.add_constant("idx1", idx), s.add_constant("val1", val),
           s.add_constant("b1", b1)]
    s.add_node("CONV_SPARSE", "sp1x1", ins, [h], {**CONV1, "G": group}, act=RELU)
    nnz, idx, val = pack_group_sparse(w2, group)
    attrs = {**CONV3, "stride_h": 2, "stride_w": 2, "G": group}
    ins = [h, s.add_constant("nnz2", nnz), s.add_constant("idx2", idx), s.add_constant("val2", val)]
    s.add_node("CONV_SPARSE", "sp3x3", ins, [y], attrs)
    s.set_graph([x], [y])

    def ref(ins: list[np.ndarray]) -> list[np.ndarray]:
        hh = np.maximum(conv_ref(ins[0], w1, b1), 0)
        return [conv_ref(hh, w2, np.zeros(8, np.float32), stride=2, pad=1)]

    return Case(f"sparse_conv_g{group}", s, [rng(5).standard_normal((2, 8, 7, 7)).astype(np.float32)], ref)


def classifier_model() -> Case:
    """depthwise conv -> max pool -> avg pool -> global pool -> flatten -> FC -> sparse FC -> softmax."""
    r = rng(6)
    wd = r.standard_normal((4, 1, 3, 3)).astype(np.float32)
    wf = r.standard_normal((12, 4)).astype(np.float32)
    bf = r.standard_normal(12).astype(np.float32)
    ws = group_sparse_weight(5, 12, 1, 2, seed=7)[:, :, 0, 0]
    s = SbnWriter()
    x = s.add_tensor("x", (2, 4, 9, 9))
    d = s.add_tensor("dw", (2, 4, 9, 9))
    mp = s.add_tensor("mp", (2, 4, 5, 5))
    ap = s.add_tensor("ap", (2, 4, 4, 4))
    g = s.add_tensor("gap", (2, 4, 1, 1))
    f = s.add_tensor("flat", (2, 4))
    fc = s.add_tensor("fc", (2, 12))
    sp = s.add_tensor("spfc", (2, 5))
    y = s.add_tensor("prob", (2, 5))
    s.add_node("CONV", "dw", [x, s.add_constant("wd", wd)], [d], {**CONV3, "groups": 4}, act=("CLIP", 0.0, 6.0))
    s.add_node("MAX_POOL", "maxpool", [d], [mp], dict(kh=3, kw=3, stride_h=2, stride_w=2, pad_top=1, pad_left=1,
                                                      pad_bottom=1, pad_right=1))
    s.add_node("AVG_POOL", "avgpool", [mp], [ap], dict(kh=2, kw=2, stride_h=1, stride_w=1))
    s.add_node("GLOBAL_AVG_POOL", "gap", [ap], [g])
    s.add_node("RESHAPE", "flatten", [g], [f])
    s.add_node("FC", "fc", [f, s.add_constant("wf", wf), s.add_constant("bf", bf)], [fc], act=RELU)
    nnz, idx, val = pack_group_sparse(ws[:, :, None, None], 2)
    s.add_node("FC_SPARSE", "fc_sparse", [fc, s.add_constant("nnz", nnz), s.add_constant("idx", idx),
                                          s.add_constant("val", val)], [sp], [0] * 11 + [2])
    s.add_node("SOFTMAX", "softmax", [sp], [y], dict(axis=1))
    s.set_graph([x], [y])

    def ref(ins: list[np.ndarray]) -> list[np.ndarray]:
        dd = np.clip(conv_ref(ins[0], wd, np.zeros(4, np.float32), pad=1, groups=4), 0, 6)
        p = np.pad(dd, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
        m = np.stack([p[:, :, i:i + 9:2, j:j + 9:2] for i in range(3) for j in range(3)]).max(0)
        a = np.stack([m[:, :, i:i + 4, j:j + 4] for i in range(2) for j in range(2)]).mean(0)
        gg = a.mean((2, 3))
        h = np.maximum(gg @ wf.T + bf, 0)
        z = h @ ws.T
        e = np.exp(z - z.max(1, keepdims=True))
        return [(e / e.sum(1, keepdims=True)).astype(np.float32)]

    return Case("classifier", s, [rng(8).standard_normal((2, 4, 9, 9)).astype(np.float32)], ref)


def elementwise_model() -> Case:
    """Two inputs: same-shape add, per-channel mul by a constant, generic broadcast add, concat, channel affine,
    standalone activation, a second output that is a reshape of an intermediate."""
    r = rng(9)
    scale = r.standard_normal((1, 3, 1, 1)).astype(np.float32)
    row = r.standard_normal((1, 1, 1, 5)).astype(np.float32)
    aff_s = r.standard_normal(6).astype(np.float32)
    aff_b = r.standard_normal(6).astype(np.float32)
    s = SbnWriter()
    a = s.add_tensor("a", (2, 3, 4, 5))
    b = s.add_tensor("b", (2, 3, 4, 5))
    t1 = s.add_tensor("sum", (2, 3, 4, 5))
    t2 = s.add_tensor("scaled", (2, 3, 4, 5))
    t3 = s.add_tensor("rowadd", (2, 3, 4, 5))
    t4 = s.add_tensor("cat", (2, 6, 4, 5))
    t5 = s.add_tensor("affine", (2, 6, 4, 5))
    t6 = s.add_tensor("act", (2, 6, 4, 5))
    t7 = s.add_tensor("flat", (2, 60))
    s.add_node("ADD", "add", [a, b], [t1], act=RELU)
    s.add_node("MUL", "mulc", [s.add_constant("scale", scale), t1], [t2])
    s.add_node("ADD", "addrow", [t2, s.add_constant("row", row)], [t3])
    s.add_node("CONCAT", "concat", [t3, a], [t4], dict(axis=1))
    s.add_node("CHANNEL_AFFINE", "bn", [t4, s.add_constant("bn_s", aff_s), s.add_constant("bn_b", aff_b)], [t5])
    s.add_node("ACTIVATION", "hswish", [t5], [t6], act=("HARDSWISH", 0.0, 0.0))
    s.add_node("RESHAPE", "flatten", [t2], [t7])
    s.set_graph([a, b], [t6, t7])

    def ref(ins: list[np.ndarray]) -> list[np.ndarray]:
        s1 = np.maximum(ins[0] + ins[1], 0)
        s2 = scale * s1
        s3 = s2 + row
        c = np.concatenate([s3, ins[0]], axis=1)
        af = c * aff_s.reshape(1, -1, 1, 1) + aff_b.reshape(1, -1, 1, 1)
        hs = af * np.clip(af / 6 + 0.5, 0, 1)
        return [hs.astype(np.float32), s2.reshape(2, 60).astype(np.float32)]

    ins = [r.standard_normal((2, 3, 4, 5)).astype(np.float32) for _ in range(2)]
    return Case("elementwise", s, ins, ref)


def softmax_axis_model() -> Case:
    """Softmax over a middle axis with large logits (must not overflow)."""
    s = SbnWriter()
    x = s.add_tensor("x", (2, 7, 3))
    y = s.add_tensor("y", (2, 7, 3))
    s.add_node("SOFTMAX", "softmax", [x], [y], dict(axis=1))
    s.set_graph([x], [y])

    def ref(ins: list[np.ndarray]) -> list[np.ndarray]:
        z = ins[0].astype(np.float64)
        e = np.exp(z - z.max(1, keepdims=True))
        return [(e / e.sum(1, keepdims=True)).astype(np.float32)]

    return Case("softmax_axis", s, [(rng(10).standard_normal((2, 7, 3)) * 200).astype(np.float32)], ref)


ALL_CASES = [conv_model, lambda: sparse_conv_model(4), lambda: sparse_conv_model(8), lambda: sparse_conv_model(1),
             classifier_model, elementwise_model, softmax_axis_model]
