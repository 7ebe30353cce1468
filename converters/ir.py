"""A small graph IR between ONNX and .sbn: ordered nodes, named values with static shapes, numpy constants.

IR operators (``Node.op``) and their attributes:
- ``Conv``: inputs X, W [Cout, Cin/group, kh, kw], B [Cout] (optional); attrs ``kernel`` (kh, kw), ``strides``,
  ``pads`` (top, left, bottom, right), ``dilations``, ``group``. Sparse packing adds ``sparse`` (see passes/sparsify).
- ``FC``: X [N, Cin], W [Cout, Cin], B [Cout] (optional).
- ``Add``, ``Mul``, ``Sub``, ``Div``, ``Max``, ``Min``, ``Pow``: numpy broadcasting; either input may be constant.
- ``PRelu``: X, slope (broadcasts to X; one slope value becomes the LEAKYRELU activation instead).
- ``Concat`` (``axis`` >= 0), ``Softmax`` (``axis`` >= 0), ``Reshape`` (target shape is the output value's shape).
- ``GlobalAveragePool``; ``AveragePool`` / ``MaxPool``: ``kernel``, ``strides``, ``pads``, ``count_include_pad``.
- ``BatchNormalization``: X, scale, bias, mean, var; attr ``epsilon``. Folded or turned into ``ChannelAffine``.
- ``ChannelAffine``: X, scale [C], shift [C].
- ``Activation``: X; the function is ``Node.act``.
- ``Transpose``: X (an activation, rank 1..6); attr ``perm`` (output dim d is input dim perm[d]).
- ``Pad``: X (rank 1..6); attrs ``mode`` (0 constant, 1 reflect, 2 edge), ``begin``/``end`` (per axis),
  ``value_bits`` (the constant's f32 bits). Constant zero padding of Conv/AveragePool inputs folds (passes/fold_pad).
- ``Resize``: X (rank 2..6, two adjacent axes resized: the last two, or the two before ``inner_axes`` more axes);
  attrs ``mode``, ``coord``, ``nearest_mode``, ``scale_h_bits``, ``scale_w_bits`` (codes of docs/format.md),
  ``out_hw``, ``inner_axes``.
- ``ConvTranspose``: X, W [Cin, Cout/groups, kh, kw], B; attrs named like the CONV_TRANSPOSE slots.
- ``Slice``: X; attrs ``start``, ``step`` (per axis), ``count`` (the output shape). Also each output of Split.
- ``Gather``: X, indices (i32 constant); attr ``axis``.
- ``Expand``: X; attr ``shape`` (the broadcast output shape). Also Tile (with two Reshapes).
- ``ReduceMean``, ``ReduceSum``, ``ReduceMax``, ``ReduceMin``: X; attrs ``axes_mask`` (bit d: axis d), ``keepdims``.
- ``LayerNorm``: X, scale, bias (optional; constants of X's dims axis..); attrs ``axis``, ``epsilon_bits`` (f32 bits).
- ``InstanceNorm``: X [N, C, ...], scale [C], bias [C]; attrs ``axis`` (0), ``epsilon_bits``.
- ``MatMul``: A [..., M, K], B [..., K, N] (rank 2..6, batch dims broadcast; a constant 2-D B is an FC instead).
- ``LogSoftmax`` (``axis``); ``ArgMax``: attrs ``axis``, ``keepdims``, ``select_last_index`` (the index as f32).
- ``Identity``: removed by passes/remove_identity.

Every node may carry a fused activation ``act = (kind, param0, param1)`` with the kinds of docs/format.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Activation = tuple[str, float, float]
NO_ACT: Activation = ("NONE", 0.0, 0.0)


class ConversionError(Exception):
    """A model the converter cannot turn into .sbn. The message names the node, the op and the reason."""

    def __init__(self, message: str, node: str | None = None, op: str | None = None) -> None:
        prefix = f"node {node!r} ({op}): " if node is not None else ""
        super().__init__(prefix + message)
        self.node = node
        self.op = op
        self.reason = message


@dataclass
class Value:
    name: str
    shape: tuple[int, ...]
    const: np.ndarray | None = None

    @property
    def is_const(self) -> bool:
        return self.const is not None


@dataclass
class Node:
    op: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    act: Activation = NO_ACT
    source_op: str = ""  # the ONNX op it came from, for messages and the report

    @property
    def output(self) -> str:
        return self.outputs[0]

    def error(self, message: str) -> ConversionError:
        return ConversionError(message, self.name, self.source_op or self.op)


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    values: dict[str, Value] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    # ---- values ----
    def add_value(self, name: str, shape: tuple[int, ...], const: np.ndarray | None = None) -> Value:
        v = Value(name, tuple(int(d) for d in shape), const)
        self.values[name] = v
        return v

    def add_const(self, name: str, array: np.ndarray) -> Value:
        return self.add_value(name, tuple(np.shape(array)), np.asarray(array))

    def const(self, name: str) -> np.ndarray | None:
        v = self.values.get(name)
        return None if v is None else v.const

    def shape(self, name: str) -> tuple[int, ...]:
        return self.values[name].shape

    def unique_name(self, base: str) -> str:
        name, i = base, 1
        while name in self.values:
            name, i = f"{base}_{i}", i + 1
        return name

    # ---- structure ----
    def producer(self, value: str) -> Node | None:
        for n in self.nodes:
            if value in n.outputs:
                return n
        return None

    def consumers(self, value: str) -> list[Node]:
        return [n for n in self.nodes if value in n.inputs]

    def use_count(self, value: str) -> int:
        """Uses by nodes plus one if it is a graph output."""
        return sum(n.inputs.count(value) for n in self.nodes) + self.outputs.count(value)

    def replace_uses(self, old: str, new: str) -> None:
        for n in self.nodes:
            n.inputs = [new if i == old else i for i in n.inputs]
        self.outputs = [new if o == old else o for o in self.outputs]

    def rename_value(self, old: str, new: str) -> None:
        """Give value `old` the name `new` everywhere (new must be unused or be dropped by the caller first)."""
        v = self.values.pop(old)
        v.name = new
        self.values[new] = v
        for n in self.nodes:
            n.inputs = [new if i == old else i for i in n.inputs]
            n.outputs = [new if o == old else o for o in n.outputs]
        self.inputs = [new if i == old else i for i in self.inputs]
        self.outputs = [new if o == old else o for o in self.outputs]

    def remove_unused_values(self) -> None:
        used = set(self.inputs) | set(self.outputs)
        for n in self.nodes:
            used.update(n.inputs)
            used.update(n.outputs)
        for name in [k for k in self.values if k not in used]:
            del self.values[name]
