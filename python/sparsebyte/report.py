"""A per-layer profile: the runner's report (any device) joined with the .sbn METADATA (sparsity, group, choice per
layer), as text tables, one model or two side by side (`--compare`: dense vs sparse). Plots are in report_plot.py."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class LayerRow:
    name: str
    op: str
    kernel: str
    time_ms: float
    macs: int
    dense_macs: int
    insns: int | None = None  # executed guest instructions (qemu device)
    sparsity: float | None = None  # fraction of the layer's weights pruned (METADATA), None for ops without weights
    group: int | None = None
    choice: str = ""


@dataclass
class Profile:
    model: str
    device: str
    backend: str
    threads: int
    metric: str  # "ms" or "insns": the per-layer cost the tables and plots use
    rows: list[LayerRow]
    latency_ms: dict[str, float] = field(default_factory=dict)  # median/min/max of whole runs
    run_insns: int | None = None
    work_insns: int | None = None  # every thread's work (waiting excluded); run_insns is then the critical path
    arena_bytes: int = 0
    weight_bytes: int = 0
    peak_rss_kb: int | None = None
    note: str = ""

    def cost(self, row: LayerRow) -> float:
        return float(row.insns or 0) if self.metric == "insns" else row.time_ms

    @property
    def total_cost(self) -> float:
        return sum(self.cost(r) for r in self.rows)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def dense_macs(self) -> int:
        return sum(r.dense_macs for r in self.rows)

    @property
    def label(self) -> str:
        return Path(self.model).stem

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LayerNote:
    """What the converter's METADATA says about one layer. The engine checks only the section's CRC, so each field
    is taken only when it has the type the converter writes; anything else reads as absent."""

    sparsity: float | None = None
    group: int | None = None
    choice: str = ""


def read_metadata(model: Any) -> tuple[dict[str, Any], str | None]:
    """(the METADATA object, None), or ({}, why it is ignored) when it is not usable JSON: the notes are optional,
    the engine accepted the file."""
    from .runtime import SparsebyteError

    try:
        return model.metadata, None
    except SparsebyteError as e:
        return {}, str(e)
    except RecursionError:  # json's limit on nesting
        return {}, "METADATA is nested too deeply"


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def layer_notes(meta: dict[str, Any]) -> dict[str, LayerNote]:
    """{node name: note} from a METADATA object of any shape (entries without a string "node" are skipped)."""
    layers = meta.get("layers")
    notes: dict[str, LayerNote] = {}
    for lay in layers if isinstance(layers, list) else []:
        if not isinstance(lay, dict) or not isinstance(lay.get("node"), str):
            continue
        sparsity, choice = lay.get("sparsity"), lay.get("choice")
        if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float)) or not math.isfinite(sparsity):
            sparsity = None
        notes[lay["node"]] = LayerNote(None if sparsity is None else float(sparsity), _count(lay.get("group")) or None,
                                       choice if isinstance(choice, str) else "")
    return notes


def metadata_totals(meta: dict[str, Any]) -> tuple[int, int] | None:
    """(sparse conv/fc layers, conv/fc layers) from METADATA totals, when both are counts."""
    totals = meta.get("totals")
    if not isinstance(totals, dict):
        return None
    layers, sparse = _count(totals.get("layers")), _count(totals.get("sparse_layers", 0))
    return (sparse, layers) if layers and sparse is not None else None


def layer_metadata(model: str | Path) -> dict[str, LayerNote]:
    """{node name: LayerNote}, read through the engine; empty when the file has no usable METADATA (the profile then
    lacks sparsity)."""
    from .runtime import Model

    with Model(model) as m:
        return layer_notes(read_metadata(m)[0])


def build_profile(model: str | Path, report: dict[str, Any], metric: str = "ms") -> Profile:
    """Join the runner's per-op rows with the METADATA layers by node name."""
    meta = layer_metadata(model)
    rows = []
    for op in report.get("ops", []):
        note = meta.get(str(op.get("name")), LayerNote())
        rows.append(LayerRow(name=str(op.get("name", "?")), op=str(op.get("op", "?")), kernel=str(op.get("kernel", "")),
                             time_ms=float(op.get("time_ms", 0.0)), macs=int(op.get("macs", 0)),
                             dense_macs=int(op.get("dense_macs", 0)),
                             insns=int(op["insns"]) if "insns" in op else None,
                             sparsity=note.sparsity, group=note.group, choice=note.choice))
    if metric == "insns" and any(r.insns is None for r in rows):
        metric = "ms"  # no per-op counts: fall back to times rather than show zeros
    rss = report.get("peak_rss_kb")
    return Profile(model=str(model), device=str(report.get("device", "?")), backend=str(report.get("backend", "?")),
                   threads=int(report.get("threads", 1)), metric=metric, rows=rows,
                   latency_ms=dict(report.get("latency_ms", {})), run_insns=report.get("run_insns"),
                   work_insns=report.get("work_insns"),
                   arena_bytes=int(report.get("arena_bytes", 0)), weight_bytes=int(report.get("weight_bytes", 0)),
                   peak_rss_kb=int(rss) if isinstance(rss, int) and rss >= 0 else None,
                   note=str(report.get("note", "")))


# ---- text ----
def _short(name: str, width: int) -> str:
    return name if len(name) <= width else "..." + name[-(width - 3):]  # the tail names the layer


def _fmt_cost(value: float, metric: str) -> str:
    return f"{value:,.0f}" if metric == "insns" else f"{value:.3f}"


def _fmt_sparsity(s: float | None) -> str:
    return f"{s:.0%}" if s is not None else "-"


def cost_header(metric: str) -> str:
    return "insns" if metric == "insns" else "ms"


def summary(p: Profile) -> str:
    parts = [f"{p.label} on {p.device} ({p.backend}, {p.threads} thread{'s' if p.threads > 1 else ''})"]
    if p.metric == "insns" and p.threads > 1:
        work = f", {p.work_insns:,.0f} in all threads" if p.work_insns else ""
        parts.append(f"critical path {p.run_insns or p.total_cost:,.0f} instructions on {p.threads} equal cores"
                     f"{work} (emulated: counts, not times)")
    elif p.metric == "insns":
        parts.append(f"run {p.run_insns or p.total_cost:,.0f} instructions (emulated: counts, not times)")
    elif p.latency_ms:
        lat = p.latency_ms
        parts.append(f"latency median {lat.get('median', 0):.3f} ms (min {lat.get('min', 0):.3f}, "
                     f"max {lat.get('max', 0):.3f})")
    memory = f"arena {p.arena_bytes / 1024:.1f} KiB, weights {p.weight_bytes / 1024:.1f} KiB"
    if p.peak_rss_kb is not None:
        memory += f", peak RSS {p.peak_rss_kb / 1024:.1f} MiB" + (" (qemu's)" if p.device == "qemu" else "")
    parts.append(memory)
    parts.append(f"MACs {p.macs / 1e6:.2f} M of {p.dense_macs / 1e6:.2f} M dense")
    return "; ".join(parts)


def format_table(p: Profile) -> str:
    """One line per op: node, op, kernel, cost and its share, MACs, sparsity, G; then the total and a summary."""
    unit = cost_header(p.metric)
    total = p.total_cost or 1.0
    head = (f"{'node':<36} {'op':<15} {'kernel':<34} {unit:>12} {'%':>5} {'MMACs':>8} {'dense':>8} {'sparse':>6} "
            f"{'G':>2}")
    lines = [head]
    for r in p.rows:
        lines.append(f"{_short(r.name, 36):<36} {r.op[:15]:<15} {_short(r.kernel, 34):<34} "
                     f"{_fmt_cost(p.cost(r), p.metric):>12} {100 * p.cost(r) / total:>5.1f} {r.macs / 1e6:>8.3f} "
                     f"{r.dense_macs / 1e6:>8.3f} {_fmt_sparsity(r.sparsity):>6} {r.group or '-':>2}")
    lines.append(f"{'total':<36} {'':<15} {'':<34} {_fmt_cost(p.total_cost, p.metric):>12} {100.0:>5.1f} "
                 f"{p.macs / 1e6:>8.3f} {p.dense_macs / 1e6:>8.3f}")
    lines.append(summary(p))
    if p.note:
        lines.append(f"note: {p.note}")
    return "\n".join(lines)


def pair_rows(a: Profile, b: Profile) -> list[tuple[LayerRow | None, LayerRow | None]]:
    """Rows of two models matched by node name (the same network converted twice keeps its node names), in a's
    order; nodes only in b follow."""
    by_name = {r.name: r for r in b.rows}
    pairs: list[tuple[LayerRow | None, LayerRow | None]] = [(r, by_name.pop(r.name, None)) for r in a.rows]
    pairs += [(None, r) for r in b.rows if r.name in by_name]
    return pairs


def format_compare(a: Profile, b: Profile) -> str:
    """Side by side: per node the cost of a and b, b / a, and each one's kernel and sparsity."""
    metric = a.metric if a.metric == b.metric else "ms"
    a.metric = b.metric = metric
    unit = cost_header(metric)
    lines = [f"a = {a.model} ({a.device}), b = {b.model} ({b.device})",
             f"{'node':<36} {'op':<12} {'a ' + unit:>14} {'b ' + unit:>14} {'b/a':>6} {'a sp.':>6} {'b sp.':>6}"
             "  kernels"]
    for ra, rb in pair_rows(a, b):
        ref = ra or rb
        assert ref is not None
        ca, cb = (a.cost(ra) if ra else None), (b.cost(rb) if rb else None)
        ratio = f"{cb / ca:.2f}" if ca and cb is not None else "-"
        kernels = " | ".join(dict.fromkeys(r.kernel for r in (ra, rb) if r))
        lines.append(f"{_short(ref.name, 36):<36} {ref.op[:12]:<12} "
                     f"{_fmt_cost(ca, metric) if ca is not None else '-':>14} "
                     f"{_fmt_cost(cb, metric) if cb is not None else '-':>14} {ratio:>6} "
                     f"{_fmt_sparsity(ra.sparsity if ra else None):>6} {_fmt_sparsity(rb.sparsity if rb else None):>6}"
                     f"  {kernels}")
    ta, tb = a.total_cost, b.total_cost
    lines.append(f"{'total':<36} {'':<12} {_fmt_cost(ta, metric):>14} {_fmt_cost(tb, metric):>14} "
                 f"{(tb / ta if ta else 0):>6.2f}")
    lines += [f"a: {summary(a)}", f"b: {summary(b)}"]
    if ta and tb:
        (cheap, c_cost), (dear, d_cost) = sorted(((a, ta), (b, tb)), key=lambda pair: pair[1])
        what = "fewer instructions" if metric == "insns" else "less time"
        lines.append(f"{cheap.label} needs {d_cost / c_cost:.2f}x {what} than {dear.label} "
                     f"({dear.macs / max(cheap.macs, 1):.2f}x fewer MACs)")
    return "\n".join(lines)
