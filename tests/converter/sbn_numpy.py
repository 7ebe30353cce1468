"""A slow, obvious numpy interpreter for .sbn files with its own reader on purpose, written from docs/format.md alone.

It checks the converter's output independently of the C engine (and points at the engine when both disagree with
onnxruntime differently). It does not use the converter's code, nor sparsebyte.sbnformat (the one reader everything
else uses), so a bug there cannot hide here: the file is parsed and sparse weights are unpacked by their own loops.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass

import numpy as np

OPS = {1: "CONV", 2: "CONV_SPARSE", 3: "FC", 4: "FC_SPARSE", 5: "ADD", 6: "MUL", 7: "CONCAT", 8: "GLOBAL_AVG_POOL",
       9: "AVG_POOL", 10: "MAX_POOL", 11: "RESHAPE", 12: "SOFTMAX", 13: "ACTIVATION", 14: "CHANNEL_AFFINE",
       15: "TRANSPOSE", 16: "PAD", 17: "RESIZE", 18: "CONV_TRANSPOSE", 19: "SLICE", 20: "GATHER", 21: "EXPAND",
       40: "SUB", 41: "DIV", 42: "MAXIMUM", 43: "MINIMUM", 44: "POW", 45: "PRELU", 46: "REDUCE_MEAN",
       47: "REDUCE_SUM", 48: "REDUCE_MAX", 49: "REDUCE_MIN", 50: "LAYER_NORM", 51: "INSTANCE_NORM", 52: "MATMUL",
       53: "LOG_SOFTMAX", 54: "ARGMAX"}
ACTS = {0: "NONE", 1: "CLIP", 2: "HARDSIGMOID", 3: "HARDSWISH", 4: "SIGMOID", 5: "LEAKYRELU", 6: "ELU", 7: "SILU",
        8: "GELU", 9: "GELU_TANH", 10: "SQRT", 11: "EXP", 12: "TANH", 13: "ABS", 14: "NEG", 15: "RECIPROCAL", 16: "ERF",
        17: "LOG", 18: "SOFTPLUS"}


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    data: np.ndarray | None


@dataclass
class SbnNode:
    op: str
    name: str
    inputs: list[int]
    outputs: list[int]
    act: tuple[str, float, float]
    attrs: list[int]


class SbnFile:
    def __init__(self, data: bytes) -> None:
        assert data[:4] == b"SBN\x00"
        count, table_off = struct.unpack_from("<IQ", data, 12)
        sections = {}
        for i in range(count):
            stype, _f, off, size = struct.unpack_from("<IIQQ", data, table_off + 32 * i)
            sections[stype] = data[off:off + size]
        strings = sections[1]
        weights = sections[6]

        def name(off: int, ln: int) -> str:
            return strings[off:off + ln].decode()

        self.tensors: list[Tensor] = []
        (n,) = struct.unpack_from("<I", sections[2], 0)
        for i in range(n):
            e = struct.unpack_from("<IIII6IIIQQ", sections[2], 8 + 64 * i)
            noff, nlen, dtype, rank = e[:4]
            dims = tuple(e[4:4 + rank])
            flags, data_off, size = e[10], e[12], e[13]
            arr = None
            if flags & 1:
                arr = np.frombuffer(weights[data_off:data_off + size], "<f4" if dtype == 1 else "<i4").reshape(dims)
            self.tensors.append(Tensor(name(noff, nlen), dims, arr))
        io_count = struct.unpack_from("<I", sections[4], 0)[0]
        io = struct.unpack_from(f"<{io_count}I", sections[4], 8)
        self.nodes: list[SbnNode] = []
        (n,) = struct.unpack_from("<I", sections[3], 0)
        for i in range(n):
            op, noff, nlen, nin, nout, start, act, p0, p1 = struct.unpack_from("<IIIIIIIff", sections[3], 8 + 128 * i)
            attrs = list(struct.unpack_from("<22i", sections[3], 8 + 128 * i + 40))
            self.nodes.append(SbnNode(OPS[op], name(noff, nlen), list(io[start:start + nin]),
                                      list(io[start + nin:start + nin + nout]), (ACTS[act], p0, p1), attrs))
        nin, nout = struct.unpack_from("<II", sections[5], 0)
        ids = struct.unpack_from(f"<{nin + nout}I", sections[5], 8)
        self.inputs, self.outputs = list(ids[:nin]), list(ids[nin:])
        self.metadata = json.loads(sections[7]) if 7 in sections else None

    @classmethod
    def load(cls, path: str) -> SbnFile:
        with open(path, "rb") as f:
            return cls(f.read())

    def tensor_names(self) -> list[str]:
        return [t.name for t in self.tensors]

    def run(self, *xs: np.ndarray) -> dict[str, np.ndarray]:
        """Every tensor's value by name (constants included)."""
        vals: dict[int, np.ndarray] = {i: t.data for i, t in enumerate(self.tensors) if t.data is not None}
        for i, x in zip(self.inputs, xs, strict=True):
            assert tuple(x.shape) == self.tensors[i].shape, (x.shape, self.tensors[i].shape)
            vals[i] = np.asarray(x, np.float32)
        for node in self.nodes:
            args = [vals[i] for i in node.inputs]
            out_shape = self.tensors[node.outputs[0]].shape
            y = _eval(node, args, out_shape)
            y = _act(node.act, y.astype(np.float64))
            assert y.shape == out_shape, (node.name, y.shape, out_shape)
            vals[node.outputs[0]] = y.astype(np.float32)
        return {self.tensors[i].name: v for i, v in vals.items()}


def _act(act: tuple[str, float, float], x: np.ndarray) -> np.ndarray:
    kind, p0, p1 = act
    if kind == "CLIP":
        return np.minimum(np.maximum(x, p0), p1)
    if kind == "HARDSIGMOID":
        return np.clip(p0 * x + p1, 0, 1)
    if kind == "HARDSWISH":
        return x * np.clip(x / 6 + 0.5, 0, 1)
    if kind == "SIGMOID":
        return 1 / (1 + np.exp(-x))
    if kind == "LEAKYRELU":
        return np.where(x < 0, p0 * x, x)
    if kind == "ELU":
        return np.where(x < 0, p0 * np.expm1(np.minimum(x, 0)), x)
    if kind == "SILU":
        return x / (1 + np.exp(-x))
    if kind == "GELU":
        return 0.5 * x * (1 + _erf(x / np.sqrt(2)))
    if kind == "GELU_TANH":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    unary = {"SQRT": np.sqrt, "EXP": np.exp, "TANH": np.tanh, "ABS": np.abs, "NEG": np.negative,
             "RECIPROCAL": np.reciprocal, "ERF": _erf, "LOG": np.log, "SOFTPLUS": lambda v: np.logaddexp(0, v)}
    if kind in unary:
        with np.errstate(divide="ignore", invalid="ignore"):
            return unary[kind](x)
    return x


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def unpack_dense(nnz: np.ndarray, index: np.ndarray, values: np.ndarray, cout: int, cin: int, kh: int,
                 kw: int) -> np.ndarray:
    g = values.shape[2]
    w = np.zeros((cout, cin, kh, kw), np.float64)
    j = 0
    for grp in range(len(nnz)):
        for _ in range(nnz[grp]):
            i = index[j]
            for lane in range(g):
                o = grp * g + lane
                for k in range(kh * kw):
                    if o < cout:
                        w[o, i, k // kw, k % kw] = values[j, k, lane]
                    else:
                        assert values[j, k, lane] == 0, "lane past Cout must be zero"
            j += 1
    assert j == len(index)
    return w


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, a: list[int], out_shape: tuple[int, ...]) -> np.ndarray:
    kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups = a[:11]
    n, cin, h, wd = x.shape
    cout = w.shape[0]
    xp = np.zeros((n, cin, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    oh, ow = out_shape[2], out_shape[3]
    y = np.zeros((n, cout, oh, ow))
    cpg, opg = cin // groups, cout // groups
    for g in range(groups):
        xg = xp[:, g * cpg:(g + 1) * cpg]
        wg = w[g * opg:(g + 1) * opg].astype(np.float64)
        for ky in range(kh):
            for kx in range(kw):
                patch = xg[:, :, ky * dh: ky * dh + sh * (oh - 1) + 1: sh, kx * dw: kx * dw + sw * (ow - 1) + 1: sw]
                y[:, g * opg:(g + 1) * opg] += np.einsum("nchw,oc->nohw", patch, wg[:, :, ky, kx])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def _pool(x: np.ndarray, a: list[int], out_shape: tuple[int, ...], kind: str) -> np.ndarray:
    kh, kw, sh, sw, pt, pl, pb, pr, include_pad = a[:9]
    n, c, h, w = x.shape
    oh, ow = out_shape[2], out_shape[3]
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * sh - pt, j * sw - pl
            he, we = min(hs + kh, h + pb), min(ws + kw, w + pr)
            size = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            win = x[:, :, hs:he, ws:we].astype(np.float64)
            if kind == "MAX_POOL":
                y[:, :, i, j] = win.max(axis=(2, 3))
            else:
                y[:, :, i, j] = win.sum(axis=(2, 3)) / (size if include_pad else (he - hs) * (we - ws))
    return y


_REDUCE = {"REDUCE_MEAN": np.mean, "REDUCE_SUM": np.sum, "REDUCE_MAX": np.max, "REDUCE_MIN": np.min}
_BINARY = {"SUB": np.subtract, "DIV": np.divide, "MAXIMUM": np.maximum, "MINIMUM": np.minimum, "POW": np.power,
           "PRELU": lambda x, slope: np.where(x < 0, slope * x, x)}


def _pad(a: list[int], args: list[np.ndarray], out_shape: tuple[int, ...]) -> np.ndarray:
    x = args[0]
    rank = x.ndim
    assert a[0] in (0, 1, 2) and not any(a[1 + rank:7]) and not any(a[7 + rank:13]), a
    width = list(zip(a[1:1 + rank], a[7:7 + rank], strict=True))
    if a[0] == 0:
        value = np.array([a[13]], np.int32).view(np.float32)[0]
        return np.pad(x, width, mode="constant", constant_values=value)
    return np.pad(x, width, mode="reflect" if a[0] == 1 else "edge")


def _resize_coords(a: list[int], axis: int, out_len: int, in_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ONNX Resize source coordinates of one axis: (lo, hi, weight of hi) for linear, lo alone for nearest."""
    mode, coord, nearest = a[0], a[1], a[2]
    scale = np.array([a[3 + axis]], np.int32).view(np.float32)[0]
    i, half_, f32 = np.arange(out_len, dtype=np.float32), np.float32(0.5), np.float32
    x = {0: (i + half_) / scale - half_,  # in f32 like the engine and onnxruntime: the nearest ties must agree
         1: (i + half_) / scale - half_ if out_len > 1 else np.zeros(out_len, np.float32),
         2: i * f32(in_len - 1) / f32(out_len - 1) if out_len > 1 else np.zeros(out_len, np.float32),
         3: i / scale,
         4: (i + half_) / scale}[coord]
    if mode == 0:
        half = x == np.trunc(x) + 0.5
        k = {0: np.where(half, np.floor(x), np.round(x)),  # other ties are negative: clamped to 0 either way
             1: np.where(half, np.ceil(x), np.round(x)),
             2: np.floor(x), 3: np.ceil(x)}[nearest]
        k = np.clip(k, 0, in_len - 1).astype(np.int64)
        return k, k, np.zeros(out_len)
    x = np.clip(x, 0, in_len - 1)
    lo = np.minimum(np.floor(x), in_len - 1).astype(np.int64)
    hi = np.minimum(lo + 1, in_len - 1)
    return lo, hi, np.where(lo == hi, 0.5, x - lo)


def _resize(a: list[int], args: list[np.ndarray], out_shape: tuple[int, ...]) -> np.ndarray:
    inner = a[5]  # axes after the resized pair: moved to the end and back
    assert a[0] in (0, 1) and 0 <= inner <= args[0].ndim - 2 and not any(a[6:]), a
    rank = args[0].ndim
    tail, head = list(range(rank - inner, rank)), list(range(inner))
    x = np.moveaxis(args[0].astype(np.float64), tail, head)
    shape = (*out_shape[rank - inner:], *out_shape[:rank - inner])
    ylo, yhi, wy = _resize_coords(a, 0, shape[-2], x.shape[-2])
    xlo, xhi, wx = _resize_coords(a, 1, shape[-1], x.shape[-1])
    if a[0] == 0:
        y = x[..., ylo, :][..., xlo]
    else:
        rows = x[..., ylo, :] * (1 - wy)[:, None] + x[..., yhi, :] * wy[:, None]
        y = rows[..., xlo] * (1 - wx) + rows[..., xhi] * wx
    return np.moveaxis(y, head, tail)


def _conv_transpose(a: list[int], args: list[np.ndarray], out_shape: tuple[int, ...]) -> np.ndarray:
    """Scatter form (each input pixel adds its kernel-sized patch), the opposite of the engine's gather."""
    x, w = args[0].astype(np.float64), args[1].astype(np.float64)
    kh, kw, sh, sw, pt, pl, _pb, _pr, dh, dw, groups, oph, opw = a[:13]
    assert not any(a[13:]) and min(oph, opw) >= 0, a
    n, cin, h, wd = x.shape
    cin_g, cout_g = cin // groups, w.shape[1]
    full = np.zeros((n, cout_g * groups, (h - 1) * sh + (kh - 1) * dh + 1 + oph,
                     (wd - 1) * sw + (kw - 1) * dw + 1 + opw))
    for g in range(groups):
        xs = x[:, g * cin_g:(g + 1) * cin_g]
        for ky in range(kh):
            for kx in range(kw):
                contrib = np.einsum("nchw,co->nohw", xs, w[g * cin_g:(g + 1) * cin_g, :, ky, kx])
                full[:, g * cout_g:(g + 1) * cout_g, ky * dh:ky * dh + (h - 1) * sh + 1:sh,
                     kx * dw:kx * dw + (wd - 1) * sw + 1:sw] += contrib
    y = full[:, :, pt:pt + out_shape[2], pl:pl + out_shape[3]]
    assert y.shape == tuple(out_shape), (y.shape, out_shape)
    return y + args[2].reshape(1, -1, 1, 1) if len(args) > 2 else y


def _slice(a: list[int], args: list[np.ndarray], out_shape: tuple[int, ...]) -> np.ndarray:
    x = args[0]
    rank = x.ndim
    assert not any(a[rank:6]) and not any(a[6 + rank:12]) and all(a[6:6 + rank]), a
    index = []
    for d in range(rank):
        start, step, count = a[d], a[6 + d], out_shape[d]
        index.append(np.arange(count) * step + start)
    return x[np.ix_(*index)]


# The structural ops (codes 16..39), each evaluated from (attrs, inputs, output shape).
_STRUCTURAL = {"PAD": _pad, "RESIZE": _resize, "CONV_TRANSPOSE": _conv_transpose, "SLICE": _slice,
               "GATHER": lambda a, args, out_shape: np.take(args[0], args[1].astype(np.int64), axis=a[0]),
               "EXPAND": lambda a, args, out_shape: np.broadcast_to(args[0], out_shape)}


def _eval(node: SbnNode, args: list[np.ndarray], out_shape: tuple[int, ...]) -> np.ndarray:
    op, a = node.op, node.attrs
    if op in _STRUCTURAL:
        return _STRUCTURAL[op](a, args, out_shape)
    if op == "CONV":
        return _conv(args[0], args[1], args[2] if len(args) > 2 else None, a, out_shape)
    if op == "CONV_SPARSE":
        x, nnz, index, values = args[:4]
        w = unpack_dense(nnz, index, values, out_shape[1], x.shape[1], a[0], a[1])
        assert values.shape[2] == a[11]
        return _conv(x, w, args[4] if len(args) > 4 else None, a, out_shape)
    if op == "FC":
        y = args[0].astype(np.float64) @ args[1].T.astype(np.float64)
        return y + args[2] if len(args) > 2 else y
    if op == "FC_SPARSE":
        x, nnz, index, values = args[:4]
        w = unpack_dense(nnz, index, values, out_shape[1], x.shape[1], 1, 1)[:, :, 0, 0]
        assert values.shape[2] == a[11]
        y = x.astype(np.float64) @ w.T
        return y + args[4] if len(args) > 4 else y
    if op == "ADD":
        return args[0].astype(np.float64) + args[1]
    if op == "MUL":
        return args[0].astype(np.float64) * args[1]
    if op in _BINARY:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return _BINARY[op](args[0].astype(np.float64), args[1].astype(np.float64))
    if op == "MATMUL":
        return np.matmul(args[0].astype(np.float64), args[1].astype(np.float64))
    if op == "LOG_SOFTMAX":
        x = args[0].astype(np.float64)
        shifted = x - x.max(axis=a[0], keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=a[0], keepdims=True))
    if op == "ARGMAX":
        x = args[0]
        assert a[1] in (0, 1) and a[2] in (0, 1), a
        index = np.argmax(np.flip(x, a[0]), axis=a[0]) if a[2] else np.argmax(x, axis=a[0])
        if a[2]:
            index = x.shape[a[0]] - 1 - index
        return np.expand_dims(index, a[0]) if a[1] else index
    if op in _REDUCE:
        axes = tuple(d for d in range(args[0].ndim) if a[0] >> d & 1)
        assert axes and a[1] in (0, 1) and not any(a[2:]), a
        return _REDUCE[op](args[0].astype(np.float64), axis=axes, keepdims=bool(a[1]))
    if op in ("LAYER_NORM", "INSTANCE_NORM"):
        x = args[0].astype(np.float64)
        eps = float(np.array([a[1]], np.int32).view(np.float32)[0])
        axes = tuple(range(a[0], x.ndim)) if op == "LAYER_NORM" else tuple(range(2, x.ndim))
        y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
        if op == "INSTANCE_NORM":
            shape = (1, -1) + (1,) * (x.ndim - 2)
            return y * args[1].reshape(shape) + args[2].reshape(shape)
        return y * args[1] + (args[2] if len(args) > 2 else 0)
    if op == "CONCAT":
        return np.concatenate(args, axis=a[0])
    if op == "GLOBAL_AVG_POOL":
        return args[0].astype(np.float64).mean(axis=(2, 3), keepdims=True)
    if op in ("AVG_POOL", "MAX_POOL"):
        return _pool(args[0], a, out_shape, op)
    if op == "RESHAPE":
        return args[0].reshape(out_shape)
    if op == "SOFTMAX":
        x = args[0].astype(np.float64)
        e = np.exp(x - x.max(axis=a[0], keepdims=True))
        return e / e.sum(axis=a[0], keepdims=True)
    if op == "ACTIVATION":
        return args[0]
    if op == "CHANNEL_AFFINE":
        shape = (1, -1) + (1,) * (args[0].ndim - 2)
        return args[0] * args[1].reshape(shape).astype(np.float64) + args[2].reshape(shape)
    if op == "TRANSPOSE":
        rank = args[0].ndim
        assert sorted(a[:rank]) == list(range(rank)) and not any(a[rank:6]), a[:6]
        return np.transpose(args[0], a[:rank])
    raise NotImplementedError(op)
