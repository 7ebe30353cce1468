"""Read a .tflite flatbuffer into plain Python: tensors (numpy constants), operators with their options, the main
subgraph's inputs and outputs. Sparse constants (TFLite's SparsityParameters: traversal order, block map, DENSE and
SPARSE_CSR dimension metadata) are decoded to dense arrays, and the constant DENSIFY / fp16 DEQUANTIZE chains that
MediaPipe's models put before their weights are folded here, so the importer sees float32 weights.

The flatbuffer accessors are ai-edge-litert's generated schema (``ai_edge_litert.schema_py_generated``): it is the
schema of the LiteRT runtime that ``sparsebyte check --reference x.tflite`` runs, so reader and reference can never
disagree on a field, and it needs no second package (the ``tflite`` package on PyPI lags the schema by releases).
A malformed file raises ConversionError naming the file and what is wrong with it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .ir import ConversionError

IDENTIFIER = b"TFL3"
# TensorType codes of schema.fbs -> numpy dtypes of the constants we can read.
_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_, 7: np.int16,
           9: np.int8, 10: np.float64, 12: np.uint64, 15: np.uint32, 16: np.uint16}
QUANTIZED_TYPES = {3: "UINT8", 7: "INT16", 9: "INT8", 17: "INT4"}
MAX_SPARSE_ELEMENTS = 1 << 28  # a decoded sparse constant (elements); a larger one is a corrupt header


def schema() -> Any:
    """The generated accessors; without ai-edge-litert the ModuleNotFoundError goes up as it is (the CLI turns it into
    its one-line "needs the Python package" message)."""
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


def _names(enum: Any) -> dict[int, str]:
    return {v: k for k, v in vars(enum).items() if not k.startswith("_") and isinstance(v, int)}


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    type: int
    data: np.ndarray | None = None  # constant contents (dense), None for activations
    quantized: bool = False  # has scale/zero-point parameters
    sparse: bool = False  # stored as a TFLite sparse tensor (decoded into data)

    @property
    def type_name(self) -> str:
        return _names(schema().TensorType).get(self.type, str(self.type))


@dataclass
class Operator:
    index: int
    op: str  # BuiltinOperator name ("CONV_2D"), or "CUSTOM:<code>"
    inputs: list[int]  # tensor indices; -1 = optional input left out
    outputs: list[int]
    options: Any = None  # the builtin options object (schema ...OptionsT), or None
    custom_options: bytes = b""

    @property
    def label(self) -> str:
        return f"{self.op} #{self.index}"


@dataclass
class TfliteModel:
    path: str
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]
    description: str = ""
    folded: dict[str, int] = field(default_factory=dict)  # op name -> how many were folded at read time


def read_tflite(source: str | os.PathLike | bytes) -> TfliteModel:
    """Parse and validate a .tflite file (or its bytes); fold constant DENSIFY and DEQUANTIZE."""
    label = "<bytes>" if isinstance(source, bytes) else str(source)
    if isinstance(source, bytes):
        buf = source
    else:
        path = Path(source)
        if not path.is_file():
            raise ConversionError(f"bad TFLite file {label!r}: no such file")
        try:
            buf = path.read_bytes()
        except OSError as e:
            raise ConversionError(f"bad TFLite file {label!r}: cannot read it ({e.strerror or e})") from e
    if len(buf) < 8 or buf[4:8] != IDENTIFIER:
        raise ConversionError(f"bad TFLite file {label!r}: no TFL3 identifier at bytes 4..8 (not a .tflite "
                              f"flatbuffer, or truncated to {len(buf)} bytes)")
    s = schema()
    try:
        model = s.ModelT.InitFromPackedBuf(buf, 0)
    except Exception as e:  # noqa: BLE001 (a corrupt flatbuffer raises struct.error, IndexError, ValueError, ...)
        raise ConversionError(f"bad TFLite file {label!r}: cannot parse the flatbuffer ({type(e).__name__}: {e})"
                              ) from e
    try:
        return _Reader(label, buf, model, s).run()
    except ConversionError:
        raise
    except (TypeError, ValueError, IndexError, AttributeError, OverflowError) as e:  # fields a corrupt file garbles
        raise ConversionError(f"bad TFLite file {label!r}: inconsistent flatbuffer ({type(e).__name__}: {e})") from e


class _Reader:
    def __init__(self, label: str, buf: bytes, model: Any, s: Any) -> None:
        self.label, self.buf, self.model, self.s = label, buf, model, s
        self.op_names = _names(s.BuiltinOperator)

    def fail(self, message: str) -> ConversionError:
        return ConversionError(f"bad TFLite file {self.label!r}: {message}")

    def run(self) -> TfliteModel:
        m = self.model
        if not m.subgraphs:
            raise self.fail("it has no subgraph")
        if len(m.subgraphs) > 1:
            # WHILE/IF bodies live in further subgraphs; a plain feed-forward model has one
            raise ConversionError(f"TFLite file {self.label!r} has {len(m.subgraphs)} subgraphs; only single-subgraph "
                                  "models (no control flow) are supported")
        g = m.subgraphs[0]
        buffers = m.buffers or []
        tensors = [self._tensor(k, t, buffers) for k, t in enumerate(g.tensors or [])]
        codes = m.operatorCodes or []
        ops = []
        for k, o in enumerate(g.operators or []):
            if not 0 <= o.opcodeIndex < len(codes):
                raise self.fail(f"operator {k} has opcode index {o.opcodeIndex} of {len(codes)} operator codes")
            code = codes[o.opcodeIndex]
            builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))  # schema v3a: the larger one
            name = self.op_names.get(builtin, f"BUILTIN_{builtin}")
            if name == "CUSTOM":
                custom = code.customCode.decode(errors="replace") if code.customCode else "?"
                name = f"CUSTOM:{custom}"
            ins = [int(i) for i in (o.inputs if o.inputs is not None else [])]
            outs = [int(i) for i in (o.outputs if o.outputs is not None else [])]
            for i in ins + outs:
                if not -1 <= i < len(tensors) or (i == -1 and i in outs):
                    raise self.fail(f"operator {k} ({name}) names tensor {i} of {len(tensors)}")
            custom_opts = bytes(np.asarray(o.customOptions, np.uint8)) if o.customOptions is not None else b""
            ops.append(Operator(k, name, ins, outs, o.builtinOptions, custom_opts))
        inputs = [int(i) for i in (g.inputs if g.inputs is not None else [])]
        outputs = [int(i) for i in (g.outputs if g.outputs is not None else [])]
        for what, ids in (("input", inputs), ("output", outputs)):
            for i in ids:
                if not 0 <= i < len(tensors):
                    raise self.fail(f"subgraph {what} names tensor {i} of {len(tensors)}")
        desc = m.description.decode(errors="replace") if isinstance(m.description, bytes) else str(m.description or "")
        out = TfliteModel(self.label, tensors, ops, inputs, outputs, desc)
        _fold_constants(out)
        return out

    def _tensor(self, k: int, t: Any, buffers: list[Any]) -> Tensor:
        name = t.name.decode(errors="replace") if isinstance(t.name, bytes) else str(t.name or f"tensor_{k}")
        if "\x00" in name:
            raise self.fail(f"tensor {k} name {name!r} contains a NUL byte")
        name = name or f"tensor_{k}"
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        signature = [int(d) for d in t.shapeSignature] if t.shapeSignature is not None else list(shape)
        if any(d < 0 for d in shape) or len(signature) != len(shape):
            raise self.fail(f"tensor {k} {name!r} has shape {list(shape)} (signature {signature})")
        shape = tuple(1 if (sig == -1 and i == 0) else d for i, (d, sig) in enumerate(zip(shape, signature,
                                                                                          strict=True)))
        q = t.quantization
        quantized = q is not None and q.scale is not None and len(q.scale) > 0
        tensor = Tensor(k, name, shape, int(t.type), quantized=quantized)
        raw = self._buffer_bytes(k, name, t.buffer, buffers)
        if raw is None:
            if t.sparsity is not None:
                raise self.fail(f"tensor {k} {name!r} is sparse but has no data")
            if 0 in shape:
                raise self.fail(f"tensor {k} {name!r} has shape {list(shape)}: an empty activation")
            return tensor
        dtype = _DTYPES.get(tensor.type)
        if dtype is None:
            raise ConversionError(f"TFLite file {self.label!r}: constant tensor {k} {name!r} has type "
                                  f"{tensor.type_name}, which the converter cannot read")
        itemsize = np.dtype(dtype).itemsize
        if len(raw) % itemsize:
            raise self.fail(f"tensor {k} {name!r}: buffer of {len(raw)} bytes is not a whole number of "
                            f"{tensor.type_name} values")
        values = np.frombuffer(raw, dtype).copy()
        if t.sparsity is not None:
            tensor.data = _densify(self, k, name, shape, values, t.sparsity)
            tensor.sparse = True
        else:
            if values.size != math.prod(shape):
                raise self.fail(f"tensor {k} {name!r} of shape {list(shape)} has {values.size} values in its buffer")
            tensor.data = values.reshape(shape)
        return tensor

    def _buffer_bytes(self, k: int, name: str, index: int, buffers: list[Any]) -> bytes | None:
        if not 0 <= index < len(buffers):
            raise self.fail(f"tensor {k} {name!r} names buffer {index} of {len(buffers)}")
        b = buffers[index]
        if b is None:
            return None
        if b.offset > 1:  # data stored after the flatbuffer (models over 2 GB)
            if b.offset + b.size > len(self.buf):
                raise self.fail(f"tensor {k} {name!r}: buffer {index} at offset {b.offset} size {b.size} runs past "
                                f"the end of the file ({len(self.buf)} bytes)")
            return self.buf[b.offset:b.offset + b.size] if b.size else None
        if b.data is None or len(b.data) == 0:
            return None
        return bytes(np.asarray(b.data, np.uint8))


# ---------------------------------------------------------------- sparse tensors

def _index_vector(reader: _Reader, what: str, vec: Any) -> np.ndarray:
    values = getattr(vec, "values", None)
    if values is None:
        raise reader.fail(f"{what} is missing")
    return np.asarray(values, np.int64).reshape(-1)


def _densify(reader: _Reader, k: int, name: str, shape: tuple[int, ...], values: np.ndarray, sp: Any) -> np.ndarray:
    """TFLite's FormatConverter::SparseToDense, vectorised: walk the traversal levels keeping, for every element
    reached so far, its coordinate per level and its position (the segment index of the next CSR level)."""
    where = f"sparse tensor {k} {name!r}"
    rank = len(shape)
    order = [int(v) for v in (sp.traversalOrder if sp.traversalOrder is not None else range(rank))]
    block_map = [int(v) for v in (sp.blockMap if sp.blockMap is not None else [])]
    dims = sp.dimMetadata or []
    levels = rank + len(block_map)
    if sorted(order) != list(range(levels)) or len(dims) != levels:
        raise reader.fail(f"{where}: traversal order {order} / {len(dims)} dimension metadata do not cover the "
                          f"{levels} dims (rank {rank} + {len(block_map)} block dims)")
    if any(not 0 <= b < rank for b in block_map) or len(set(block_map)) != len(block_map):
        raise reader.fail(f"{where}: block map {block_map} for rank {rank}")
    if math.prod(shape) > MAX_SPARSE_ELEMENTS:
        raise reader.fail(f"{where}: dense shape {list(shape)} is too large")
    # sizes of the expanded dims: the blocked dims count blocks, then one dim per block
    sizes: list[int] = [0] * levels
    for level, d in enumerate(dims):
        dim = order[level]
        if d.format == 0:  # DENSE
            sizes[dim] = int(d.denseSize)
    block_sizes = [sizes[rank + j] for j in range(len(block_map))]
    for j, b in enumerate(block_map):
        if block_sizes[j] <= 0 or shape[b] % block_sizes[j]:
            raise reader.fail(f"{where}: block size {block_sizes[j]} (from dense_size) does not divide dim {b} "
                              f"({shape[b]}); block dims must be DENSE")
    expanded = [shape[i] // block_sizes[block_map.index(i)] if i in block_map else shape[i] for i in range(rank)]
    expanded += block_sizes
    coords = np.zeros((levels, 1), np.int64)
    pos = np.zeros(1, np.int64)
    for level, d in enumerate(dims):
        dim = order[level]
        if d.format == 0:
            n = int(d.denseSize)
            if n != expanded[dim]:
                raise reader.fail(f"{where}: level {level} (dim {dim}) is DENSE of size {n}, expected {expanded[dim]}")
            coords = np.repeat(coords, n, axis=1)
            here = np.tile(np.arange(n, dtype=np.int64), pos.size)
            pos = np.repeat(pos, n) * n + here
            coords[level] = here
        elif d.format == 1:  # SPARSE_CSR
            segs = _index_vector(reader, f"{where}: level {level} array_segments", d.arraySegments)
            idx = _index_vector(reader, f"{where}: level {level} array_indices", d.arrayIndices)
            if segs.size != pos.size + 1 or segs[0] != 0 or np.any(np.diff(segs) < 0) or segs[-1] != idx.size:
                raise reader.fail(f"{where}: level {level} array_segments ({segs.size} entries, last "
                                  f"{int(segs[-1]) if segs.size else None}) do not fit {pos.size} parents and "
                                  f"{idx.size} indices")
            if idx.size and (idx.min() < 0 or idx.max() >= expanded[dim]):
                raise reader.fail(f"{where}: level {level} array_indices outside 0..{expanded[dim] - 1}")
            counts = segs[pos + 1] - segs[pos]
            coords = np.repeat(coords, counts, axis=1)
            starts = np.repeat(segs[pos] - np.cumsum(counts) + counts, counts)
            pos = starts + np.arange(int(counts.sum()), dtype=np.int64)
            coords[level] = idx[pos]
        else:
            raise reader.fail(f"{where}: level {level} has unknown dimension format {d.format}")
        if pos.size > MAX_SPARSE_ELEMENTS:
            raise reader.fail(f"{where}: expands to more than {MAX_SPARSE_ELEMENTS} elements")
    if pos.size != values.size:
        raise reader.fail(f"{where}: the metadata address {pos.size} values, the buffer holds {values.size}")
    full = [np.zeros(pos.size, np.int64) for _ in range(rank)]
    for level in range(levels):
        dim = order[level]
        if dim < rank:
            full[dim] += coords[level] * (block_sizes[block_map.index(dim)] if dim in block_map else 1)
        else:
            full[block_map[dim - rank]] += coords[level]
    dense = np.zeros(shape, values.dtype)
    dense[tuple(full)] = values
    return dense


# ---------------------------------------------------------------- constant folding at read time

def _fold_constants(model: TfliteModel) -> None:
    """DENSIFY of a constant is the constant; DEQUANTIZE of an fp16 constant is its float32 value. Both fold into
    their output tensors (the ops disappear); any other DEQUANTIZE stays, for the importer to refuse."""
    kept = []
    for op in model.operators:
        if op.op in ("DENSIFY", "DEQUANTIZE") and len(op.inputs) == 1 and len(op.outputs) == 1 \
                and op.inputs[0] >= 0:
            src, dst = model.tensors[op.inputs[0]], model.tensors[op.outputs[0]]
            foldable = src.data is not None and (op.op == "DENSIFY" or (src.type == 1 and not src.quantized))
            if foldable:
                assert src.data is not None
                if src.data.size != math.prod(dst.shape):
                    raise ConversionError(f"bad TFLite file {model.path!r}: {op.label} maps {list(src.shape)} to "
                                          f"{list(dst.shape)}")
                data = src.data.reshape(dst.shape)
                dst.data = data.astype(np.float32) if op.op == "DEQUANTIZE" else data
                dst.sparse = dst.sparse or src.sparse
                model.folded[op.op] = model.folded.get(op.op, 0) + 1
                continue
        kept.append(op)
    model.operators = kept
