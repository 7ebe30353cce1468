"""The layers of a .sbn file that TVM kernels can replace, with their exact shapes, activation and (sparse) pattern.

Reads the file directly (docs/format.md); the engine stays the validator, so anything unexpected here is a
ValueError naming the file and node."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

import numpy as np

OP_CONV, OP_CONV_SPARSE, OP_FC, OP_FC_SPARSE = 1, 2, 3, 4
SECTION_STRINGS, SECTION_TENSORS, SECTION_NODES, SECTION_NODE_IO, SECTION_WEIGHTS = 1, 2, 3, 4, 6

# kernel kinds, named after the engine's kernel families they replace
GEMM, SPMM, DWCONV, CONV = "f32_gemm", "f32_spmm", "f32_dwconv", "f32_conv"


@dataclass
class Layer:
    name: str
    kind: str  # GEMM | SPMM | DWCONV | CONV
    in_c: int
    in_h: int
    in_w: int
    out_c: int
    out_h: int
    out_w: int
    kh: int = 1
    kw: int = 1
    stride: int = 1
    pad_top: int = 0
    pad_left: int = 0
    act_kind: int = 0
    act_p0: float = 0.0
    act_p1: float = 0.0
    group: int = 0  # G (sparse)
    nnz: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # dense W or sparse values
    bias: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    @property
    def pixels(self) -> int:
        return self.out_h * self.out_w

    @property
    def kept(self) -> int:
        """T: kept (group, input channel) pairs of a sparse layer."""
        return int(self.index.size)

    @property
    def macs(self) -> int:
        if self.kind == SPMM:
            return self.kept * self.group * self.pixels
        per_out = (1 if self.kind == DWCONV else self.in_c) * self.kh * self.kw
        return self.out_c * self.pixels * per_out


def _section_table(data: bytes, path: str) -> dict[int, tuple[int, int]]:
    if len(data) < 64 or data[:4] != b"SBN\x00":
        raise ValueError(f"{path}: not a .sbn file")
    count, table = struct.unpack_from("<IQ", data, 12)
    sections = {}
    for i in range(count):
        stype, _flags, offset, size = struct.unpack_from("<IIQQ", data, table + 32 * i)
        if offset + size > len(data):
            raise ValueError(f"{path}: section {stype} lies outside the file")
        sections[stype] = (offset, size)
    for needed in (SECTION_STRINGS, SECTION_TENSORS, SECTION_NODES, SECTION_NODE_IO, SECTION_WEIGHTS):
        if needed not in sections:
            raise ValueError(f"{path}: section {needed} missing")
    return sections


def read_layers(path: str | os.PathLike) -> list[Layer]:
    """Every CONV / CONV_SPARSE node that a TVM kernel family covers (see Layer.kind), in execution order.

    FC layers (one pixel) are left to the hand-written kernels: they are a fraction of a percent of the MACs."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    sec = _section_table(data, path)
    strings_off = sec[SECTION_STRINGS][0]
    weights_off = sec[SECTION_WEIGHTS][0]

    def name_at(off: int, length: int) -> str:
        return data[strings_off + off:strings_off + off + length].decode("utf-8")

    t_off = sec[SECTION_TENSORS][0]
    (num_tensors,) = struct.unpack_from("<I", data, t_off)
    tensors = []
    for i in range(num_tensors):
        e = t_off + 8 + 64 * i
        noff, nlen, dtype, rank = struct.unpack_from("<IIII", data, e)
        dims = struct.unpack_from("<6I", data, e + 16)[:rank]
        flags = struct.unpack_from("<I", data, e + 40)[0]
        doff, dsize = struct.unpack_from("<QQ", data, e + 48)
        array = None
        if flags & 1:
            raw = data[weights_off + doff:weights_off + doff + dsize]
            array = np.frombuffer(raw, dtype=np.float32 if dtype == 1 else np.int32).reshape(dims)
        tensors.append((name_at(noff, nlen), tuple(dims), array))
    io_off = sec[SECTION_NODE_IO][0]
    n_off = sec[SECTION_NODES][0]
    (num_nodes,) = struct.unpack_from("<I", data, n_off)
    layers = []
    for i in range(num_nodes):
        e = n_off + 8 + 128 * i
        op, noff, nlen, nin, _nout, io_start, act_kind = struct.unpack_from("<7I", data, e)
        p0, p1 = struct.unpack_from("<ff", data, e + 28)
        attrs = struct.unpack_from("<22i", data, e + 40)
        io = struct.unpack_from(f"<{nin + 1}I", data, io_off + 8 + 4 * io_start)
        name = name_at(noff, nlen)
        if op not in (OP_CONV, OP_CONV_SPARSE):
            continue
        layer = _conv_layer(name, op, attrs, [tensors[k] for k in io[:nin]], tensors[io[nin]])
        if layer is not None:
            layer.act_kind, layer.act_p0, layer.act_p1 = act_kind, p0, p1
            layers.append(layer)
    return layers


def _conv_layer(name: str, op: int, attrs: tuple[int, ...], inputs: list, output) -> Layer | None:
    kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups, g = attrs[:12]
    x_dims, y_dims = inputs[0][1], output[1]
    if len(x_dims) != 4 or len(y_dims) != 4 or x_dims[0] != 1:
        return None  # batch > 1 or unexpected ranks: the hand kernels handle them
    if kh != kw or sh != sw or dh != 1 or dw != 1:
        return None
    base = dict(name=name, in_c=x_dims[1], in_h=x_dims[2], in_w=x_dims[3], out_c=y_dims[1], out_h=y_dims[2],
                out_w=y_dims[3], kh=kh, kw=kw, stride=sh, pad_top=pt, pad_left=pl)
    pointwise = kh == 1 and sh == 1 and pt == pl == pb == pr == 0
    n_bias = 3 if op == OP_CONV else 5
    bias = inputs[n_bias - 1][2] if len(inputs) >= n_bias else None
    bias = np.zeros(y_dims[1], np.float32) if bias is None else np.ascontiguousarray(bias, np.float32)
    if op == OP_CONV:
        weights = inputs[1][2]
        if groups == x_dims[1] == y_dims[1] and groups > 1:
            return Layer(kind=DWCONV, weights=weights, bias=bias, **base)
        if groups != 1:
            return None
        return Layer(kind=GEMM if pointwise else CONV, weights=weights, bias=bias, **base)
    if not pointwise or y_dims[1] % g != 0:
        return None  # sparse kxk convs and partial last groups stay with the hand kernels
    return Layer(kind=SPMM, group=g, nnz=inputs[1][2], index=inputs[2][2], weights=inputs[3][2], bias=bias, **base)
