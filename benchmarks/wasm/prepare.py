"""Writes the models of the wasm benchmark (bench.mjs) into benchmarks/wasm/models/ (gitignored):
for MobileNet-v1 and MobileNetV2, the same weights as
  - <name>_dense.sbn and <name>_s{30,50,70,90}.sbn (one-shot group pruning, G=4) for sparsebyte,
  - <name>.onnx (dense) for onnxruntime-web,
  - <name>.tfjs.json + <name>.tfjs.bin (dense; the ONNX graph's Conv/Gemm/activations with NHWC weights) for
    @tensorflow/tfjs-backend-wasm, which bench.mjs builds from tfjs ops.

    python benchmarks/wasm/prepare.py [--out DIR] [--models mobilenet_v1,mobilenet_v2]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from sparsebyte.converters import convert
from sparsebyte.models.export import export_onnx
from sparsebyte.models.registry import INPUT_SHAPES, build
from sparsebyte.prune import prune_groups

HERE = Path(__file__).resolve().parent
SPARSITIES = (0.3, 0.5, 0.7, 0.9)
GROUP = 4


def onnx_to_tfjs(onnx_path: Path, out_json: Path, out_bin: Path) -> None:
    """A flat op list with NHWC-ready weights: Conv (conv2d / depthwise, fused bias + relu/relu6), Add,
    GlobalAveragePool, Flatten/Reshape, Gemm. Refuses any other op."""
    model = onnx.load(str(onnx_path))
    consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    blobs: list[np.ndarray] = []
    offset = 0

    def add_blob(a: np.ndarray) -> dict[str, object]:
        nonlocal offset
        a = np.ascontiguousarray(a, dtype="<f4")
        blobs.append(a)
        ref = {"offset": offset, "shape": list(a.shape)}
        offset += a.nbytes
        return ref

    ops: list[dict[str, object]] = []
    producers: dict[str, dict[str, object]] = {}
    for n in model.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type == "Constant":
            continue
        if n.op_type == "Conv":
            w = consts[n.input[1]]
            b = consts[n.input[2]] if len(n.input) > 2 else np.zeros(w.shape[0], np.float32)
            group = int(attrs.get("group", 1))
            depthwise = group > 1 and group == w.shape[0] and w.shape[1] == 1
            if group > 1 and not depthwise:
                raise ValueError(f"{n.name}: grouped conv (group={group}) is not supported by the tfjs port")
            # tfjs filters: conv2d [kh, kw, in, out]; depthwiseConv2d [kh, kw, in, 1]
            filt = w.transpose(2, 3, 0, 1) if depthwise else w.transpose(2, 3, 1, 0)
            pads = list(attrs.get("pads", [0, 0, 0, 0]))
            op = {
                "op": "conv",
                "input": n.input[0],
                "output": n.output[0],
                "depthwise": depthwise,
                "filter": add_blob(filt),
                "bias": add_blob(b),
                "strides": list(attrs.get("strides", [1, 1])),
                "pads": [[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]],
                "dilations": list(attrs.get("dilations", [1, 1])),
                "activation": "linear",
            }
        elif n.op_type in ("Relu", "Clip") and n.input[0] in producers and producers[n.input[0]]["op"] == "conv":
            prev = producers[n.input[0]]
            if n.op_type == "Relu":
                prev["activation"] = "relu"
            else:
                lo = float(consts[n.input[1]]) if len(n.input) > 1 and n.input[1] else float(attrs.get("min", -3e38))
                hi = float(consts[n.input[2]]) if len(n.input) > 2 and n.input[2] else float(attrs.get("max", 3e38))
                if (lo, hi) != (0.0, 6.0):
                    raise ValueError(f"{n.name}: Clip({lo}, {hi}) is not relu6")
                prev["activation"] = "relu6"
            prev["output"] = n.output[0]
            producers[n.output[0]] = prev
            continue
        elif n.op_type == "Add":
            op = {"op": "add", "inputs": list(n.input), "output": n.output[0]}
        elif n.op_type == "GlobalAveragePool":
            op = {"op": "gap", "input": n.input[0], "output": n.output[0]}
        elif n.op_type in ("Flatten", "Reshape"):
            op = {"op": "flatten", "input": n.input[0], "output": n.output[0]}
        elif n.op_type == "Gemm":
            w = consts[n.input[1]]
            if int(attrs.get("transB", 0)) == 1:
                w = w.T
            op = {
                "op": "dense",
                "input": n.input[0],
                "output": n.output[0],
                "weight": add_blob(w),
                "bias": add_blob(consts[n.input[2]]),
            }
        else:
            raise ValueError(f"{n.name}: op {n.op_type} is not supported by the tfjs port")
        ops.append(op)
        producers[n.output[0]] = op
    graph = {"input": model.graph.input[0].name, "output": model.graph.output[0].name, "ops": ops}
    out_json.write_text(json.dumps(graph))
    out_bin.write_bytes(b"".join(b.tobytes() for b in blobs))


def prepare(out: Path, names: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        shape = INPUT_SHAPES[name]
        base = build(name).eval()
        example = torch.zeros(shape)
        print(f"{name}: dense", file=sys.stderr, flush=True)
        convert(base, out / f"{name}_dense.sbn", example_input=example, force_dense=True)
        export_onnx(base, out / f"{name}.onnx", shape)
        onnx_to_tfjs(out / f"{name}.onnx", out / f"{name}.tfjs.json", out / f"{name}.tfjs.bin")
        for sparsity in SPARSITIES:
            print(f"{name}: {sparsity:.0%} group-sparse, G={GROUP}", file=sys.stderr, flush=True)
            model = copy.deepcopy(base)
            prune_groups(model, sparsity, group=GROUP)
            convert(model, out / f"{name}_s{round(sparsity * 100)}.sbn", example_input=example, group=GROUP)
    (out / "manifest.json").write_text(
        json.dumps(
            {
                "models": names,
                "sparsities": [round(s * 100) for s in SPARSITIES],
                "group": GROUP,
                "input_shapes": {n: INPUT_SHAPES[n] for n in names},
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "models")
    parser.add_argument("--models", default="mobilenet_v1,mobilenet_v2")
    ns = parser.parse_args()
    prepare(ns.out, ns.models.split(","))
    return 0


if __name__ == "__main__":
    sys.exit(main())
