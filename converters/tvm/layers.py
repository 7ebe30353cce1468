"""The layers of a .sbn file that TVM kernels can replace, with their exact shapes, activation and (sparse) pattern.

Which kernel family runs a node is the engine's decision, read from it (sparsebyte.Model.nodes: the family of the
kernel dispatch chose); shapes, attributes and weights come from the one .sbn reader (sparsebyte.sbnformat). Both
raise errors naming the file (ValueError / sparsebyte.SparsebyteError)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sparsebyte.sbnformat import ACTIVATIONS, SbnNode, SbnTensor, read_model

# kernel kinds: the engine's kernel families that TVM kernels replace
GEMM, SPMM, DWCONV, CONV = "f32_gemm", "f32_spmm", "f32_dwconv", "f32_conv"
KINDS = (GEMM, SPMM, DWCONV, CONV)


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


def read_layers(path: str | os.PathLike) -> list[Layer]:
    """Every CONV / CONV_SPARSE node that the engine runs with a family TVM covers (see Layer.kind), in execution
    order.

    FC layers (one pixel) are left to the hand-written kernels: they are a fraction of a percent of the MACs."""
    from sparsebyte.runtime import Model

    path = os.fspath(path)
    model = read_model(path)
    chosen = Model(path).nodes
    if [n.name for n in chosen] != [n.name for n in model.nodes]:
        raise ValueError(f"{path}: the engine's nodes differ from the file's")
    layers = []
    for node, engine_node in zip(model.nodes, chosen, strict=True):
        if node.op not in ("CONV", "CONV_SPARSE") or engine_node.kernel_family not in KINDS:
            continue
        layer = _conv_layer(node, engine_node.kernel_family, model.tensors)
        if layer is not None:
            layers.append(layer)
    return layers


def _conv_layer(node: SbnNode, kind: str, tensors: list[SbnTensor]) -> Layer | None:
    """The layer for the family the engine chose, or None where the generated kernels do not cover the shape."""
    kh, kw, sh, sw, pt, pl, _pb, _pr, dh, dw, groups, g = node.attrs[:12]
    inputs = [tensors[k] for k in node.inputs]
    x_dims, y_dims = inputs[0].shape, tensors[node.outputs[0]].shape
    if len(x_dims) != 4 or len(y_dims) != 4 or x_dims[0] != 1:
        return None  # batch > 1 or unexpected ranks: the hand kernels handle them
    if kh != kw or sh != sw or dh != 1 or dw != 1:
        return None
    act, p0, p1 = node.act
    base: dict[str, Any] = dict(name=node.name, in_c=x_dims[1], in_h=x_dims[2], in_w=x_dims[3], out_c=y_dims[1],
                                out_h=y_dims[2], out_w=y_dims[3], kh=kh, kw=kw, stride=sh, pad_top=pt, pad_left=pl,
                                act_kind=ACTIVATIONS[act], act_p0=p0, act_p1=p1)
    n_bias = 3 if node.op == "CONV" else 5
    bias = inputs[n_bias - 1].data if len(inputs) >= n_bias else None
    bias = np.zeros(y_dims[1], np.float32) if bias is None else np.ascontiguousarray(bias, np.float32)
    if kind == SPMM:
        if y_dims[1] % g != 0:
            return None  # partial last groups stay with the hand kernels
        return Layer(kind=SPMM, group=g, nnz=_constant(inputs[1]), index=_constant(inputs[2]),
                     weights=_constant(inputs[3]), bias=bias, **base)
    if kind == CONV and groups != 1:
        return None  # grouped (not depthwise) convolutions: no generated kernel
    return Layer(kind=kind, weights=_constant(inputs[1]), bias=bias, **base)


def _constant(t: SbnTensor) -> np.ndarray:
    if t.data is None:  # the engine loaded the file, so its validator already refused this
        raise ValueError(f"tensor {t.name!r} must be a constant")
    return t.data
