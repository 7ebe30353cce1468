"""Writes the models of the wasm benchmark (bench.mjs) into benchmarks/wasm/models/ (gitignored):
for MobileNet-v1 and MobileNetV2, the same weights as
  - <name>_dense.sbn and <name>_s{30,50,70,90}.sbn (one-shot group pruning, G=4) for sparsebyte,
  - <name>.onnx (dense) for onnxruntime-web,
  - <name>.tfjs.json + <name>.tfjs.bin (dense; the ONNX graph's Conv/Gemm/activations with NHWC weights) for
    @tensorflow/tfjs-backend-wasm, which tfjs_graph.mjs builds from tfjs ops (also used by benchmarks/zoo).

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


class TfjsPortError(ValueError):
    """The ONNX graph uses something the tfjs port cannot express (the message names the node and why)."""


# ONNX activation -> tfjs fused-conv activation name (tf.fused.conv2d / depthwiseConv2d / matMul)
_FUSABLE = {"Relu": "relu", "Sigmoid": "sigmoid"}


def onnx_to_tfjs(onnx_path: Path, out_json: Path, out_bin: Path) -> None:
    """The ONNX graph as a flat tfjs op list (NHWC inside, weights transposed to tfjs layouts) that
    tfjs_graph.mjs runs with tfjs-core ops: Conv (conv2d / depthwiseConv2d with bias and a fused
    relu/relu6/sigmoid when the conv's output has no other consumer), Relu, Clip, Sigmoid, HardSigmoid,
    HardSwish, Add/Mul/Sub/Div of two activations or an activation and a scalar constant,
    GlobalAveragePool / ReduceMean over H and W, MaxPool/AveragePool, Concat on channels, Flatten/Reshape of a
    1x1 map, Gemm.
    The model's input is NCHW (transposed once in tfjs). TfjsPortError naming the node for anything else
    (grouped non-depthwise conv, channel shuffle, Resize, ...)."""
    model = onnx.shape_inference.infer_shapes(onnx.load(str(onnx_path)))
    consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    ranks = {}
    for vi in [*model.graph.value_info, *model.graph.input, *model.graph.output]:
        dims = vi.type.tensor_type.shape.dim
        ranks[vi.name] = [d.dim_value if d.HasField("dim_value") else 0 for d in dims]
    consumers: dict[str, int] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1
    for o in model.graph.output:
        consumers[o.name] = consumers.get(o.name, 0) + 1
    blobs: list[np.ndarray] = []
    offset = 0

    def add_blob(a: np.ndarray) -> dict[str, object]:
        nonlocal offset
        a = np.ascontiguousarray(a, dtype="<f4")
        blobs.append(a)
        ref = {"offset": offset, "shape": list(a.shape)}
        offset += a.nbytes
        return ref

    def scalar(name: str, node: onnx.NodeProto) -> float | None:
        if name not in consts:
            return None
        value = consts[name]
        if value.size != 1:
            raise TfjsPortError(f"{node.name} ({node.op_type}): a non-scalar constant operand {list(value.shape)}")
        return float(value.reshape(()))

    def clip_bounds(node: onnx.NodeProto, attrs: dict) -> tuple[float, float]:
        lo = scalar(node.input[1], node) if len(node.input) > 1 and node.input[1] else attrs.get("min", -3.4e38)
        hi = scalar(node.input[2], node) if len(node.input) > 2 and node.input[2] else attrs.get("max", 3.4e38)
        return float(lo), float(hi)

    ops: list[dict[str, object]] = []
    producers: dict[str, dict[str, object]] = {}
    for n in model.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        src = producers.get(n.input[0]) if n.input else None
        fusable = src is not None and src["op"] == "conv" and src["activation"] == "linear" \
            and consumers.get(n.input[0], 0) == 1
        if n.op_type in ("Constant", "Dropout", "Identity"):
            if n.op_type != "Constant":
                ops.append({"op": "alias", "input": n.input[0], "output": n.output[0]})
                producers[n.output[0]] = ops[-1]
            continue
        if n.op_type == "Conv":
            w = consts[n.input[1]]
            b = consts[n.input[2]] if len(n.input) > 2 else np.zeros(w.shape[0], np.float32)
            group = int(attrs.get("group", 1))
            depthwise = group > 1 and group == w.shape[0] and w.shape[1] == 1
            if group > 1 and not depthwise:
                raise TfjsPortError(f"{n.name} (Conv): grouped conv (group={group}) has no tfjs op")
            if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                raise TfjsPortError(f"{n.name} (Conv): auto_pad {attrs['auto_pad']!r}")
            # tfjs filters: conv2d [kh, kw, in, out]; depthwiseConv2d [kh, kw, in, 1]
            filt = w.transpose(2, 3, 0, 1) if depthwise else w.transpose(2, 3, 1, 0)
            pads = list(attrs.get("pads", [0, 0, 0, 0]))
            op = {"op": "conv", "input": n.input[0], "output": n.output[0], "depthwise": depthwise,
                  "filter": add_blob(filt), "bias": add_blob(b), "strides": list(attrs.get("strides", [1, 1])),
                  "pads": [[0, 0], [pads[0], pads[2]], [pads[1], pads[3]], [0, 0]],
                  "dilations": list(attrs.get("dilations", [1, 1])), "activation": "linear"}
        elif n.op_type in _FUSABLE and fusable:
            src["activation"] = _FUSABLE[n.op_type]
            src["output"] = n.output[0]
            producers[n.output[0]] = src
            continue
        elif n.op_type == "Clip":
            lo, hi = clip_bounds(n, attrs)
            if (lo, hi) == (0.0, 6.0) and fusable:
                src["activation"] = "relu6"
                src["output"] = n.output[0]
                producers[n.output[0]] = src
                continue
            op = {"op": "clip", "input": n.input[0], "output": n.output[0], "min": lo, "max": hi}
        elif n.op_type in ("Relu", "Sigmoid", "HardSwish", "Tanh"):
            op = {"op": n.op_type.lower(), "input": n.input[0], "output": n.output[0]}
        elif n.op_type == "HardSigmoid":
            op = {"op": "hardsigmoid", "input": n.input[0], "output": n.output[0],
                  "alpha": float(attrs.get("alpha", 0.2)), "beta": float(attrs.get("beta", 0.5))}
        elif n.op_type in ("Add", "Mul", "Sub", "Div"):
            a, b = (scalar(i, n) for i in n.input)
            if a is not None and b is not None:
                raise TfjsPortError(f"{n.name} ({n.op_type}): both operands constant (fold it first)")
            op = {"op": n.op_type.lower(), "inputs": [i if i not in consts else None for i in n.input],
                  "constants": [a, b], "output": n.output[0]}
        elif n.op_type == "GlobalAveragePool":
            op = {"op": "gap", "input": n.input[0], "output": n.output[0], "keep": True}
        elif n.op_type == "ReduceMean":  # the dynamo exporter's global pooling: mean over H, W
            axes = attrs.get("axes") or (consts[n.input[1]].tolist() if len(n.input) > 1 and n.input[1] else [])
            rank = len(ranks.get(n.input[0], []))
            if rank != 4 or sorted(int(a) % 4 for a in axes) != [2, 3]:
                raise TfjsPortError(f"{n.name} (ReduceMean): axes {list(axes)} of a rank-{rank} tensor")
            op = {"op": "gap", "input": n.input[0], "output": n.output[0], "keep": bool(attrs.get("keepdims", 1))}
        elif n.op_type in ("MaxPool", "AveragePool"):
            pads = list(attrs.get("pads", [0, 0, 0, 0]))
            if pads[0] != pads[2] or pads[1] != pads[3] or attrs.get("ceil_mode", 0):
                raise TfjsPortError(f"{n.name} ({n.op_type}): asymmetric pads or ceil_mode")
            if n.op_type == "AveragePool" and any(pads) and not attrs.get("count_include_pad", 0):
                raise TfjsPortError(f"{n.name} (AveragePool): padding excluded from the count")
            op = {"op": "maxpool" if n.op_type == "MaxPool" else "avgpool", "input": n.input[0],
                  "output": n.output[0], "kernel": list(attrs["kernel_shape"]),
                  "strides": list(attrs.get("strides", [1, 1])), "pads": [[0, 0], [pads[0], pads[2]],
                                                                           [pads[1], pads[3]], [0, 0]]}
        elif n.op_type == "Concat":
            rank = len(ranks.get(n.output[0], []))
            axis = int(attrs["axis"]) % max(rank, 1)
            if rank != 4 or axis != 1:
                raise TfjsPortError(f"{n.name} (Concat): axis {attrs['axis']} of a rank-{rank} tensor")
            op = {"op": "concat", "inputs": list(n.input), "output": n.output[0], "axis": 3}
        elif n.op_type in ("Flatten", "Reshape"):
            shape = ranks.get(n.input[0], [])
            if len(shape) == 4 and shape[2:] != [1, 1]:
                raise TfjsPortError(f"{n.name} ({n.op_type}): flattening a {shape[2]}x{shape[3]} map "
                                    "(NHWC order differs)")
            op = {"op": "flatten", "input": n.input[0], "output": n.output[0]}
        elif n.op_type == "Gemm":
            w = consts[n.input[1]]
            if int(attrs.get("transB", 0)) == 1:
                w = w.T
            if attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0 or attrs.get("transA", 0):
                raise TfjsPortError(f"{n.name} (Gemm): alpha/beta/transA")
            op = {"op": "dense", "input": n.input[0], "output": n.output[0], "weight": add_blob(w),
                  "bias": add_blob(consts[n.input[2]] if len(n.input) > 2 else np.zeros(w.shape[1], np.float32))}
        else:
            raise TfjsPortError(f"{n.name}: op {n.op_type} is not supported by the tfjs port")
        ops.append(op)
        producers[n.output[0]] = op
    if len(model.graph.output) != 1:
        raise TfjsPortError(f"{onnx_path}: {len(model.graph.output)} outputs (the tfjs port runs one)")
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
