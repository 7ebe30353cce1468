"""Shared by tests/zoo/test_seeded_*.py: the seeded zoo entries (zoo/registry.py SEEDED_MODELS), each converted once
per session (converted()), their feeds and onnxruntime's outputs, and the merging of a model's exporter variants into
one .sbn so that one qemu or node process runs them all."""

from __future__ import annotations

import atexit
import hashlib
import shutil
import sys
import tempfile
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: the zoo package

from sparsebyte import sbnformat  # noqa: E402
from sparsebyte.converters import convert  # noqa: E402
from zoo import harness, model_file  # noqa: E402
from zoo.registry import SEEDED_MODELS, ZooModel  # noqa: E402

ENTRIES: dict[str, ZooModel] = {m.name: m for m in SEEDED_MODELS}
FACTORIES: list[str] = list(dict.fromkeys(m.source.factory for m in SEEDED_MODELS))  # type: ignore[union-attr]


def variants(factory: str) -> list[ZooModel]:
    """The entries of one definition: opsets 11, 13, 18 and dynamo."""
    return [m for m in SEEDED_MODELS if m.source.factory == factory]  # type: ignore[union-attr]


@lru_cache(maxsize=1)
def workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="sparsebyte-seeded-"))
    atexit.register(shutil.rmtree, path, True)
    return path


@cache
def converted(name: str) -> Path:
    """The entry's .sbn, converted once per session: the opset-11 variant of each model by the `sparsebyte convert`
    command line (zoo/harness.py, no option), the others in-process by the same convert() (a process start costs
    more than most of these conversions)."""
    entry, out = ENTRIES[name], workdir() / f"{name}.sbn"
    if entry.opset == 11:
        return harness.convert(entry, out)
    convert(model_file(entry), out, **entry.convert_kwargs)  # type: ignore[arg-type]
    return out


@cache
def feeds(name: str) -> dict[str, np.ndarray]:
    return ENTRIES[name].feeds()


@cache
def reference(name: str) -> dict[str, np.ndarray]:
    return harness.reference(ENTRIES[name], feeds(name))


def merge(parts: list[Path], out: Path) -> Path:
    """One .sbn holding the graphs of `parts` side by side (tensors and nodes prefixed "v<i>/"; inputs and outputs
    in part order), so that a device runs all of them in one process. Each part is the converter's file as written,
    only renamed: what runs is exactly what each conversion produced."""
    w = sbnformat.SbnWriter()
    inputs: list[int] = []
    outputs: list[int] = []
    for i, part_path in enumerate(parts):
        part = sbnformat.read_model(part_path)
        ids = []
        for t in part.tensors:
            tname = f"v{i}/{t.name}"[:sbnformat.MAX_NAME]
            ids.append(w.add_tensor(tname, t.shape) if t.data is None else w.add_constant(tname, t.data))
        for n in part.nodes:
            w.add_node(n.op, f"v{i}/{n.name}"[:sbnformat.MAX_NAME], [ids[k] for k in n.inputs],
                       [ids[k] for k in n.outputs], n.attrs, n.act)
        inputs += [ids[k] for k in part.inputs]
        outputs += [ids[k] for k in part.outputs]
    w.set_graph(inputs, outputs)
    w.write(out)
    return out


def program_digest(path: Path) -> str:
    """A digest of what the engine executes (nodes, attributes, shapes, constants), names ignored: two files with
    the same digest compute the same outputs bit for bit on any device (the engine is deterministic)."""
    model = sbnformat.read_model(path)
    h = hashlib.sha256(repr((model.inputs, model.outputs)).encode())
    for t in model.tensors:
        h.update(repr((t.shape, t.dtype)).encode())
        if t.data is not None:
            h.update(np.ascontiguousarray(t.data).tobytes())
    for n in model.nodes:
        h.update(repr((n.op, n.inputs, n.outputs, n.attrs, n.act)).encode())
    return h.hexdigest()


@cache
def merged(factory: str) -> tuple[Path, list[list[str]]]:
    """The converted variants of one definition merged into one .sbn for the device runs; variants whose converted
    programs are identical (program_digest: TorchScript's opsets 11, 13 and 18 mostly convert to the same program)
    run once. Returns the file and, per part in input/output order, the entry names it stands for."""
    parts: dict[str, list[str]] = {}
    for m in variants(factory):
        parts.setdefault(program_digest(converted(m.name)), []).append(m.name)
    groups = list(parts.values())
    return merge([converted(g[0]) for g in groups], workdir() / f"{factory}-variants.sbn"), groups


def report_line(name: str, where: str, got: dict[str, np.ndarray]) -> str:
    """One measured line (printed by the tests; `pytest -s` shows them): errors against onnxruntime and top-1."""
    want = reference(name)
    err = harness.errors(got, want)
    scale = {k: float(np.abs(v).max()) for k, v in want.items()}
    top1 = ""
    if ENTRIES[name].tolerance.top1:
        top1 = f" top-1 {'same' if all(got[k].argmax() == want[k].argmax() for k in want) else 'DIFFERENT'}"
    return f"{name} {where}: " + ", ".join(f"{k} max abs error {err[k]:.3g} (scale {scale[k]:.3g})" for k in want) \
        + top1
