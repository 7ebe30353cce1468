"""Converter fuzzing: structure-aware ONNX mutants (onnx_mutate.py) of the op cases through convert(), corrupted and
truncated .tflite files (the tests/tflite op cases), and mutated METADATA JSON of converted files through the engine,
report.py and `sparsebyte info`. Every failure must be a
ConversionError / SparsebyteError (never another exception, never a crash), a failed convert leaves no file (a
previous output untouched, no temporary file), and what converts must load in the engine and run.

test_fuzz.py runs a bounded number of executions in CI; for the long figure:

    python tests/converter/fuzz_converter.py --seconds 600      # executions, outcomes, crashes (workers that died)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
for _d in (HERE, HERE.parent / "ops", HERE.parent / "tflite"):
    if str(_d) not in sys.path:
        sys.path.insert(0, str(_d))

from onnx_mutate import mutate  # noqa: E402
from op_cases import CASES  # noqa: E402

import sparsebyte  # noqa: E402
from sparsebyte import sbnformat  # noqa: E402
from sparsebyte.converters import ConversionError, convert  # noqa: E402

PREVIOUS = b"previous output"
MAX_RUN_ELEMENTS = 1 << 20  # converted mutants with larger arenas are loaded, not run


class Finding(Exception):
    """A broken promise: another exception, a half-written file, a converted file the engine rejects."""


def onnx_execution(seed: int, work: Path) -> str:
    """One mutant of one op case through convert(); the outcome ("converted", "refused") or Finding."""
    rng = np.random.default_rng(seed)
    case = CASES[int(rng.integers(0, len(CASES)))]
    mutant = mutate(case.build()[0], rng)
    out = work / "out.sbn"
    existing = bool(rng.integers(0, 2))
    if existing:
        out.write_bytes(PREVIOUS)
    try:
        convert(mutant, out)
    except ConversionError as e:
        left = sorted(p.name for p in work.iterdir())
        if not str(e) or left != (["out.sbn"] if existing else []) or (existing and out.read_bytes() != PREVIOUS):
            raise Finding(f"{case.id} seed {seed}: refused ({e}) but left {left}") from e
        out.unlink(missing_ok=True)
        return "refused"
    except Exception as e:
        raise Finding(f"{case.id} seed {seed}: {type(e).__name__}: {e}\n{traceback.format_exc()}") from e
    try:
        with sparsebyte.Model(out) as model:
            if model.arena_bytes <= 4 * MAX_RUN_ELEMENTS:
                model.run({t.name: np.ones(t.shape, np.float32) for t in model.inputs})
    except sparsebyte.SparsebyteError as e:
        raise Finding(f"{case.id} seed {seed}: converted, but the engine refuses the file: {e}") from e
    finally:
        out.unlink(missing_ok=True)
    return "converted"


def tflite_bases() -> list[bytes]:
    """The small .tflite files of tests/tflite/test_tflite_ops.py (every mapped op, sparse tensors, fp16 chains)."""
    from test_tflite_ops import CASES as TFLITE_CASES

    return [build()[0] for build in TFLITE_CASES.values()]


def _mutate_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    """Truncation, flipped bytes, a random 32-bit word (an offset, length or index gone wrong), a zeroed span."""
    buf = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 4))
        if kind == 0:
            del buf[int(rng.integers(0, len(buf))):]
        elif kind == 1:
            for _ in range(int(rng.integers(1, 9))):
                if buf:
                    buf[int(rng.integers(0, len(buf)))] ^= int(rng.integers(1, 256))
        elif kind == 2 and len(buf) >= 4:
            at = int(rng.integers(0, len(buf) - 3)) & ~3  # flatbuffer fields are 4-byte aligned
            word = int(rng.choice([0, 1, 0xFFFFFFFF, 0x7FFFFFFF, int(rng.integers(0, 1 << 32)), len(buf)]))
            buf[at:at + 4] = word.to_bytes(4, "little")
        elif buf:
            at = int(rng.integers(0, len(buf)))
            n = min(int(rng.integers(1, 64)), len(buf) - at)
            buf[at:at + n] = bytes(n)
        if len(buf) < 8:
            break
    return bytes(buf)


def tflite_execution(seed: int, bases: list[bytes], work: Path) -> str:
    """One corrupted or truncated .tflite through convert(): converted (and the engine loads and runs it) or
    refused with a ConversionError that leaves nothing behind."""
    rng = np.random.default_rng(seed)
    index = int(rng.integers(0, len(bases)))
    src, out = work / "in.tflite", work / "out.sbn"
    src.write_bytes(_mutate_bytes(bases[index], rng))
    existing = bool(rng.integers(0, 2))
    if existing:
        out.write_bytes(PREVIOUS)
    where = f"tflite case {index} seed {seed}"
    try:
        convert(src, out)
    except ConversionError as e:
        left = sorted(p.name for p in work.iterdir())
        if not str(e) or left != sorted(["in.tflite"] + (["out.sbn"] if existing else [])) or \
                (existing and out.read_bytes() != PREVIOUS):
            raise Finding(f"{where}: refused ({e}) but left {left}") from e
        return "refused"
    except Exception as e:
        raise Finding(f"{where}: {type(e).__name__}: {e}\n{traceback.format_exc()}") from e
    try:
        with sparsebyte.Model(out) as model:
            if model.arena_bytes <= 4 * MAX_RUN_ELEMENTS:
                model.run({t.name: np.ones(t.shape, np.float32) for t in model.inputs})
    except sparsebyte.SparsebyteError as e:
        raise Finding(f"{where}: converted, but the engine refuses the file: {e}") from e
    return "converted"


def _random_json(rng: np.random.Generator, depth: int = 0) -> object:
    kind = int(rng.integers(0, 8 if depth < 4 else 5))
    simple: list[object] = [None, True, int(rng.integers(-(2**40), 2**40)), float(rng.standard_normal()), "s"]
    if kind < 5:
        return simple[kind]
    if kind == 5:
        return [_random_json(rng, depth + 1) for _ in range(int(rng.integers(0, 4)))]
    keys = ["node", "sparsity", "group", "choice", "layers", "totals", "producer", "source", "x"]
    return {str(keys[int(rng.integers(0, len(keys)))]): _random_json(rng, depth + 1)
            for _ in range(int(rng.integers(0, 4)))}


def _mutate_metadata(meta: dict, rng: np.random.Generator) -> bytes:
    """The converter's METADATA with values replaced by random JSON of any type, keys dropped, or the text itself
    truncated, deeply nested, given NaN literals or invalid UTF-8."""
    how = int(rng.integers(0, 6))
    if how == 0:
        return json.dumps(_random_json(rng)).encode()
    text = json.dumps(meta).encode()
    if how == 1:
        return text[: int(rng.integers(0, len(text)))]
    if how == 2:
        depth = int(rng.choice([10, 1000, 100_000]))
        return b'{"layers": ' + b"[" * depth + b"]" * depth + b"}"
    if how == 3:
        return text.replace(b"0.5", b"NaN").replace(b'"sparse"', b"\xff\xfe")
    layers = meta.get("layers", [])
    for lay in layers:
        for key in list(lay):
            if rng.random() < 0.4:
                lay[key] = _random_json(rng, 2)
            elif rng.random() < 0.2:
                del lay[key]
    if how == 5:
        meta["totals"] = _random_json(rng, 2)
    return json.dumps(meta).encode()


def metadata_execution(seed: int, base: Path, work: Path) -> str:
    """base (a converted .sbn) with mutated METADATA: the engine and sbnformat read it or refuse it with their
    errors; report.layer_notes and `sparsebyte info` never fail on it ("read" / "ignored", or Finding)."""
    from sparsebyte import cli
    from sparsebyte.report import layer_notes, metadata_totals, read_metadata

    rng = np.random.default_rng(seed)
    src = sbnformat.read_model(base)
    raw = _mutate_metadata(json.loads(json.dumps(src.metadata or {})), rng)
    holder = {"p": "x" * (len(raw) + 8)}
    data = bytearray(src.to_writer().to_bytes(holder))
    payload = json.dumps(holder, sort_keys=True).encode()
    at = data.index(payload)
    data[at:at + len(payload)] = raw.ljust(len(payload), b" ")
    sbnformat.seal(data)
    path = work / "meta.sbn"
    path.write_bytes(bytes(data))
    try:
        with contextlib.suppress(ValueError, RecursionError):  # sbnformat's reader refuses bad METADATA JSON
            sbnformat.read_model(bytes(data))
        with sparsebyte.Model(bytes(data)) as model:
            meta, problem = read_metadata(model)
            layer_notes(meta)
            metadata_totals(meta)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
            status = cli.main(["info", str(path)])
        if status != 0:
            raise Finding(f"metadata seed {seed}: info exit {status}: {err.getvalue().strip()}")
    except Finding:
        raise
    except Exception as e:
        raise Finding(f"metadata seed {seed}: {type(e).__name__}: {e}\n{traceback.format_exc()}") from e
    finally:
        path.unlink(missing_ok=True)
    return "ignored" if problem else "read"


def metadata_base(work: Path) -> Path:
    """A converted group-sparse conv (an op case) with real METADATA layers."""
    case = next(c for c in CASES if c.id.startswith("sparse3x3_g4"))
    base = work / "base.sbn"
    convert(case.build()[0], base, group=4)
    return base


def run(first_seed: int, count: int) -> dict:
    outcomes: Counter[str] = Counter()
    findings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sb-fuzz-") as tmp:
        work = Path(tmp) / "w"
        work.mkdir()
        base = metadata_base(Path(tmp))
        tflites = tflite_bases()
        for seed in range(first_seed, first_seed + count):
            for name, execute in (("onnx", lambda s: onnx_execution(s, work)),
                                  ("metadata", lambda s: metadata_execution(s, base, work)),
                                  ("tflite", lambda s: tflite_execution(s, tflites, work))):
                try:
                    outcomes[f"{name} {execute(seed)}"] += 1
                except Finding as e:
                    outcomes[f"{name} finding"] += 1
                    findings.append(str(e))
                for p in work.iterdir():
                    p.unlink()
    return {"outcomes": dict(outcomes), "findings": findings}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="time budget (default 60)")
    parser.add_argument("--batch", type=int, default=200, help="seeds per worker process (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.worker:  # one batch in this process; the parent counts a worker that dies as a crash
        print(json.dumps(run(ns.seed, ns.batch)))
        return 0
    total: Counter[str] = Counter()
    findings: list[str] = []
    crashes: list[str] = []
    seed, end = ns.seed, time.monotonic() + ns.seconds
    while time.monotonic() < end:
        proc = subprocess.run([sys.executable, __file__, "--worker", "--seed", str(seed), "--batch", str(ns.batch)],
                              capture_output=True, text=True, env=dict(os.environ, PYTHONHASHSEED="0"))
        if proc.returncode != 0:
            crashes.append(f"seeds {seed}..{seed + ns.batch - 1}: exit {proc.returncode}: {proc.stderr[-2000:]}")
        else:
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            total.update(result["outcomes"])
            findings += result["findings"]
        seed += ns.batch
    executions = sum(total.values())
    print(json.dumps({"executions": executions, "seeds": [ns.seed, seed - 1], "outcomes": dict(sorted(total.items())),
                      "findings": len(findings), "crashes": len(crashes)}, indent=1))
    for text in findings[:20] + crashes:
        print("---", text, sep="\n")
    return 1 if findings or crashes else 0


if __name__ == "__main__":
    sys.exit(main())
