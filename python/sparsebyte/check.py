"""Accuracy check of a .sbn model against a reference: an ONNX file (onnxruntime), a .tflite file (LiteRT, builtin
kernels and XNNPACK), a TorchScript .pt file or a torch.nn.Module. Reports per-output max abs / rel error and top-1 /
top-5 agreement, and optionally the error of every engine tensor that has an ONNX intermediate of the same name."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .runtime import Model, TensorInfo

Inputs = dict[str, np.ndarray]


@dataclass
class OutputReport:
    name: str
    max_abs: float  # max |engine - reference| over all inputs
    max_rel: float  # max_abs / max |reference|
    within_tolerance: bool  # |engine - reference| <= atol + rtol * |reference| everywhere
    top1: float | None = None  # fraction of inputs whose top-1 class agrees (None: not a classification output)
    top5: float | None = None  # mean overlap of the top-5 sets
    top1_ties: int = 0  # top-1 disagreements where the reference's top-2 margin is within the error (a near-tie)

    @property
    def ok(self) -> bool:
        top1_misses = 0 if self.top1 is None else round((1 - self.top1) * self._n) - self.top1_ties
        return self.within_tolerance and top1_misses == 0

    _n: int = 0


@dataclass
class LayerReport:
    name: str
    shape: tuple[int, ...]
    max_abs: float
    max_rel: float


@dataclass
class CheckReport:
    n: int
    atol: float
    rtol: float
    outputs: list[OutputReport]
    layers: list[LayerReport] = field(default_factory=list)
    unmatched_layers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outputs)

    @property
    def max_abs(self) -> float:
        return max(o.max_abs for o in self.outputs)

    def format(self) -> str:
        lines = [f"{self.n} inputs, atol {self.atol:g}, rtol {self.rtol:g}"]
        for o in self.outputs:
            agree = "" if o.top1 is None else f"  top-1 {o.top1 * 100:.1f}%"
            if o.top5 is not None:
                agree += f"  top-5 {o.top5 * 100:.1f}%"
            if o.top1_ties:
                agree += f" ({o.top1_ties} near-ties)"
            lines.append(f"output {o.name}: max abs {o.max_abs:.3g}  max rel {o.max_rel:.3g}{agree}  "
                         f"{'OK' if o.ok else 'FAIL'}")
        if self.layers:
            lines.append(f"{'tensor':<56} {'shape':<20} {'max abs':>10} {'max rel':>10}")
            for layer in self.layers:
                name = layer.name if len(layer.name) <= 56 else "..." + layer.name[-53:]  # the tail says most
                lines.append(f"{name:<56} {str(list(layer.shape)):<20} {layer.max_abs:>10.3g} {layer.max_rel:>10.3g}")
        if self.unmatched_layers:
            lines.append(f"{len(self.unmatched_layers)} engine tensors have no ONNX tensor of that name and size")
        lines.append("OK" if self.ok else "FAIL: tolerance exceeded")
        return "\n".join(lines)


class ReferenceModelError(ValueError):
    """The reference model cannot be read, does not fit the .sbn's inputs, or failed on them."""


# ---- references ----
def load_onnx(path: str, load_external_data: bool = True) -> Any:
    """onnx.load, with whatever a corrupt or truncated file raises (protobuf, onnx, OS errors) as one error."""
    import onnx

    try:
        return onnx.load(path, load_external_data=load_external_data)
    except Exception as e:  # noqa: BLE001 (protobuf's DecodeError, onnx's own, OSError: all mean "cannot read it")
        raise ReferenceModelError(f"reference {path}: not a readable ONNX model ({type(e).__name__}: {e})") from e


def reference_session(model: Any, path: str, options: Any) -> Any:
    """An onnxruntime CPU session of an ONNX path or serialized model; its load errors as ReferenceModelError."""
    import onnxruntime as ort

    try:
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 (onnxruntime's errors derive from Exception only)
        raise ReferenceModelError(f"reference {path}: onnxruntime cannot load it ({e})") from e


def check_reference_inputs(session: Any, infos: Sequence[TensorInfo], path: str) -> None:
    """The reference must take the .sbn's inputs: as many, and every fixed dimension equal (matched by name when the
    names agree, else by position, as the runs feed them)."""
    theirs = session.get_inputs()
    if len(theirs) != len(infos):
        raise ReferenceModelError(f"reference {path} has {len(theirs)} inputs, the .sbn has {len(infos)}")
    by_name = {i.name: i for i in theirs}
    pairs = [(t, by_name[t.name]) for t in infos] if set(by_name) == {t.name for t in infos} else \
        list(zip(infos, theirs, strict=True))
    for mine, ref in pairs:
        dims = list(ref.shape)
        if len(dims) != len(mine.shape) or any(isinstance(d, int) and d != m for d, m in zip(dims, mine.shape,
                                                                                             strict=True)):
            raise ReferenceModelError(f"reference {path}: input {ref.name} has shape {dims}, the .sbn's input "
                                      f"{mine.name} is {list(mine.shape)}")


def run_reference(run: Callable[[Inputs], list[np.ndarray]], inputs: Inputs, path: str) -> list[np.ndarray]:
    try:
        return run(inputs)
    except Exception as e:  # noqa: BLE001 (onnxruntime's and torch's errors: the reference does not take these)
        raise ReferenceModelError(f"reference {path} failed on the .sbn's inputs ({type(e).__name__}: {e})") from e


def _onnx_reference(path: str, extra_outputs: Sequence[str] = ()) -> tuple[Callable[[Inputs], list[np.ndarray]],
                                                                          list[str], Any]:
    import onnx
    import onnxruntime as ort

    model = load_onnx(path)
    names = [o.name for o in model.graph.output]
    for extra in extra_outputs:
        if extra not in names:
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(extra))
            names.append(extra)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL if extra_outputs else \
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = reference_session(model.SerializeToString(), path, options)
    input_names = [i.name for i in session.get_inputs()]

    def run(inputs: Inputs) -> list[np.ndarray]:
        feed = inputs if set(inputs) == set(input_names) else dict(zip(input_names, inputs.values(), strict=True))
        return [np.asarray(a) for a in session.run(names, feed)]

    return run, names, session


# ---- LiteRT (.tflite references) ----
def litert_model_bytes(path: str) -> bytes:
    """The .tflite file as LiteRT can run it: MediaPipe's custom Convolution2DTransposeBias (which LiteRT's Python
    interpreter cannot resolve) becomes the builtin TRANSPOSE_CONV with its bias input, which computes the same
    thing (options: TfLiteTransposeConvParams {padding 1 SAME / 2 VALID, stride_w, stride_h}). Other files are
    returned as they are."""
    import struct

    data = Path(path).read_bytes()
    if b"Convolution2DTransposeBias" not in data:
        return data
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(data, 0)
    codes, changed = model.operatorCodes, False
    for g in model.subgraphs:
        for op in g.operators:
            code = codes[op.opcodeIndex]
            if code.builtinCode != s.BuiltinOperator.CUSTOM or code.customCode != b"Convolution2DTransposeBias":
                continue
            padding, stride_w, stride_h = struct.unpack("<3i", bytes(np.asarray(op.customOptions, np.uint8))[:12])
            x, w, b = (int(i) for i in op.inputs)
            out_shape = np.asarray(g.tensors[int(op.outputs[0])].shape, np.int32)
            buffer = s.BufferT()
            buffer.data = out_shape.view(np.uint8)
            model.buffers.append(buffer)
            shape = s.TensorT()
            shape.shape, shape.type = np.asarray([4], np.int32), s.TensorType.INT32
            shape.buffer = len(model.buffers) - 1
            shape.name = b"Convolution2DTransposeBias/output_shape"
            g.tensors.append(shape)
            tconv = s.OperatorCodeT()
            tconv.builtinCode = tconv.deprecatedBuiltinCode = s.BuiltinOperator.TRANSPOSE_CONV
            tconv.version = 3  # the version with a bias input
            codes.append(tconv)
            options = s.TransposeConvOptionsT()
            options.padding = s.Padding.SAME if padding == 1 else s.Padding.VALID
            options.strideW, options.strideH = stride_w, stride_h
            op.opcodeIndex, op.inputs = len(codes) - 1, np.asarray([len(g.tensors) - 1, w, x, b], np.int32)
            op.builtinOptionsType, op.builtinOptions, op.customOptions = s.BuiltinOptions.TransposeConvOptions, \
                options, None
            changed = True
    if not changed:
        return data
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


LITERT_KERNELS = ("builtin", "xnnpack")  # LiteRT's reference kernels, and its default CPU delegate


def litert_interpreter(path: str, kernels: str = "builtin") -> Any:
    """An allocated single-thread LiteRT interpreter of the .tflite file: builtin kernels (no delegate) or with the
    XNNPACK delegate; its load errors as ReferenceModelError."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType  # missing: the CLI's one-line message

    resolver = OpResolverType.BUILTIN if kernels == "xnnpack" else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    try:
        with _quiet_stderr():  # LiteRT's C++ logs "INFO: Created TensorFlow Lite XNNPACK delegate" on fd 2
            interpreter = Interpreter(model_content=litert_model_bytes(path), num_threads=1,
                                      experimental_op_resolver_type=resolver)
            interpreter.allocate_tensors()
    except Exception as e:  # noqa: BLE001 (LiteRT raises ValueError/RuntimeError; the rewrite struct/flatbuffer errors)
        raise ReferenceModelError(f"reference {path}: LiteRT cannot load it ({type(e).__name__}: {e})") from e
    return interpreter


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """File descriptor 2 to /dev/null for the block (C++ logging bypasses sys.stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _nhwc_pairs(mine: Sequence[tuple[int, ...]], theirs: Sequence[tuple[int, ...]], what: str, path: str
                ) -> list[bool]:
    """Per tensor: whether the .sbn has it NCHW where LiteRT has NHWC (a --layout nchw conversion)."""
    out = []
    for k, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        if tuple(a) == tuple(b):
            out.append(False)
        elif len(a) == len(b) == 4 and tuple(a) == (b[0], b[3], b[1], b[2]):
            out.append(True)
        else:
            raise ReferenceModelError(f"reference {path}: {what} {k} has shape {list(b)}, the .sbn's is {list(a)}")
    return out


def _tflite_reference(path: str, infos: Sequence[TensorInfo], outputs: Sequence[TensorInfo]
                      ) -> tuple[Callable[[Inputs], list[np.ndarray]], list[str]]:
    """Both LiteRT kernel sets on the same inputs: outputs in the .sbn's layout, named ``<output>`` (builtin
    kernels) then ``<output> [XNNPACK]``."""
    runs = {k: litert_interpreter(path, k) for k in LITERT_KERNELS}
    first = runs["builtin"]
    ins, outs = first.get_input_details(), first.get_output_details()
    if len(ins) != len(infos) or len(outs) != len(outputs):
        raise ReferenceModelError(f"reference {path} has {len(ins)} inputs and {len(outs)} outputs, the .sbn "
                                  f"{len(infos)} and {len(outputs)}")
    by_name = {o["name"]: o for o in outs}
    if {o.name for o in outputs} <= set(by_name):  # the converter keeps the TFLite output names
        outs = [by_name[o.name] for o in outputs]
    in_nchw = _nhwc_pairs([t.shape for t in infos], [tuple(int(d) for d in i["shape"]) for i in ins], "input", path)
    out_nchw = _nhwc_pairs([t.shape for t in outputs], [tuple(int(d) for d in o["shape"]) for o in outs], "output",
                           path)
    names = [o.name for o in outputs]

    def run(inputs: Inputs) -> list[np.ndarray]:
        arrays = list(inputs.values())
        result = []
        for kernels in LITERT_KERNELS:
            interpreter = runs[kernels]
            for detail, x, nchw in zip(ins, arrays, in_nchw, strict=True):
                interpreter.set_tensor(detail["index"], np.ascontiguousarray(x.transpose(0, 2, 3, 1) if nchw else x))
            interpreter.invoke()
            for detail, nchw in zip(outs, out_nchw, strict=True):
                y = np.array(interpreter.get_tensor(detail["index"]))
                result.append(y.transpose(0, 3, 1, 2) if nchw else y)
        return result

    return run, names + [f"{n} [XNNPACK]" for n in names]


def _torch_reference(module: Any) -> Callable[[Inputs], list[np.ndarray]]:
    import torch

    def run(inputs: Inputs) -> list[np.ndarray]:
        with torch.no_grad():
            out = module(*[torch.from_numpy(a) for a in inputs.values()])
        outs = out if isinstance(out, (tuple, list)) else [out]
        return [o.detach().cpu().numpy() for o in outs]

    return run


def _reference(reference: Any, per_layer_names: Sequence[str], infos: Sequence[TensorInfo],
               outputs: Sequence[TensorInfo] = ()) -> tuple[Callable[[Inputs], list[np.ndarray]], list[str] | None]:
    """A callable inputs -> outputs, plus output names (ONNX and TFLite; others match outputs by position)."""
    if isinstance(reference, (str, os.PathLike)):
        path = str(reference)
        if not Path(path).exists():
            raise FileNotFoundError(f"reference {path}: no such file")
        if path.endswith(".onnx"):
            run, names, session = _onnx_reference(path, per_layer_names)
            check_reference_inputs(session, infos, path)
            return run, names
        if path.endswith(".tflite"):
            return _tflite_reference(path, infos, outputs)
        if path.endswith((".pt", ".pth")):
            import torch

            try:
                module = torch.jit.load(path, map_location="cpu")
            except RuntimeError as e:
                raise ValueError(f"reference {path}: not a TorchScript file ({e})") from e
            return _torch_reference(module.eval()), None
        raise ValueError(f"reference {path}: expected an .onnx, a .tflite or a TorchScript .pt file")
    if callable(reference):
        if hasattr(reference, "eval"):
            reference.eval()
        return _torch_reference(reference), None
    raise TypeError(f"reference must be an ONNX, .tflite or .pt path or a torch.nn.Module, got {type(reference)}")


# ---- inputs ----
def make_inputs(infos: Sequence[TensorInfo], n: int = 20, images: Any = None, seed: int = 0) -> list[Inputs]:
    """n seeded standard-normal inputs, or preprocessed images (a folder path, or name -> [1,3,H,W] arrays)."""
    if images is None:
        rng = np.random.default_rng(seed)
        return [{t.name: rng.standard_normal(t.shape, dtype=np.float32) for t in infos} for _ in range(n)]
    if len(infos) != 1 or len(infos[0].shape) != 4 or infos[0].shape[1] != 3:
        raise ValueError("images need a model with one [N, 3, H, W] input")
    info = infos[0]
    if isinstance(images, (str, os.PathLike)):
        from .images import folder_inputs

        images = folder_inputs(images, size=info.shape[2], limit=n)
    arrays = list(images.values()) if isinstance(images, Mapping) else list(images)
    out = []
    for a in arrays[:n]:
        a = np.asarray(a, np.float32)
        if a.shape[1:] != info.shape[1:]:
            raise ValueError(f"image of shape {a.shape} does not fit input {info.name} {info.shape}")
        out.append({info.name: np.ascontiguousarray(np.broadcast_to(a[:1], info.shape))})
    return out


# ---- comparison ----
def _topk(logits: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-logits, axis=-1, kind="stable")[..., :k]


def _compare_output(name: str, got: list[np.ndarray], want: list[np.ndarray], atol: float, rtol: float) -> OutputReport:
    g = np.stack([np.asarray(a, np.float32).reshape(-1) for a in got])
    w = np.stack([np.asarray(a, np.float32).reshape(-1) for a in want])
    err = np.abs(g.astype(np.float64) - w)
    max_abs = float(err.max()) if err.size else 0.0
    scale = float(np.abs(w).max()) if w.size else 0.0
    report = OutputReport(name, max_abs, max_abs / scale if scale > 0 else max_abs,
                          bool(np.all(err <= atol + rtol * np.abs(w))), _n=len(got))
    classes = got[0].shape[-1] if got[0].ndim >= 1 else 0
    if got[0].ndim == 2 and classes >= 2:
        g2 = np.concatenate([a.reshape(-1, classes) for a in got])
        w2 = np.concatenate([a.reshape(-1, classes) for a in want])
        top1_g, top1_w = g2.argmax(-1), w2.argmax(-1)
        agree = top1_g == top1_w
        report.top1 = float(agree.mean())
        row_err = np.abs(g2 - w2).max(-1)
        margin = np.take_along_axis(w2, top1_w[:, None], -1)[:, 0] - np.take_along_axis(w2, top1_g[:, None], -1)[:, 0]
        report.top1_ties = int(np.sum(~agree & (margin <= 2 * row_err)))
        report._n = len(agree)
        if classes >= 5:
            tg, tw = _topk(g2, 5), _topk(w2, 5)
            report.top5 = float(np.mean([len(set(a) & set(b)) / 5 for a, b in zip(tg, tw, strict=True)]))
    return report


def check(sbn: str | os.PathLike | Model, reference: Any, n: int = 20, images: Any = None, per_layer: bool = False,
          atol: float = 1e-4, rtol: float = 1e-4, seed: int = 0) -> CheckReport:
    """Run the .sbn model and the reference on the same inputs and compare (see module doc)."""
    if n < 1:
        raise ValueError(f"need at least one input to compare, got n={n}")
    model = sbn if isinstance(sbn, Model) else Model(sbn)
    layer_names: list[str] = []
    if per_layer:
        if not (isinstance(reference, (str, os.PathLike)) and str(reference).endswith(".onnx")):
            raise ValueError("per_layer needs an ONNX reference (tensors are matched by name)")
        graph = load_onnx(str(reference), load_external_data=False).graph
        onnx_names = {o for node in graph.node for o in node.output}
        input_names = {t.name for t in model.inputs}
        layer_names = [n for n in model.tensor_names() if n in onnx_names and n not in input_names]  # engine order
    run, ref_names = _reference(reference, layer_names, model.inputs, model.outputs)
    ref_path = str(reference) if isinstance(reference, (str, os.PathLike)) else type(reference).__name__
    inputs = make_inputs(model.inputs, n, images, seed)
    # one row per output; a .tflite reference adds "<output> [XNNPACK]" rows (LiteRT's second kernel set)
    rows = [(o.name, o.name) for o in model.outputs]
    rows += [(n, n.removesuffix(" [XNNPACK]")) for n in (ref_names or []) if n.endswith(" [XNNPACK]")]
    got: dict[str, list[np.ndarray]] = {row: [] for row, _ in rows}
    want: dict[str, list[np.ndarray]] = {row: [] for row, _ in rows}
    layers: list[LayerReport] = []
    unmatched: list[str] = []
    for k, x in enumerate(inputs):
        model.keep_intermediates = per_layer and k == 0
        out = model.run(x)
        outs = out if isinstance(out, dict) else {model.outputs[0].name: out}
        ref = run_reference(run, x, ref_path)
        for pos, (row, engine_name) in enumerate(rows):
            if ref_names is not None and row in ref_names:
                r = ref[ref_names.index(row)]
            elif pos < len(ref):
                r = ref[pos]
            else:
                raise ValueError(f"reference has {len(ref)} outputs; engine output {row} has no counterpart")
            mine = outs[engine_name]
            if r.size != mine.size:
                raise ValueError(f"output {row}: engine shape {mine.shape} vs reference shape {r.shape}")
            got[row].append(mine)
            want[row].append(r.reshape(mine.shape))
        if per_layer and k == 0 and ref_names is not None:
            for name in layer_names:
                mine = model.tensor(name)
                theirs = ref[ref_names.index(name)]
                if theirs.size != mine.size:
                    unmatched.append(name)
                    continue
                err = np.abs(mine.astype(np.float64) - theirs.reshape(mine.shape))
                scale = float(np.abs(theirs).max()) or 1.0
                layers.append(LayerReport(name, mine.shape, float(err.max()), float(err.max()) / scale))
    if per_layer:
        model.keep_intermediates = False
    outputs = [_compare_output(row, got[row], want[row], atol, rtol) for row, _ in rows]
    return CheckReport(len(inputs), atol, rtol, outputs, layers, unmatched)
