"""Host wall time on x86-64, in one process and interleaved round by round: sparsebyte with its x86 kernels (the
default pip build; the level the CPU runs, `sparsebyte.backend()`), onnxruntime on the dense ONNX model, and MNN
(PyPI `MNN`): its dense model, and at every sparsity its sparse model with 4x1 blocks (4 output channels x 1 input
channel, `mnnconvert --detectSparseSpeedUp` with a SIMD_OC compression-params file of oc_blocks 4; our G=4 groups are
exactly such blocks). MobileNet v1/v2, group-pruned (G=4) at each sparsity, 1 and 2 threads.

    python benchmarks/host/bench.py [--models mobilenet_v1,mobilenet_v2] [--sparsities 0,0.3,0.5,0.7,0.9]
                                    [--threads 1,2] [--rounds 5] [--repeat 10] [--clock wall|cpu]
                                    [--out benchmarks/host/results.json]

Each round times every contender (`--repeat` runs after a warm-up, their median), in an order that rotates from round
to round; the table shows the median over rounds and the median of the per-round (paired) ratios, so load hits all
contenders alike. MNN's converter is called through its compiled module (`_tools.mnnconvert`), not the `mnnconvert`
script, whose logger pip-installs a telemetry package and phones home (../shared/toolchain.md). The results JSON
records the load average (uptime) before and after, the CPU, the backends and the versions."""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
INPUT_SHAPE = (1, 3, 224, 224)

# MNN.Compression.Pipeline (tools/converter/source/compression/MNN_compression.proto), protobuf-encoded by hand:
# version "0.0.0", one algo {type PRUNE, prune_params {type SIMD_OC, simd_oc_pruner_params {oc_blocks: [4]}}}.
_SIMD_OC = b"\x20\x04"                                         # oc_blocks (field 4) = 4
_PRUNE = b"\x08\x01" + b"\x1a" + bytes([len(_SIMD_OC)]) + _SIMD_OC  # type SIMD_OC, simd_oc_pruner_params (field 3)
_ALGO = b"\x08\x01" + b"\x1a" + bytes([len(_PRUNE)]) + _PRUNE      # type PRUNE, prune_params (field 3)
MNN_4X1_PARAMS = b"\x0a\x05" + b"0.0.0" + b"\x12" + bytes([len(_ALGO)]) + _ALGO


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "unknown"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mnn_convert(onnx_path: Path, out: Path, sparse_4x1: bool) -> Path:
    """An .mnn file; sparse_4x1 marks every conv whose 4x1 blocks are sparse enough for MNN's sparse kernels."""
    args = ["mnnconvert", "-f", "ONNX", "--modelFile", str(onnx_path), "--MNNModel", str(out), "--bizCode", "sb"]
    if sparse_4x1:
        params = out.with_suffix(".compress")
        params.write_bytes(MNN_4X1_PARAMS)
        args += ["--detectSparseSpeedUp", "--compressionParamsFile", str(params)]
    code = "import sys, _tools; _tools.mnnconvert(sys.argv[1:])"
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.is_file():
        raise RuntimeError(f"mnnconvert failed for {onnx_path}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return out


class MnnSession:
    """One MNN session (the Interpreter API) with the input copied in once; calling it runs the model."""

    def __init__(self, path: Path, threads: int, x: np.ndarray) -> None:
        import MNN

        self.interpreter = MNN.Interpreter(str(path))
        self.session = self.interpreter.createSession({"numThread": threads, "precision": "high"})  # fp32
        tensor = MNN.Tensor(INPUT_SHAPE, MNN.Halide_Type_Float, x, MNN.Tensor_DimensionType_Caffe)
        self.interpreter.getSessionInput(self.session).copyFrom(tensor)

    def __call__(self) -> None:
        self.interpreter.runSession(self.session)

    def output(self) -> np.ndarray:
        import MNN

        out = self.interpreter.getSessionOutput(self.session)
        host = MNN.Tensor(out.getShape(), MNN.Halide_Type_Float, np.zeros(out.getShape(), np.float32),
                          MNN.Tensor_DimensionType_Caffe)
        out.copyToHostTensor(host)
        return np.array(host.getData(), dtype=np.float32).reshape(out.getShape())


def median_ms(fn: Callable[[], Any], repeat: int, clock: Callable[[], float] = time.perf_counter) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = clock()
        fn()
        times.append((clock() - t0) * 1e3)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mobilenet_v1,mobilenet_v2")
    parser.add_argument("--sparsities", default="0,0.3,0.5,0.7,0.9")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--no-mnn", action="store_true", help="leave MNN out (not installed)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: perf_counter; cpu: the process's CPU time (all its threads), which a loaded "
                             "machine's preemption does not inflate: use it for 1-thread rows on a shared machine")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "host" / "results.json")
    args = parser.parse_args()

    import torch

    import sparsebyte
    from sparsebyte.bench import onnxruntime_session
    from sparsebyte.converters import convert
    from sparsebyte.models.export import export_onnx
    from sparsebyte.models.registry import build
    from sparsebyte.prune import prune_groups

    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(1)
    x = np.random.default_rng(0).standard_normal(INPUT_SHAPE, dtype=np.float32)
    meta: dict[str, Any] = {"uptime_before": uptime(), "cpu": cpu_name(), "backend": sparsebyte.backend(),
                            "python": platform.python_version(), "rounds": args.rounds, "repeat": args.repeat,
                            "clock": args.clock}
    import onnxruntime

    meta["onnxruntime"] = onnxruntime.__version__
    use_mnn = not args.no_mnn
    if use_mnn:
        import MNN

        meta["mnn"] = MNN.version()
    print(f"# {meta['cpu']}, sparsebyte {meta['backend']}, onnxruntime {meta['onnxruntime']}, MNN {meta.get('mnn')}")
    print(f"# {meta['uptime_before']}; clock {args.clock}")
    head = (f"{'model':<13}{'sparsity':>9}{'thr':>4}{'ours ms':>9}{'ort ms':>8}{'mnn ms':>8}  {'mnn model':<10}"
            f"{'ours/ort':>9}{'ours/mnn':>9}{'|d| ours':>9}{'|d| mnn':>9}")
    print(head, flush=True)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for name in args.models.split(","):
            base = build(name)
            dense_onnx = Path(export_onnx(base, tmp / f"{name}.onnx"))
            mnn_dense = mnn_convert(dense_onnx, tmp / f"{name}.mnn", sparse_4x1=False) if use_mnn else None
            for s in (float(v) for v in args.sparsities.split(",")):
                model = copy.deepcopy(base)
                if s > 0:
                    with torch.no_grad():
                        prune_groups(model, s, group=4)
                onnx_s = Path(export_onnx(model, tmp / f"{name}_{s}.onnx"))
                sbn = tmp / f"{name}_{s}.sbn"
                convert(onnx_s, sbn)
                mnn_path = None
                if use_mnn:
                    mnn_path = mnn_dense if s == 0 else mnn_convert(onnx_s, tmp / f"{name}_{s}.mnn", sparse_4x1=True)
                for threads in (int(t) for t in args.threads.split(",")):
                    ours = sparsebyte.Model(sbn, threads=threads)
                    ort = onnxruntime_session(dense_onnx, threads)
                    ort_in = ort.get_inputs()[0].name
                    contenders: dict[str, Callable[[], Any]] = {
                        "ours": lambda m=ours: m.run(x),
                        "ort": lambda o=ort, i=ort_in: o.run(None, {i: x}),
                    }
                    mnn = None
                    if mnn_path is not None:
                        mnn = MnnSession(mnn_path, threads, x)
                        contenders["mnn"] = mnn
                    # ours vs onnxruntime on the same weights (the pruned ONNX): the conversion's faithfulness
                    ort_s = onnxruntime_session(onnx_s, 1)
                    ref = ort_s.run(None, {ort_s.get_inputs()[0].name: x})[0]
                    diff_ort = float(np.max(np.abs(np.asarray(ours.run(x)) - ref)))
                    diff_mnn = None
                    if mnn is not None:
                        mnn()  # the output exists once a run has filled it
                        diff_mnn = float(np.max(np.abs(mnn.output() - ref)))
                    times: dict[str, list[float]] = {k: [] for k in contenders}
                    order = list(contenders)
                    for r in range(args.rounds):
                        for k in order[r % len(order):] + order[: r % len(order)]:
                            times[k].append(median_ms(contenders[k], args.repeat, clock))
                    med = {k: statistics.median(v) for k, v in times.items()}
                    paired = {f"ours/{k}": statistics.median(a / b for a, b in zip(times["ours"], v, strict=True))
                              for k, v in times.items() if k != "ours"}
                    row = {"model": name, "sparsity": s, "threads": threads, "backend": ours.backend,
                           "ms": {k: round(v, 3) for k, v in med.items()},
                           "rounds_ms": {k: [round(t, 3) for t in v] for k, v in times.items()},
                           "paired": {k: round(v, 3) for k, v in paired.items()},
                           "mnn_model": ("dense" if s == 0 else "sparse 4x1") if mnn is not None else None,
                           "max_abs_diff_vs_ort": diff_ort, "mnn_max_abs_diff_vs_ort": diff_mnn}
                    rows.append(row)
                    mnn_ms = f"{med['mnn']:>8.2f}" if "mnn" in med else f"{'-':>8}"
                    mnn_ratio = f"{paired['ours/mnn']:>9.2f}" if "ours/mnn" in paired else f"{'-':>9}"
                    print(f"{name:<13}{s:>9.0%}{threads:>4}{med['ours']:>9.2f}{med['ort']:>8.2f}{mnn_ms}  "
                          f"{row['mnn_model'] or '-':<10}{paired['ours/ort']:>9.2f}{mnn_ratio}{diff_ort:>9.1e}"
                          f"{diff_mnn if diff_mnn is not None else float('nan'):>9.1e}",
                          flush=True)
                    del ours, ort, mnn
    meta["uptime_after"] = uptime()
    print(f"# {meta['uptime_after']}")
    targets = check_targets(rows)
    for line in targets:
        print(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "rows": rows, "targets": targets}, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


def check_targets(rows: list[dict[str, Any]]) -> list[str]:
    """Issue 16's targets, each as a line: dense within 1.5x of onnxruntime (1 thread); 50 % faster than onnxruntime
    dense; 90 % faster than MNN's 90 % 4x1-block model (1 and 2 threads)."""
    out = []
    for r in rows:
        where = f"{r['model']} {r['sparsity']:.0%} {r['threads']}t"
        if r["sparsity"] == 0 and r["threads"] == 1:
            v = r["paired"]["ours/ort"]
            out.append(f"{'MET ' if v <= 1.5 else 'MISS'} dense within 1.5x of onnxruntime: {where} ours/ort {v:.2f}")
        if r["sparsity"] == 0.5:
            v = r["paired"]["ours/ort"]
            out.append(f"{'MET ' if v < 1.0 else 'MISS'} 50% faster than onnxruntime dense: {where} ours/ort {v:.2f}")
        if r["sparsity"] == 0.9 and "ours/mnn" in r["paired"]:
            v = r["paired"]["ours/mnn"]
            out.append(f"{'MET ' if v < 1.0 else 'MISS'} 90% faster than MNN 90% 4x1: {where} ours/mnn {v:.2f}")
    return out


if __name__ == "__main__":
    sys.exit(main())
