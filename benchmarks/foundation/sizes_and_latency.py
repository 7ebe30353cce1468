"""Issue-2 figures in one run: .sbn size of MobileNet-v1/V2 dense and 50/70/90% group-sparse vs the ONNX size,
peak arena memory, and host latency of the engine (this build's backend) vs onnxruntime on the same model.

    python benchmarks/foundation/sizes_and_latency.py [--models mobilenet_v1,mobilenet_v2] [--repeat 10]

Latencies are medians of interleaved runs (engine, onnxruntime, engine, ...), one thread each."""

from __future__ import annotations

import argparse
import copy
import os
import tempfile

import torch

from sparsebyte import Model
from sparsebyte.bench import bench
from sparsebyte.converters import convert
from sparsebyte.models.export import export_onnx
from sparsebyte.models.registry import build
from sparsebyte.prune import prune_groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mobilenet_v1,mobilenet_v2")
    parser.add_argument("--sparsities", default="0,0.5,0.7,0.9")
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'model':<14}{'sparsity':>9}{'onnx MB':>9}{'sbn MB':>8}{'sbn/onnx':>9}{'arena MB':>9}"
          f"{'engine ms':>10}{'ort ms':>8}{'engine/ort':>11}  backend")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            base = build(name)
            for s in (float(x) for x in args.sparsities.split(",")):
                model = copy.deepcopy(base)
                if s > 0:
                    with torch.no_grad():
                        prune_groups(model, s, group=args.group)
                onnx_path = export_onnx(model, os.path.join(tmp, f"{name}_{s}.onnx"))
                sbn_path = os.path.join(tmp, f"{name}_{s}.sbn")
                convert(onnx_path, sbn_path)
                engine = Model(sbn_path)
                result = bench(engine, onnx_path, repeat=args.repeat)
                onnx_mb, sbn_mb = os.path.getsize(onnx_path) / 1e6, os.path.getsize(sbn_path) / 1e6
                print(f"{name:<14}{s:>9.0%}{onnx_mb:>9.2f}{sbn_mb:>8.2f}{sbn_mb / onnx_mb:>9.2f}"
                      f"{engine.arena_bytes / 1e6:>9.2f}{result.engine_ms:>10.1f}{result.onnx_ms:>8.1f}"
                      f"{result.ratio:>11.2f}  {engine.backend}", flush=True)


if __name__ == "__main__":
    main()
