"""Convert a zoo model with the `sparsebyte convert` command line, run the reference runtime on the same feeds, and
compare outputs with the entry's tolerance. Used by tests/zoo and benchmarks/zoo."""

from __future__ import annotations

import collections
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from . import model_file
from .registry import ZooModel


def convert_command(model: ZooModel, source: Path, output: Path) -> list[str]:
    """The user's command: no manual step, only --input-shape for the dynamic inputs."""
    extra = [f"--{k.replace('_', '-')}" if v is True else f"--{k.replace('_', '-')}={v}"
             for k, v in model.convert_kwargs.items()]
    return [sys.executable, "-m", "sparsebyte", "convert", str(source), "-o", str(output),
            *model.cli_input_shapes(), *extra]


def convert(model: ZooModel, output: Path, timeout: float = 900) -> Path:
    """Converts through the CLI; a failure raises with the command's last lines (the converter's error)."""
    cmd = convert_command(model, model_file(model), output)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0 or not output.is_file():
        raise RuntimeError(f"{model.name}: `{' '.join(cmd[2:])}` failed (exit {proc.returncode}):\n"
                           f"{(proc.stderr + proc.stdout).strip()[-2000:]}")
    return output


def reference(model: ZooModel, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The reference runtime's outputs by name: onnxruntime (CPU, 1 thread) for .onnx, LiteRT (builtin kernels,
    1 thread; sparsebyte.check's interpreter) for .tflite."""
    if model.suffix == "tflite":
        from sparsebyte.check import litert_interpreter

        interpreter = litert_interpreter(str(model_file(model)))
        for d in interpreter.get_input_details():
            interpreter.set_tensor(d["index"], np.ascontiguousarray(feeds[d["name"]], np.float32))
        interpreter.invoke()
        return {d["name"]: np.array(interpreter.get_tensor(d["index"])) for d in interpreter.get_output_details()}
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(model_file(model)), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, dict(feeds)), strict=True))


def operators(model: ZooModel) -> dict[str, int]:
    """The source model's operator types with their counts (ONNX op_type or TFLite builtin, most frequent first)."""
    if model.suffix == "tflite":
        from sparsebyte.converters.tflite_read import read_tflite

        tfl = read_tflite(model_file(model))
        ops = collections.Counter(o.op for o in tfl.operators) + collections.Counter(tfl.folded)
        return dict(ops.most_common())
    import onnx

    graph = onnx.load(str(model_file(model)), load_external_data=False).graph
    return dict(collections.Counter(n.op_type for n in graph.node).most_common())


def problems(model: ZooModel, got: Mapping[str, np.ndarray], want: Mapping[str, np.ndarray]) -> list[str]:
    """Empty when every output is within the entry's tolerance (shapes equal, max abs error, top-1)."""
    if sorted(got) != sorted(want):
        return [f"outputs {sorted(got)} != reference {sorted(want)}"]
    return [p for name in want for p in model.tolerance.problems(np.asarray(got[name]), want[name], name)]


def errors(got: Mapping[str, np.ndarray], want: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Max abs error per output (shapes must match)."""
    return {n: float(np.abs(np.asarray(got[n], np.float64) - want[n]).max(initial=0.0)) for n in want}
