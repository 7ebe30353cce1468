""".tflite (float models) -> IR graph, NCHW inside.

Every TFLite operator is re-expressed as ONNX nodes (opset 17) and handed to onnx_import's handlers one by one, so
the attribute checks, constant folding, shape rules and error messages are the ONNX importer's (no second copy); the
nodes are named ``<TFLITE_OP> #<index> <output tensor>`` so an error names the TFLite operator.

Layout: TFLite is NHWC. A rank-4 tensor exists in up to two forms, its TFLite form (``native``) and NCHW; each is
made on first use (a TRANSPOSE, or a free RESHAPE when C == 1 or H * W == 1), so convolutions, pools, resizes and
element-wise ops run on NCHW, and RESHAPE / FULLY_CONNECTED / outputs see the TFLite order. Inputs and outputs keep
their TFLite shapes (layout="tflite"); layout="nchw" declares the rank-4 inputs and outputs NCHW instead (no boundary
transposes). Weights are stored OIHW; DENSIFY/DEQUANTIZE chains are folded by tflite_read, so sparse weights reach
passes/sparsify as dense arrays with their zeros and get their group size G chosen per layer there.
"""

from __future__ import annotations

import logging
import math
import os
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
from onnx import helper

from .ir import ConversionError, Graph
from .onnx_import import _Importer
from .tflite_read import QUANTIZED_TYPES, Operator, Tensor, TfliteModel, read_tflite

log = logging.getLogger(__name__)

OPSET = 17
LAYOUTS = ("tflite", "nchw")
TO_NCHW, TO_NHWC = (0, 3, 1, 2), (0, 2, 3, 1)
NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}  # NHWC axis -> its position in NCHW
_ACTIVATIONS = {1: ("Relu", {}), 2: ("Clip", {"min": -1.0, "max": 1.0}), 3: ("Clip", {"min": 0.0, "max": 6.0}),
                4: ("Tanh", {})}  # TFLite ActivationFunctionType (0 NONE; 5 SIGN_BIT is refused)


def is_tflite(source: Any) -> bool:
    """A path ending in .tflite, or a file whose flatbuffer identifier (bytes 4..8) is TFL3."""
    if not isinstance(source, (str, os.PathLike)):
        return False
    if str(source).lower().endswith(".tflite"):
        return True
    try:
        with open(source, "rb") as f:
            return f.read(8)[4:8] == b"TFL3"
    except OSError:
        return False


def import_tflite(source: str | os.PathLike | bytes, layout: str = "tflite") -> Graph:
    if layout not in LAYOUTS:
        raise ConversionError(f"layout must be one of {list(LAYOUTS)}, got {layout!r}")
    return _TfliteImporter(read_tflite(source), layout).run()


def quantized_problem(model: TfliteModel) -> str | None:
    """One line naming the first quantized operator (int8/uint8/int16 tensors, QUANTIZE, a DEQUANTIZE left after
    the fp16 folds), or None for a float model."""
    for op in model.operators:
        for i in op.inputs + op.outputs:
            t = model.tensors[i] if i >= 0 else None
            if t is not None and t.type in QUANTIZED_TYPES:
                return (f"{model.path}: quantized model: {op.label} uses {QUANTIZED_TYPES[t.type]} tensor {t.name!r}; "
                        "only float32 TFLite models convert (the engine has no int8 kernels yet)")
        if op.op in ("QUANTIZE", "DEQUANTIZE"):
            src = model.tensors[op.inputs[0]] if op.inputs and op.inputs[0] >= 0 else None
            what = f"{src.type_name} tensor {src.name!r}" if src is not None else "a tensor"
            return (f"{model.path}: quantized model: {op.label} of {what}; only float32 TFLite models convert (the "
                    "engine has no int8 kernels yet)")
    return None


class _TfliteImporter:
    def __init__(self, model: TfliteModel, layout: str) -> None:
        self.model = model
        self.layout = layout
        self.imp = _Importer(onnx.ModelProto(), OPSET, {})
        self.graph = self.imp.graph
        self.native: dict[int, str] = {}  # tensor index -> IR value in TFLite layout
        self.nchw: dict[int, str] = {}  # rank-4 tensor index -> IR value in NCHW
        self.count = 0
        self.op: Operator | None = None

    # ---- entry ----
    def run(self) -> Graph:
        m = self.model
        problem = quantized_problem(m)
        if problem:
            raise ConversionError(problem)
        for i in m.inputs:
            t = m.tensors[i]
            if t.type != 0:
                raise ConversionError(f"{m.path}: graph input {t.name!r} has type {t.type_name}; only FLOAT32 inputs "
                                      "are supported")
            if t.data is not None:
                raise ConversionError(f"{m.path}: graph input {t.name!r} is a constant")
            nchw = self.layout == "nchw" and len(t.shape) == 4
            shape = tuple(t.shape[p] for p in TO_NCHW) if nchw else t.shape
            name = self.fresh(t.name)
            self.graph.add_value(name, shape)
            self.graph.inputs.append(name)
            (self.nchw if nchw else self.native)[i] = name
        if not self.graph.inputs:
            raise ConversionError(f"{m.path}: the model has no inputs")
        for op in m.operators:
            self.op = op
            handler = _HANDLERS.get(op.op)
            if handler is None:
                raise ConversionError(f"{m.path}: {op.label} ({self.out_name(op)}): unsupported TFLite operator "
                                      f"{op.op}")
            try:
                handler(self, op)
            except ConversionError:
                raise
            except (ValueError, IndexError, KeyError, TypeError, AttributeError) as e:  # malformed operands
                raise ConversionError(f"{m.path}: {op.label} ({self.out_name(op)}): {type(e).__name__}: {e}") from e
            self.check_outputs(op)
        outputs = []
        for i in m.outputs:
            t = m.tensors[i]
            if t.data is not None or i not in self.native and i not in self.nchw:
                raise ConversionError(f"{m.path}: graph output {t.name!r} is a constant or produced by no operator")
            name = self.nchw_of(i) if self.layout == "nchw" and len(t.shape) == 4 else self.native_of(i)
            if name in self.graph.inputs or name in outputs:  # an output that is an input, or listed twice
                raise ConversionError(f"{m.path}: graph output {t.name!r} is a graph input or listed twice")
            outputs.append(name)
        self.graph.outputs = outputs
        self._rename_outputs()
        self.graph.remove_unused_values()
        log.info("imported %d TFLite operators into %d IR nodes (folded: %s)", len(m.operators), len(self.graph.nodes),
                 m.folded or "none")
        return self.graph

    def _rename_outputs(self) -> None:
        """Graph outputs carry the TFLite tensor names (check --reference matches them by name)."""
        for k, i in enumerate(self.model.outputs):
            want, have = self.model.tensors[i].name, self.graph.outputs[k]
            if have == want or want in self.graph.outputs or want in self.graph.inputs:
                continue
            if want in self.graph.values:
                self.graph.rename_value(want, self.fresh(f"{want}.internal"))
            self.graph.rename_value(have, want)

    # ---- names, tensors ----
    def fresh(self, base: str) -> str:
        name = base or "t"
        k = 1
        while name in self.graph.values:
            name, k = f"{base}_{k}", k + 1
        return name

    def out_name(self, op: Operator) -> str:
        return self.model.tensors[op.outputs[0]].name if op.outputs else "no outputs"

    def tensor(self, op: Operator, k: int, what: str = "input") -> Tensor:
        if k >= len(op.inputs) or op.inputs[k] < 0:
            raise self.error(f"missing {what} (input {k})")
        return self.model.tensors[op.inputs[k]]

    def has_input(self, op: Operator, k: int) -> bool:
        return k < len(op.inputs) and op.inputs[k] >= 0

    def error(self, message: str) -> ConversionError:
        op = self.op
        assert op is not None
        return ConversionError(f"{self.model.path}: {op.label} ({self.out_name(op)}): {message}")

    def const(self, op: Operator, k: int, what: str) -> np.ndarray:
        t = self.tensor(op, k, what)
        if t.data is None:
            raise self.error(f"{what} {t.name!r} is not a constant")
        return t.data

    def float_const(self, op: Operator, k: int, what: str) -> np.ndarray:
        arr = self.const(op, k, what)
        if arr.dtype != np.float32:
            raise self.error(f"{what} {self.tensor(op, k).name!r} has type {arr.dtype}, expected float32")
        if not np.all(np.isfinite(arr)):
            raise self.error(f"{what} {self.tensor(op, k).name!r} contains NaN or Inf")
        return arr

    def int_const(self, op: Operator, k: int, what: str) -> list[int]:
        arr = self.const(op, k, what)
        if not np.issubdtype(arr.dtype, np.integer):
            raise self.error(f"{what} {self.tensor(op, k).name!r} has type {arr.dtype}, expected integers")
        return [int(v) for v in arr.reshape(-1)]

    def add_const(self, base: str, array: np.ndarray) -> str:
        name = self.fresh(base)
        self.graph.add_const(name, np.asarray(array))
        return name

    def rank(self, i: int) -> int:
        return len(self.model.tensors[i].shape)

    def native_of(self, i: int) -> str:
        """Tensor i in TFLite layout (made from its NCHW form on first use)."""
        if i in self.native:
            return self.native[i]
        t = self.model.tensors[i]
        if t.data is not None:
            self.native[i] = self.add_const(t.name, t.data)
            return self.native[i]
        if i not in self.nchw:
            raise self.error(f"tensor {t.name!r} is used before any operator produces it")
        self.native[i] = self._relayout(self.nchw[i], TO_NHWC, f"{t.name}.nhwc")
        return self.native[i]

    def nchw_of(self, i: int) -> str:
        """Rank-4 tensor i in NCHW (other ranks: the TFLite form)."""
        if self.rank(i) != 4:
            return self.native_of(i)
        if i in self.nchw:
            return self.nchw[i]
        t = self.model.tensors[i]
        if t.data is not None:
            self.nchw[i] = self.add_const(f"{t.name}.nchw", np.ascontiguousarray(t.data.transpose(TO_NCHW)))
            return self.nchw[i]
        self.nchw[i] = self._relayout(self.native_of(i), TO_NCHW, f"{t.name}.nchw")
        return self.nchw[i]

    def _relayout(self, x: str, perm: tuple[int, ...], base: str) -> str:
        shape = self.graph.shape(x)
        out = self.fresh(base)
        moved = [d for d in shape if d != 1]
        if moved == [d for d in (shape[p] for p in perm) if d != 1]:  # only unit axes move: a free reshape
            target = np.asarray([shape[p] for p in perm], np.int64)
            self.node("Reshape", [x, self.add_const(f"{out}.shape", target)], [out], name=f"{base} relayout")
        else:
            self.node("Transpose", [x], [out], name=f"{base} relayout", perm=list(perm))
        return out

    # ---- emitting ----
    def node(self, op_type: str, inputs: list[str], outputs: list[str], name: str | None = None,
             **attrs: Any) -> None:
        assert self.op is not None
        self.count += 1
        label = name or f"{self.op.label} {self.out_name(self.op)}"
        onode = helper.make_node(op_type, inputs, outputs, name=label, **attrs)
        self.imp.used.update(outputs)
        self.imp._import_node(self.count, onode)

    def result(self, op: Operator, k: int, layout: str) -> str:
        """A fresh IR name for output k in `layout` ("native" or "nchw"), registered for later uses."""
        i = op.outputs[k]
        t = self.model.tensors[i]
        name = self.fresh(t.name if layout == "native" else f"{t.name}.nchw")
        (self.nchw if layout == "nchw" and len(t.shape) == 4 else self.native)[i] = name
        return name

    def activation(self, op: Operator, fused: int, x: str, k: int = 0, layout: str = "nchw") -> None:
        """Output k is `x` followed by the fused activation (none: `x` itself)."""
        i = op.outputs[k]
        if fused == 0:
            (self.nchw if layout == "nchw" and self.rank(i) == 4 else self.native)[i] = x
            return
        if fused not in _ACTIVATIONS:
            raise self.error(f"unsupported fused activation {fused} (NONE, RELU, RELU_N1_TO_1, RELU6, TANH)")
        onnx_op, attrs = _ACTIVATIONS[fused]
        out = self.result(op, k, layout)
        ins = [x]
        if onnx_op == "Clip":
            ins += [self.add_const(f"{out}.min", np.float32(attrs["min"])),
                    self.add_const(f"{out}.max", np.float32(attrs["max"]))]
        self.node(onnx_op, ins, [out])

    def check_outputs(self, op: Operator) -> None:
        """The shape computed for every output must be the one the file declares (a corrupt or inconsistent file,
        or an operator option we read differently, stops here and not in a wrong result)."""
        for i in op.outputs:
            t = self.model.tensors[i]
            if i in self.native:
                got = self.graph.shape(self.native[i])
            elif i in self.nchw:
                s = self.graph.shape(self.nchw[i])
                got = tuple(s[p] for p in TO_NHWC)
            else:
                continue  # an unused output (Split) is not made
            if t.shape and got != t.shape:
                raise self.error(f"output {t.name!r}: computed shape {list(got)}, the file declares {list(t.shape)}")

    def x4(self, op: Operator, k: int = 0) -> str:
        """Input k as an NCHW activation (rank 4 required)."""
        t = self.tensor(op, k)
        if len(t.shape) != 4:
            raise self.error(f"input {t.name!r} has shape {list(t.shape)}; expected 4-D NHWC")
        return self.nchw_of(op.inputs[k])


# ================= handlers =================

def _padding(imp: _TfliteImporter, code: int) -> str:
    if code == 0:
        return "SAME_UPPER"  # TensorFlow's SAME puts the odd pixel at the end
    if code == 1:
        return "VALID"
    raise imp.error(f"unsupported padding {code} (SAME or VALID)")


def _conv2d(imp: _TfliteImporter, op: Operator) -> None:
    o = op.options
    x = imp.x4(op, 0)
    w = imp.float_const(op, 1, "filter")
    if w.ndim != 4:
        raise imp.error(f"filter shape {list(w.shape)}: expected [Cout, kh, kw, Cin]")
    cin = imp.graph.shape(x)[1]
    if w.shape[3] < 1 or cin % w.shape[3]:
        raise imp.error(f"filter {list(w.shape)} does not fit the {cin} input channels")
    inputs = [x, imp.add_const(f"{imp.tensor(op, 1).name}.oihw", np.ascontiguousarray(w.transpose(0, 3, 1, 2)))]
    if imp.has_input(op, 2):
        inputs.append(imp.add_const(imp.tensor(op, 2).name, imp.float_const(op, 2, "bias")))
    y = imp.result(op, 0, "nchw") if o.fusedActivationFunction == 0 else imp.fresh(f"{imp.out_name(op)}.conv")
    imp.node("Conv", inputs, [y], auto_pad=_padding(imp, o.padding), strides=[o.strideH, o.strideW],
             dilations=[o.dilationHFactor, o.dilationWFactor], group=cin // int(w.shape[3]))
    imp.activation(op, o.fusedActivationFunction, y)


def _depthwise(imp: _TfliteImporter, op: Operator) -> None:
    o = op.options
    x = imp.x4(op, 0)
    w = imp.float_const(op, 1, "filter")
    cin = imp.graph.shape(x)[1]
    if w.ndim != 4 or w.shape[0] != 1 or w.shape[3] % cin:
        raise imp.error(f"filter shape {list(w.shape)}: expected [1, kh, kw, Cin * multiplier] with Cin = {cin}")
    inputs = [x, imp.add_const(f"{imp.tensor(op, 1).name}.oihw", np.ascontiguousarray(w.transpose(3, 0, 1, 2)))]
    if imp.has_input(op, 2):
        inputs.append(imp.add_const(imp.tensor(op, 2).name, imp.float_const(op, 2, "bias")))
    y = imp.result(op, 0, "nchw") if o.fusedActivationFunction == 0 else imp.fresh(f"{imp.out_name(op)}.conv")
    imp.node("Conv", inputs, [y], auto_pad=_padding(imp, o.padding), strides=[o.strideH, o.strideW],
             dilations=[o.dilationHFactor, o.dilationWFactor], group=cin)
    imp.activation(op, o.fusedActivationFunction, y)


def _fully_connected(imp: _TfliteImporter, op: Operator) -> None:
    o = op.options
    if o is not None and o.weightsFormat != 0:
        raise imp.error(f"unsupported weights_format {o.weightsFormat} (only DEFAULT)")
    fused = o.fusedActivationFunction if o is not None else 0
    w = imp.float_const(op, 1, "weights")
    if w.ndim != 2:
        raise imp.error(f"weights shape {list(w.shape)}: expected [Cout, Cin]")
    xi = imp.tensor(op, 0)
    x = imp.native_of(op.inputs[0])
    shape = imp.graph.shape(x)
    cin = int(w.shape[1])
    if math.prod(shape) % cin:
        raise imp.error(f"input {xi.name!r} {list(shape)} does not flatten into rows of {cin}")
    if len(shape) != 2 or shape[1] != cin:
        rows = imp.fresh(f"{imp.out_name(op)}.rows")
        imp.node("Reshape", [x, imp.add_const(f"{rows}.shape", np.asarray([-1, cin], np.int64))], [rows],
                 name=f"{op.label} {imp.out_name(op)} rows")
        x = rows
    inputs = [x, imp.add_const(imp.tensor(op, 1).name, w)]
    if imp.has_input(op, 2):
        inputs.append(imp.add_const(imp.tensor(op, 2).name, imp.float_const(op, 2, "bias")))
    declared = imp.model.tensors[op.outputs[0]].shape
    flat = imp.graph.shape(x)[0], int(w.shape[0])
    y = imp.fresh(f"{imp.out_name(op)}.fc")
    imp.node("Gemm", inputs, [y], transB=1)
    if declared and tuple(declared) != flat:
        z = imp.fresh(f"{imp.out_name(op)}.shaped")
        imp.node("Reshape", [y, imp.add_const(f"{z}.shape", np.asarray(declared, np.int64))], [z],
                 name=f"{op.label} {imp.out_name(op)} keep_num_dims")
        y = z
    imp.activation(op, fused, y, layout="native")


def _transpose_conv_core(imp: _TfliteImporter, op: Operator, x_k: int, w_k: int, bias_k: int | None, padding: int,
                         stride_h: int, stride_w: int, out_hw: tuple[int, int]) -> str:
    """TFLite TRANSPOSE_CONV (and MediaPipe's Convolution2DTransposeBias): filter [Cout, kh, kw, Cin], explicit
    pads from TensorFlow's rule (total = (in - 1) * stride + k - out; SAME: half before, VALID: all after)."""
    x = imp.x4(op, x_k)
    w = imp.float_const(op, w_k, "filter")
    xs = imp.graph.shape(x)
    if w.ndim != 4 or w.shape[3] != xs[1]:
        raise imp.error(f"filter shape {list(w.shape)}: expected [Cout, kh, kw, {xs[1]}]")
    if min(stride_h, stride_w) < 1:
        raise imp.error(f"strides {stride_h}x{stride_w} must be >= 1")
    _padding(imp, padding)
    pads, opad = [0, 0, 0, 0], [0, 0]
    for a, (size, k, s, target) in enumerate(zip(xs[2:], w.shape[1:3], (stride_h, stride_w), out_hw, strict=True)):
        total = (size - 1) * s + int(k) - target
        if total >= 0:
            before = total // 2 if padding == 0 else 0
            pads[a], pads[a + 2] = before, total - before
        else:
            opad[a] = -total
    inputs = [x, imp.add_const(f"{imp.tensor(op, w_k).name}.iohw", np.ascontiguousarray(w.transpose(3, 0, 1, 2)))]
    if bias_k is not None and imp.has_input(op, bias_k):
        inputs.append(imp.add_const(imp.tensor(op, bias_k).name, imp.float_const(op, bias_k, "bias")))
    y = imp.fresh(f"{imp.out_name(op)}.deconv")
    imp.node("ConvTranspose", inputs, [y], kernel_shape=[int(w.shape[1]), int(w.shape[2])],
             strides=[stride_h, stride_w], pads=pads, output_padding=opad)
    return y


def _transpose_conv(imp: _TfliteImporter, op: Operator) -> None:
    o = op.options
    shape = imp.int_const(op, 0, "output_shape")
    if len(shape) != 4:
        raise imp.error(f"output_shape {shape} is not 4-D")
    y = _transpose_conv_core(imp, op, 2, 1, 3, o.padding, o.strideH, o.strideW, (shape[1], shape[2]))
    imp.activation(op, getattr(o, "fusedActivationFunction", 0), y)


def _transpose_conv_bias(imp: _TfliteImporter, op: Operator) -> None:
    """MediaPipe's custom Convolution2DTransposeBias: inputs (x, filter, bias); options are the C struct
    TfLiteTransposeConvParams {padding (1 SAME, 2 VALID), stride_width, stride_height}."""
    if len(op.custom_options) < 12:
        raise imp.error(f"custom options of {len(op.custom_options)} bytes; expected 12 (padding, stride_w, stride_h)")
    padding, stride_w, stride_h = struct.unpack("<3i", op.custom_options[:12])
    if padding not in (1, 2):
        raise imp.error(f"unsupported padding {padding} in the custom options (1 SAME, 2 VALID)")
    xs = imp.tensor(op, 0).shape
    w = imp.const(op, 1, "filter")
    if len(xs) != 4 or w.ndim != 4:
        raise imp.error(f"input {list(xs)} / filter {list(w.shape)} are not 4-D")
    if padding == 1:
        out_hw = (xs[1] * stride_h, xs[2] * stride_w)
    else:
        out_hw = ((xs[1] - 1) * stride_h + w.shape[1], (xs[2] - 1) * stride_w + w.shape[2])
    y = _transpose_conv_core(imp, op, 0, 1, 2, padding - 1, stride_h, stride_w, out_hw)
    imp.activation(op, 0, y)


def _rank4_const(imp: _TfliteImporter, c: np.ndarray) -> np.ndarray:
    """A constant operand of a rank-4 op: numpy-broadcast shape padded to rank 4, then NCHW."""
    if c.ndim > 4:
        raise imp.error(f"constant of shape {list(c.shape)} broadcast against a 4-D tensor")
    return np.ascontiguousarray(c.reshape((1,) * (4 - c.ndim) + c.shape).transpose(TO_NCHW))


def _operands(imp: _TfliteImporter, op: Operator, ks: list[int]) -> tuple[list[str], str]:
    """Element-wise operands: all NCHW when the output and every activation operand are 4-D, else TFLite layout."""
    out4 = imp.rank(op.outputs[0]) == 4
    acts = [k for k in ks if imp.tensor(op, k).data is None]
    nchw = out4 and all(imp.rank(op.inputs[k]) == 4 for k in acts)
    names = []
    for k in ks:
        t = imp.tensor(op, k)
        if t.data is not None:
            data = t.data.astype(np.float32) if np.issubdtype(t.data.dtype, np.floating) else t.data
            names.append(imp.add_const(f"{t.name}.nchw" if nchw else t.name, _rank4_const(imp, data) if nchw
                                       else data))
        else:
            names.append(imp.nchw_of(op.inputs[k]) if nchw else imp.native_of(op.inputs[k]))
    return names, "nchw" if nchw else "native"


def _binary(onnx_op: str) -> Callable[[_TfliteImporter, Operator], None]:
    def handler(imp: _TfliteImporter, op: Operator) -> None:
        fused = getattr(op.options, "fusedActivationFunction", 0) if op.options is not None else 0
        (a, b), layout = _operands(imp, op, [0, 1])
        y = imp.result(op, 0, layout) if fused == 0 else imp.fresh(f"{imp.out_name(op)}.pre")
        imp.node(onnx_op, [a, b], [y])
        imp.activation(op, fused, y, layout=layout)
    return handler


def _unary(onnx_op: str, **attrs: Any) -> Callable[[_TfliteImporter, Operator], None]:
    def handler(imp: _TfliteImporter, op: Operator) -> None:
        i = op.inputs[0] if op.inputs else -1
        if i < 0:
            raise imp.error("missing input")
        layout = "nchw" if i in imp.nchw else "native"
        x = imp.nchw[i] if layout == "nchw" else imp.native_of(i)
        imp.node(onnx_op, [x], [imp.result(op, 0, layout)], **attrs)
    return handler


def _clip(lo: float, hi: float) -> Callable[[_TfliteImporter, Operator], None]:
    def handler(imp: _TfliteImporter, op: Operator) -> None:
        i = op.inputs[0] if op.inputs else -1
        if i < 0:
            raise imp.error("missing input")
        layout = "nchw" if i in imp.nchw else "native"
        x = imp.nchw[i] if layout == "nchw" else imp.native_of(i)
        y = imp.result(op, 0, layout)
        imp.node("Clip", [x, imp.add_const(f"{y}.min", np.float32(lo)), imp.add_const(f"{y}.max", np.float32(hi))],
                 [y])
    return handler


def _leaky_relu(imp: _TfliteImporter, op: Operator) -> None:
    _unary("LeakyRelu", alpha=float(op.options.alpha))(imp, op)


def _prelu(imp: _TfliteImporter, op: Operator) -> None:
    (x, slope), layout = _operands(imp, op, [0, 1])
    imp.node("PRelu", [x, slope], [imp.result(op, 0, layout)])


def _pad(imp: _TfliteImporter, op: Operator) -> None:
    rank = imp.rank(op.inputs[0])
    pads = imp.int_const(op, 1, "paddings")
    if len(pads) != 2 * rank:
        raise imp.error(f"paddings {pads} must be [{rank}, 2]")
    before, after = pads[0::2], pads[1::2]
    layout = "nchw" if rank == 4 else "native"
    if rank == 4:
        before, after = [before[p] for p in TO_NCHW], [after[p] for p in TO_NCHW]
    x = imp.nchw_of(op.inputs[0]) if rank == 4 else imp.native_of(op.inputs[0])
    inputs = [x, imp.add_const(f"{imp.out_name(op)}.pads", np.asarray(before + after, np.int64))]
    if op.op == "PADV2" and imp.has_input(op, 2):
        inputs.append(imp.add_const(f"{imp.out_name(op)}.value", imp.const(op, 2, "constant_values")
                                    .astype(np.float32).reshape(())))
    imp.node("Pad", inputs, [imp.result(op, 0, layout)], mode="constant")


def _resize(imp: _TfliteImporter, op: Operator) -> None:
    o = op.options
    x = imp.x4(op, 0)
    size = imp.int_const(op, 1, "size")
    if len(size) != 2:
        raise imp.error(f"size {size} must have 2 entries (height, width)")
    n, c = imp.graph.shape(x)[:2]
    align, half = bool(o.alignCorners), bool(o.halfPixelCenters)
    if op.op == "RESIZE_BILINEAR":
        if align and half:
            raise imp.error("align_corners and half_pixel_centers both set")
        attrs = {"mode": "linear", "coordinate_transformation_mode":
                 "align_corners" if align else "half_pixel" if half else "asymmetric"}
    else:  # nearest: TFLite floors, or rounds (half away from zero) with align_corners
        if align and half:
            raise imp.error("align_corners and half_pixel_centers both set (no ONNX equivalent)")
        attrs = {"mode": "nearest",
                 "coordinate_transformation_mode": "align_corners" if align else
                 "tf_half_pixel_for_nn" if half else "asymmetric",
                 "nearest_mode": "round_prefer_ceil" if align else "floor"}
    sizes = imp.add_const(f"{imp.out_name(op)}.sizes", np.asarray([n, c, size[0], size[1]], np.int64))
    imp.node("Resize", [x, "", "", sizes], [imp.result(op, 0, "nchw")], **attrs)


def _space_depth(onnx_op: str) -> Callable[[_TfliteImporter, Operator], None]:
    def handler(imp: _TfliteImporter, op: Operator) -> None:
        extra: dict[str, Any] = {"mode": "DCR"} if onnx_op == "DepthToSpace" else {}
        imp.node(onnx_op, [imp.x4(op, 0)], [imp.result(op, 0, "nchw")], blocksize=int(op.options.blockSize),
                 **extra)
    return handler


def _pool(onnx_op: str) -> Callable[[_TfliteImporter, Operator], None]:
    def handler(imp: _TfliteImporter, op: Operator) -> None:
        o = op.options
        extra: dict[str, Any] = {"count_include_pad": 0} if onnx_op == "AveragePool" else {}
        y = imp.result(op, 0, "nchw") if o.fusedActivationFunction == 0 else imp.fresh(f"{imp.out_name(op)}.pool")
        imp.node(onnx_op, [imp.x4(op, 0)], [y], kernel_shape=[o.filterHeight, o.filterWidth],
                 strides=[o.strideH, o.strideW], auto_pad=_padding(imp, o.padding), **extra)
        imp.activation(op, o.fusedActivationFunction, y)
    return handler


def _reduce(onnx_op: str) -> Callable[[_TfliteImporter, Operator], None]:
    def handler(imp: _TfliteImporter, op: Operator) -> None:
        rank = imp.rank(op.inputs[0])
        axes = sorted({a % rank for a in imp.int_const(op, 1, "axes")}) if rank else []
        keep = bool(op.options.keepDims) if op.options is not None else False
        use_nchw = rank == 4 and (keep or _order_kept(axes))
        x = imp.nchw_of(op.inputs[0]) if use_nchw else imp.native_of(op.inputs[0])
        mapped = [NCHW_AXIS[a] for a in axes] if use_nchw else axes
        y = imp.result(op, 0, "nchw" if use_nchw and keep else "native")
        if onnx_op == "ReduceSum":
            imp.node(onnx_op, [x, imp.add_const(f"{y}.axes", np.asarray(mapped, np.int64))], [y], keepdims=int(keep))
        else:
            imp.node(onnx_op, [x], [y], axes=mapped, keepdims=int(keep))
    return handler


def _order_kept(axes: list[int]) -> bool:
    """Whether dropping `axes` of NHWC leaves the other axes in the same order in NCHW (e.g. mean over H, W)."""
    left = [a for a in range(4) if a not in axes]
    pos = [NCHW_AXIS[a] for a in left]
    return pos == sorted(pos)


def _reshape(imp: _TfliteImporter, op: Operator) -> None:
    """RESHAPE / SQUEEZE / EXPAND_DIMS: the declared output shape is the target (static shapes)."""
    target = imp.model.tensors[op.outputs[0]].shape
    x = imp.native_of(op.inputs[0])
    if math.prod(imp.graph.shape(x)) != math.prod(target):
        raise imp.error(f"cannot reshape {list(imp.graph.shape(x))} to the declared {list(target)}")
    y = imp.result(op, 0, "native")
    imp.node("Reshape", [x, imp.add_const(f"{y}.shape", np.asarray(target or (1,), np.int64))], [y])


def _concat(imp: _TfliteImporter, op: Operator) -> None:
    o = op.options
    rank = imp.rank(op.outputs[0])
    axis = int(o.axis) % rank if rank else 0
    nchw = rank == 4 and all(imp.rank(i) == 4 for i in op.inputs if i >= 0)
    names = [imp.nchw_of(i) if nchw else imp.native_of(i) for i in op.inputs if i >= 0]
    layout = "nchw" if nchw else "native"
    y = imp.result(op, 0, layout) if o.fusedActivationFunction == 0 else imp.fresh(f"{imp.out_name(op)}.cat")
    imp.node("Concat", names, [y], axis=NCHW_AXIS[axis] if nchw else axis)
    imp.activation(op, o.fusedActivationFunction, y, layout=layout)


def _strided_slice(imp: _TfliteImporter, op: Operator) -> None:
    o = op.options
    if o.ellipsisMask or o.newAxisMask:
        raise imp.error(f"unsupported ellipsis_mask={o.ellipsisMask} / new_axis_mask={o.newAxisMask}")
    shape = imp.tensor(op, 0).shape
    begin, end = imp.int_const(op, 1, "begin"), imp.int_const(op, 2, "end")
    strides = imp.int_const(op, 3, "strides") if imp.has_input(op, 3) else [1] * len(begin)
    if not len(begin) == len(end) == len(strides) <= len(shape) or 0 in strides:
        raise imp.error(f"begin {begin} / end {end} / strides {strides} do not fit shape {list(shape)}")
    starts, stops, steps = [], [], []
    for a, dim in enumerate(shape):
        if a >= len(begin):
            starts.append(0)
            stops.append(dim)
            steps.append(1)
            continue
        b, e, s = begin[a], end[a], strides[a]
        if getattr(o, "offset", False):
            e = b + e
        shrink = o.shrinkAxisMask >> a & 1
        if shrink:
            b = b + dim if b < 0 else b
            if not 0 <= b < dim:
                raise imp.error(f"shrink index {begin[a]} out of range for axis {a} of size {dim}")
            start, stop, step = b, b + 1, 1
        else:
            start, stop, step = slice(None if o.beginMask >> a & 1 else b, None if o.endMask >> a & 1 else e,
                                      s).indices(dim)
        starts.append(start)
        stops.append(stop if stop >= 0 else -dim - 1)  # a negative step down to index 0: past the start
        steps.append(step)
    declared = imp.model.tensors[op.outputs[0]].shape
    rank4 = len(shape) == 4 and not o.shrinkAxisMask
    perm = TO_NCHW if rank4 else tuple(range(len(shape)))
    x = imp.nchw_of(op.inputs[0]) if rank4 else imp.native_of(op.inputs[0])
    y = imp.result(op, 0, "nchw") if rank4 else imp.fresh(f"{imp.out_name(op)}.slice")
    imp.node("Slice", [x, imp.add_const(f"{y}.starts", np.asarray([starts[p] for p in perm], np.int64)),
                       imp.add_const(f"{y}.ends", np.asarray([stops[p] for p in perm], np.int64)),
                       imp.add_const(f"{y}.axes", np.arange(len(shape), dtype=np.int64)),
                       imp.add_const(f"{y}.steps", np.asarray([steps[p] for p in perm], np.int64))], [y])
    if not rank4:
        z = imp.result(op, 0, "native")
        imp.node("Reshape", [y, imp.add_const(f"{z}.shape", np.asarray(declared or (1,), np.int64))], [z],
                 name=f"{op.label} {imp.out_name(op)} shrink")


def _split(imp: _TfliteImporter, op: Operator) -> None:
    if op.op == "SPLIT":
        axis_k, x_k, sizes = 0, 1, None
    else:  # SPLIT_V: (x, size_splits, axis)
        axis_k, x_k, sizes = 2, 0, imp.int_const(op, 1, "size_splits")
    axis_v = imp.int_const(op, axis_k, "axis")
    shape = imp.tensor(op, x_k).shape
    if len(axis_v) != 1 or not -len(shape) <= axis_v[0] < len(shape):
        raise imp.error(f"axis {axis_v} out of range for shape {list(shape)}")
    axis = axis_v[0] % len(shape)
    parts = len(op.outputs)
    if sizes is None:
        if shape[axis] % parts:
            raise imp.error(f"axis {axis} of size {shape[axis]} does not split into {parts} equal parts")
        sizes = [shape[axis] // parts] * parts
    elif -1 in sizes:
        sizes[sizes.index(-1)] = shape[axis] - (sum(sizes) + 1)
    nchw = len(shape) == 4
    x = imp.nchw_of(op.inputs[x_k]) if nchw else imp.native_of(op.inputs[x_k])
    outs = [imp.result(op, k, "nchw" if nchw else "native") for k in range(parts)]
    imp.node("Split", [x, imp.add_const(f"{imp.out_name(op)}.split", np.asarray(sizes, np.int64))], outs,
             axis=NCHW_AXIS[axis] if nchw else axis)


def _softmax(imp: _TfliteImporter, op: Operator) -> None:
    beta = float(op.options.beta) if op.options is not None else 1.0
    rank = imp.rank(op.inputs[0])
    i = op.inputs[0]
    nchw = rank == 4 and i in imp.nchw
    x = imp.nchw[i] if nchw else imp.native_of(i)
    if beta != 1.0:
        scaled = imp.fresh(f"{imp.out_name(op)}.beta")
        imp.node("Mul", [x, imp.add_const(f"{scaled}.value", np.float32(beta))], [scaled])
        x = scaled
    imp.node("Softmax", [x], [imp.result(op, 0, "nchw" if nchw else "native")], axis=1 if nchw else rank - 1)


def _transpose(imp: _TfliteImporter, op: Operator) -> None:
    perm = imp.int_const(op, 1, "perm")
    imp.node("Transpose", [imp.native_of(op.inputs[0])], [imp.result(op, 0, "native")], perm=perm)


_HANDLERS: dict[str, Callable[[_TfliteImporter, Operator], None]] = {
    "CONV_2D": _conv2d,
    "DEPTHWISE_CONV_2D": _depthwise,
    "FULLY_CONNECTED": _fully_connected,
    "TRANSPOSE_CONV": _transpose_conv,
    "CUSTOM:Convolution2DTransposeBias": _transpose_conv_bias,
    "ADD": _binary("Add"),
    "SUB": _binary("Sub"),
    "MUL": _binary("Mul"),
    "DIV": _binary("Div"),
    "MAXIMUM": _binary("Max"),
    "MINIMUM": _binary("Min"),
    "PAD": _pad,
    "PADV2": _pad,
    "RESIZE_BILINEAR": _resize,
    "RESIZE_NEAREST_NEIGHBOR": _resize,
    "DEPTH_TO_SPACE": _space_depth("DepthToSpace"),
    "SPACE_TO_DEPTH": _space_depth("SpaceToDepth"),
    "AVERAGE_POOL_2D": _pool("AveragePool"),
    "MAX_POOL_2D": _pool("MaxPool"),
    "MEAN": _reduce("ReduceMean"),
    "SUM": _reduce("ReduceSum"),
    "REDUCE_MAX": _reduce("ReduceMax"),
    "REDUCE_MIN": _reduce("ReduceMin"),
    "RESHAPE": _reshape,
    "SQUEEZE": _reshape,
    "EXPAND_DIMS": _reshape,
    "CONCATENATION": _concat,
    "STRIDED_SLICE": _strided_slice,
    "SPLIT": _split,
    "SPLIT_V": _split,
    "TRANSPOSE": _transpose,
    "LOGISTIC": _unary("Sigmoid"),
    "TANH": _unary("Tanh"),
    "HARD_SWISH": _unary("HardSwish"),
    "RELU": _unary("Relu"),
    "RELU6": _clip(0.0, 6.0),
    "RELU_N1_TO_1": _clip(-1.0, 1.0),
    "RELU_0_TO_1": _clip(0.0, 1.0),
    "LEAKY_RELU": _leaky_relu,
    "ELU": _unary("Elu"),
    "EXP": _unary("Exp"),
    "ABS": _unary("Abs"),
    "SQRT": _unary("Sqrt"),
    "NEG": _unary("Neg"),
    "PRELU": _prelu,
    "SOFTMAX": _softmax,
}
SUPPORTED_OPS = tuple(sorted(_HANDLERS))
