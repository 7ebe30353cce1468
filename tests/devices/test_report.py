"""Profiles from runner reports: the METADATA join, the tables, matching two models' ops, the chart layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from device_support import make_tiny_models

from sparsebyte.report import build_profile, format_compare, format_table, pair_rows
from sparsebyte.report_plot import PANEL_WIDTH, TOP, Rect, layout, svg


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_tiny_models(tmp_path_factory.mktemp("models"))


def runner_report(names: list[str], insns: list[int] | None = None) -> dict:
    ops = [{"name": n, "op": "CONV_SPARSE" if "pw" in n else "ADD", "kernel": f"k{i}", "time_ms": 0.5 * (i + 1),
            "macs": 100 * i, "dense_macs": 200 * i} for i, n in enumerate(names)]
    for op, count in zip(ops, insns or [], strict=False):
        op["insns"] = count
    return {"device": "adb:X", "backend": "neon", "threads": 2, "latency_ms": {"median": 2.0, "min": 1.5, "max": 3.0},
            "arena_bytes": 2048, "weight_bytes": 4096, "peak_rss_kb": 3072, "ops": ops}


def test_the_metadata_join_and_the_table(models: dict[str, Path]) -> None:
    p = build_profile(models["tiny_sparse"], runner_report(["/pw/pw.0/Conv", "/Add", "/missing"]))
    pw, add, missing = p.rows
    assert (pw.sparsity, pw.group, pw.choice) == (0.5, 4, "sparse")
    assert add.sparsity is None and missing.sparsity is None  # no weights / not in METADATA
    assert p.total_cost == pytest.approx(3.0) and p.macs == 300 and p.dense_macs == 600
    table = format_table(p).splitlines()
    assert table[0].split()[:4] == ["node", "op", "kernel", "ms"]
    assert table[1].split()[-2:] == ["50%", "4"] and " 16.7 " in table[1]  # 0.5 ms of 3 ms
    assert "latency median 2.000 ms (min 1.500, max 3.000)" in table[-1] and "peak RSS 3.0 MiB" in table[-1]


def test_missing_instruction_counts_fall_back_to_times(models: dict[str, Path]) -> None:
    assert build_profile(models["tiny"], runner_report(["/Add"], [10]), "insns").metric == "insns"
    assert build_profile(models["tiny"], runner_report(["/Add", "/x"], [10]), "insns").metric == "ms"


def test_two_models_pair_by_node_name(models: dict[str, Path]) -> None:
    a = build_profile(models["tiny_sparse"], runner_report(["/pw/pw.0/Conv", "/Add"]))
    b = build_profile(models["tiny"], runner_report(["/Add", "/pw/pw.0/Conv", "/extra"]))
    pairs = [(x.name if x else None, y.name if y else None) for x, y in pair_rows(a, b)]
    assert pairs == [("/pw/pw.0/Conv", "/pw/pw.0/Conv"), ("/Add", "/Add"), (None, "/extra")]
    text = format_compare(a, b)
    pw_line = next(line for line in text.splitlines() if line.startswith("/pw/pw.0/Conv"))
    assert pw_line.split()[2:5] == ["0.500", "1.000", "2.00"] and "50%" in pw_line and "0%" in pw_line
    extra = next(line for line in text.splitlines() if line.startswith("/extra"))
    assert extra.split()[2] == "-"


def test_chart_bars_scale_to_the_panel(models: dict[str, Path]) -> None:
    p = build_profile(models["tiny_sparse"], runner_report(["/stem/stem.0/Conv", "/pw/pw.0/Conv", "/Add"]))
    width, height, shapes = layout([p])
    bars = [s for s in shapes if isinstance(s, Rect) and s.fill == "#3b6fb6"]
    cost_bars = [b for b in bars if b.y >= TOP and b.x < 300 + PANEL_WIDTH]  # not the legend
    assert max(b.w for b in cost_bars) == pytest.approx(PANEL_WIDTH)  # the costliest op spans the panel
    assert sorted(b.w for b in cost_bars) == pytest.approx([PANEL_WIDTH / 3, 2 * PANEL_WIDTH / 3, PANEL_WIDTH])
    assert svg([p]).count("<rect") == sum(isinstance(s, Rect) for s in shapes) and f'width="{width}"' in svg([p])
