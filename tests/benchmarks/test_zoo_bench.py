"""benchmarks/zoo/bench.py end to end on a tiny CNN, one round: host (Python Model vs onnxruntime; the SIMDe runner
is left out: nothing else in CI builds it), node (the wasm build, onnxruntime-web, the tfjs port), qemu instruction
counts; plus a model that does not convert. Checks the JSON and markdown structure and the accuracy figures, never
the timings."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[2]


def _bench_module():
    spec = importlib.util.spec_from_file_location("zoo_bench", REPO / "benchmarks" / "zoo" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["zoo_bench"] = module
    spec.loader.exec_module(module)
    return module


def _tiny_cnn(path: Path) -> None:
    """Conv 3x3 + Relu -> depthwise 3x3 + Clip(0, 6) -> Conv 1x1 -> HardSwish ... Add -> GAP -> Flatten -> Gemm."""
    rng = np.random.default_rng(3)

    def init(name: str, *shape: int) -> onnx.TensorProto:
        return numpy_helper.from_array((rng.standard_normal(shape) * 0.3).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=8),
        helper.make_node("Clip", ["c2", "lo", "hi"], ["r2"]),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"]),
        helper.make_node("HardSwish", ["c3"], ["h3"]),
        helper.make_node("Add", ["h3", "r1"], ["a"]),
        helper.make_node("GlobalAveragePool", ["a"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1),
    ]
    inits = [init("w1", 8, 3, 3, 3), init("b1", 8), init("w2", 8, 1, 3, 3), init("b2", 8), init("w3", 8, 8, 1, 1),
             init("b3", 8), init("wf", 5, 8), init("bf", 5),
             numpy_helper.from_array(np.array(0, np.float32), "lo"),
             numpy_helper.from_array(np.array(6, np.float32), "hi")]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))


def _unsupported(path: Path) -> None:
    """A model whose only op (Det) is outside sparsebyte's operator set."""
    graph = helper.make_graph([helper.make_node("Det", ["x"], ["y"], name="det0")], "bad",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, str]:
    for tool in ("node", "qemu-aarch64"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not installed (.ci/install)")
    tmp = tmp_path_factory.mktemp("zoo_bench")
    _tiny_cnn(tmp / "tiny_cnn.onnx")
    _unsupported(tmp / "det_only.onnx")
    doc = tmp / "models.md"
    before, after = "# Models\n\nintro text\n\n", "\n\n## Reproduce\n\nkept as is\n"
    bench = _bench_module()
    doc.write_text(f"{before}{bench.BEGIN}\nold table\n{bench.END}{after}")
    args = ["--models", f"{tmp / 'tiny_cnn.onnx'},{tmp / 'det_only.onnx'}", "--rounds", "1", "--warmup", "0",
            "--min-round-ms", "0", "--parts", "host,node,qemu", "--json", str(tmp / "results.json"),
            "--markdown", str(doc), "--work", str(tmp / "work")]
    assert bench.main(args) == 0
    assert bench.main(args) == 0  # a second run replaces the table (and reuses the cached instruction counts)
    text = doc.read_text()
    assert text.startswith(before + bench.BEGIN) and text.endswith(bench.END + after)
    return json.loads((tmp / "results.json").read_text()), text, bench.BEGIN


def test_json_structure(bench_run: tuple[dict, str, str]) -> None:
    results, _, _ = bench_run
    assert results["meta"]["rounds"] == 1 and results["meta"]["threads"] == 1
    assert [m["name"] for m in results["models"]] == ["tiny_cnn", "det_only"]
    tiny, bad = results["models"]
    assert tiny["converts"] and not tiny["errors"], tiny["errors"]
    assert tiny["operators"] == ["Add", "Clip", "Conv", "Flatten", "Gemm", "GlobalAveragePool", "HardSwish", "Relu"]
    for where in ("host", "qemu", "wasm", "ort-web", "tfjs-wasm"):
        acc = tiny["accuracy"][where]
        assert acc["ok"] and acc["problems"] == [], (where, acc)
        assert 0 <= acc["max_abs"] < 1e-4, (where, acc)
    host = tiny["host"]
    assert host["threads"] == 1 and host["backend"]
    for value in (host["sparsebyte_ms"], host["peer_ms"], host["ratio"]):
        assert value > 0
    node = tiny["node"]
    assert node["sparsebyte_ms"] > 0
    for peer in ("ort-web", "tfjs-wasm"):
        assert node[peer]["ms"] > 0 and node[peer]["ratio"] > 0
    assert tiny["aarch64"]["run_insns"] > 0 and tiny["aarch64"]["process_insns"] > tiny["aarch64"]["run_insns"]
    for profile in ("profile_host", "profile_wasm", "profile_aarch64"):
        ops = {row["op"] for row in tiny[profile]}
        assert any("conv" in op.lower() for op in ops), (profile, ops)
        assert abs(sum(row["share"] for row in tiny[profile]) - 1.0) < 1e-6
    for miss in results["misses"]:  # which peer wins on a tiny model is load, not a property: only the form
        assert miss["model"] == "tiny_cnn" and miss["ratio"] > 1 and miss["top_kernels"], miss
    assert results["meta"]["npm"]["onnxruntime-web"] != "missing"
    assert bad["converts"] is False and "Det" in bad["errors"]["convert"]
    assert "host" not in bad and "node" not in bad


def test_markdown_table(bench_run: tuple[dict, str, str]) -> None:
    results, text, begin = bench_run
    assert "old table" not in text and text.count(begin) == 1
    rows = [line for line in text.splitlines() if line.startswith("| **")]
    assert [r.split("|")[1].strip() for r in rows] == ["**tiny_cnn**", "**det_only**"]
    tiny_cells = [c.strip() for c in rows[0].split("|")[1:-1]]
    header = [c.strip() for c in text.splitlines()[text.splitlines().index(begin) + 1].split("|")[1:-1]]
    assert len(tiny_cells) == len(header) == 10
    assert tiny_cells[header.index("converts")] == "yes"
    assert "(" in tiny_cells[header.index("node ms: ours / ort-web (ratio)")]
    assert float(tiny_cells[header.index("aarch64 M insns")]) == pytest.approx(
        results["models"][0]["aarch64"]["run_insns"] / 1e6, abs=0.06)
    bad_cells = [c.strip() for c in rows[1].split("|")[1:-1]]
    assert bad_cells[header.index("converts")].startswith("no:") and "Det" in bad_cells[header.index("converts")]
