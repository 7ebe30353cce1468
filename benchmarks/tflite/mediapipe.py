"""MediaPipe 0.10.14's float models (zoo/registry.py TFLITE_MODELS): conversion, accuracy against LiteRT on the
host, under qemu-aarch64 and in node, sparse layers and their G, and aarch64 instruction counts (qemu plugin,
-cpu default of tools/qemu-insn-count) of the sparse conversion and of the same model converted with --dense.

    python3 benchmarks/tflite/mediapipe.py            # table on stdout, benchmarks/tflite/results.json
    python3 benchmarks/tflite/mediapipe.py --only mediapipe-pose-detection

Errors are max |engine - LiteRT builtin kernels| / max |LiteRT| over the outputs (the tests' 1e-4 bound)."""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sparsebyte import Model  # noqa: E402
from sparsebyte.check import litert_interpreter  # noqa: E402
from sparsebyte.converters import convert  # noqa: E402
from sparsebyte.devices import NodeDevice, QemuDevice, RunOptions  # noqa: E402
from zoo import model_file  # noqa: E402
from zoo.registry import TFLITE_MODELS, ZooModel  # noqa: E402


def litert(source: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    it = litert_interpreter(str(source), "builtin")
    for d, x in zip(it.get_input_details(), feeds.values(), strict=True):
        it.set_tensor(d["index"], x)
    it.invoke()
    return {d["name"]: np.array(it.get_tensor(d["index"])) for d in it.get_output_details()}


def rel_error(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> float:
    return max(float(np.abs(got[n].reshape(w.shape).astype(np.float64) - w).max()) / max(float(np.abs(w).max()),
                                                                                           1e-6)
               for n, w in want.items())


def devices(root: Path | None) -> dict[str, tuple[type, dict]]:
    """qemu/node device factories; `root`: another checkout whose aarch64 runner and web/dist to use."""
    qemu = {"runner": root / "build" / "aarch64" / "sparsebyte-run"} if root else {}
    node = {"runner": root / "web" / "tools" / "run-model.mjs"} if root else {}
    return {"qemu": (QemuDevice, qemu), "wasm": (NodeDevice, node)}


def measure(m: ZooModel, work: Path, root: Path | None = None) -> dict:
    source = model_file(m)
    sbn, dense = work / f"{m.name}.sbn", work / f"{m.name}.dense.sbn"
    t = time.perf_counter()
    report = convert(source, sbn)
    seconds = time.perf_counter() - t
    convert(source, dense, force_dense=True)
    feeds = m.feeds()
    want = litert(source, feeds)
    row: dict = {"model": m.name, "converts": True, "convert_s": round(seconds, 2), "layers": len(report.layers),
                 "nodes": report.node_count,
                 "sparse_layers": report.sparse_layers,
                 "G": dict(collections.Counter(r.group for r in report.layers if r.choice == "sparse")),
                 "macs": report.macs, "dense_macs": report.dense_macs}
    with Model(sbn) as model:
        res = model.run(feeds)
        names = [o.name for o in model.outputs]
    row["host"] = rel_error(res if isinstance(res, dict) else {names[0]: res}, want)
    files = []
    for k, x in enumerate(feeds.values()):
        files.append(work / f"{m.name}.in{k}.npy")
        np.save(files[-1], x)
    one = RunOptions(warmup=0, repeat=1)
    made = devices(root)
    for key, (cls, kwargs) in made.items():
        dev = cls(count_insns=False, **kwargs) if key == "qemu" else cls(**kwargs)
        run = dev.run(sbn, files, num_outputs=len(names), options=one)
        row[key] = rel_error(dict(zip(names, run.outputs, strict=True)), want)
    for key, path in (("insns", sbn), ("dense_insns", dense)):
        run = QemuDevice(count_insns=True, **made["qemu"][1]).run(path, files, num_outputs=0, options=one)
        row[key] = int(run.report["run_insns"])
        if key == "insns":
            fam: collections.Counter[str] = collections.Counter()
            for op in run.report["ops"]:
                fam[op.get("kernel_family") or op.get("kernel") or op.get("op", "?")] += int(op.get("insns", 0))
            row["insns_by_family"] = dict(fam.most_common(6))
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", help="a model name (repeatable)")
    parser.add_argument("--json", default=str(Path(__file__).with_name("results.json")))
    parser.add_argument("--build-root", type=Path, help="use this checkout's aarch64 runner and web/dist (built)")
    ns = parser.parse_args()
    models = [m for m in TFLITE_MODELS if not ns.only or m.name in ns.only]
    rows = []
    with tempfile.TemporaryDirectory(prefix="sb-mediapipe-") as tmp:
        for m in models:
            rows.append(measure(m, Path(tmp), ns.build_root))
            r = rows[-1]
            print(f"{r['model']:<32} sparse {r['sparse_layers']:>2}/{r['layers']:<3} G {r['G'] or '-'}  err host "
                  f"{r['host']:.2g} qemu {r['qemu']:.2g} wasm {r['wasm']:.2g}  insns {r['insns'] / 1e6:.1f}M "
                  f"(dense {r['dense_insns'] / 1e6:.1f}M)", flush=True)
    Path(ns.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
