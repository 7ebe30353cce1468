"""Small .tflite files written with ai-edge-litert's generated schema (object API), for the operators and sparse
formats that MediaPipe's models do not use. LiteRT runs every one of them as the reference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as s

_TYPES = {np.dtype(np.float32): s.TensorType.FLOAT32, np.dtype(np.float16): s.TensorType.FLOAT16,
          np.dtype(np.int32): s.TensorType.INT32, np.dtype(np.int8): s.TensorType.INT8,
          np.dtype(np.uint8): s.TensorType.UINT8, np.dtype(np.int64): s.TensorType.INT64}


def options(kind: str, **fields: Any) -> tuple[int, Any]:
    """(BuiltinOptions code, the options object) from the schema's names: options("Conv2DOptions", strideW=1)."""
    obj = getattr(s, f"{kind}T")()
    for key, value in fields.items():
        if not hasattr(obj, key):
            raise AttributeError(f"{kind} has no field {key}")
        setattr(obj, key, value)
    return getattr(s.BuiltinOptions, kind), obj


class Builder:
    def __init__(self) -> None:
        self.model = s.ModelT()
        self.model.version = 3
        self.model.buffers = [s.BufferT()]  # buffer 0: the empty one
        self.model.operatorCodes = []
        self.graph = s.SubGraphT()
        self.graph.tensors, self.graph.operators = [], []
        self.codes: dict[tuple[int, str], int] = {}

    def tensor(self, name: str, shape: Sequence[int], dtype: Any = np.float32, data: np.ndarray | None = None,
               sparsity: Any = None, raw: bytes | None = None, quant: tuple[float, int] | None = None) -> int:
        t = s.TensorT()
        t.name, t.shape, t.type = name.encode(), np.asarray(shape, np.int32), _TYPES[np.dtype(dtype)]
        t.buffer = 0
        if data is not None or raw is not None:
            b = s.BufferT()
            b.data = np.frombuffer(raw if raw is not None else np.ascontiguousarray(data, dtype).tobytes(), np.uint8)
            self.model.buffers.append(b)
            t.buffer = len(self.model.buffers) - 1
        t.sparsity = sparsity
        if quant is not None:
            q = s.QuantizationParametersT()
            q.scale, q.zeroPoint = np.asarray([quant[0]], np.float32), np.asarray([quant[1]], np.int64)
            t.quantization = q
        self.graph.tensors.append(t)
        return len(self.graph.tensors) - 1

    def const(self, name: str, data: np.ndarray) -> int:
        data = np.asarray(data)
        return self.tensor(name, data.shape, data.dtype, data)

    def op(self, code: int, inputs: Sequence[int], outputs: Sequence[int], opts: tuple[int, Any] | None = None,
           custom: str = "", custom_options: bytes = b"", version: int = 1) -> None:
        key = (code, custom)
        if key not in self.codes:
            c = s.OperatorCodeT()
            c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), version
            if custom:
                c.customCode = custom.encode()
            self.model.operatorCodes.append(c)
            self.codes[key] = len(self.model.operatorCodes) - 1
        o = s.OperatorT()
        o.opcodeIndex = self.codes[key]
        o.inputs, o.outputs = np.asarray(inputs, np.int32), np.asarray(outputs, np.int32)
        if opts is not None:
            o.builtinOptionsType, o.builtinOptions = opts
        if custom_options:
            o.customOptions = np.frombuffer(custom_options, np.uint8)
        self.graph.operators.append(o)

    def build(self, inputs: Sequence[int], outputs: Sequence[int]) -> bytes:
        self.graph.inputs, self.graph.outputs = np.asarray(inputs, np.int32), np.asarray(outputs, np.int32)
        self.model.subgraphs = [self.graph]
        b = flatbuffers.Builder(1024)
        b.Finish(self.model.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def csr_sparsity(dense: np.ndarray, order: Sequence[int], block_map: Sequence[int] = (),
                 block_sizes: Sequence[int] = (), csr_levels: Sequence[int] = ()) -> tuple[Any, np.ndarray]:
    """Encode `dense` as TFLite's sparse format (the inverse of FormatConverter::SparseToDense), written here
    independently of the converter's decoder: the expanded tensor (blocked dims count blocks, then one dim per
    block) is walked in traversal `order`; levels listed in `csr_levels` are SPARSE_CSR (a child is kept when its
    sub-tree has a nonzero), the others DENSE. Returns (SparsityParametersT, the values in traversal order)."""
    rank = dense.ndim
    bsize = dict(zip(block_map, block_sizes, strict=True))
    expanded_shape = [dense.shape[i] // bsize.get(i, 1) for i in range(rank)] + list(block_sizes)
    # expanded[i_0..i_{r-1}, b_0..] = dense[i_d * bs_d + b_d]
    expanded = dense
    for j, d in enumerate(block_map):  # split dim d into (blocks, block) and move the block part to the end
        shape = list(expanded.shape)
        expanded = expanded.reshape(shape[:d] + [shape[d] // block_sizes[j], block_sizes[j]] + shape[d + 1:])
        expanded = np.moveaxis(expanded, d + 1, -1)
    assert list(expanded.shape) == expanded_shape
    walked = expanded.transpose(order)  # level k is dim order[k]
    levels = len(order)
    segments: list[list[int]] = [[0] for _ in range(levels)]
    indices: list[list[int]] = [[] for _ in range(levels)]
    values: list[float] = []

    def visit(level: int, sub: np.ndarray) -> None:
        if level == levels:
            values.append(sub.item())
            return
        for i in range(sub.shape[0]):
            child = sub[i]
            if level in csr_levels:
                if not np.any(child != 0):
                    continue
                indices[level].append(i)
            visit(level + 1, child)
        if level in csr_levels:
            segments[level].append(len(indices[level]))

    visit(0, walked)
    sp = s.SparsityParametersT()
    sp.traversalOrder = np.asarray(order, np.int32)
    sp.blockMap = np.asarray(block_map, np.int32) if block_map else None
    sp.dimMetadata = []
    for level in range(levels):
        d = s.DimensionMetadataT()
        if level in csr_levels:
            d.format = s.DimensionType.SPARSE_CSR
            seg, idx = s.Int32VectorT(), s.Int32VectorT()
            seg.values, idx.values = np.asarray(segments[level], np.int32), np.asarray(indices[level], np.int32)
            d.arraySegmentsType = d.arrayIndicesType = s.SparseIndexVector.Int32Vector
            d.arraySegments, d.arrayIndices = seg, idx
        else:
            d.format = s.DimensionType.DENSE
            d.denseSize = walked.shape[level]
        sp.dimMetadata.append(d)
    return sp, np.asarray(values, dense.dtype)
