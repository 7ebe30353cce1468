"""Running op cases (tests/ops/op_cases.py) on the devices against onnxruntime, shared by test_ops_devices.py
(structural ops) and test_ops_math_devices.py (math ops). A device run costs a process start (and a qemu or node
start-up), so the cases are bundled: up to BUNDLE cases side by side in one ONNX graph (names prefixed per case),
converted once and run once per device; each case's output is compared on its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import compose, helper
from onnx_helpers import run_ort
from op_cases import Case, convert_kwargs, feeds

import sparsebyte
from sparsebyte.converters import convert
from sparsebyte.devices import NodeDevice, QemuDevice, RunOptions

BUNDLE = 8  # <= 16 graph inputs (two per case at most) and outputs: SB_MAX_GRAPH_IO
DEVICES = ["qemu", "node"]


def bundle(cases: list[Case]) -> tuple[onnx.ModelProto, dict[str, np.ndarray], list[str]]:
    """One model holding every case's graph (prefix c<i>_); its feeds; the output names in order."""
    graphs, inputs = [], {}
    for i, c in enumerate(cases):
        m, x = c.build()
        opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))  # one per bundle
        m = compose.add_prefix(m, f"c{i}_")
        graphs.append(m.graph)
        inputs.update({f"c{i}_{k}": v for k, v in feeds(x).items()})
    graph = helper.make_graph([n for g in graphs for n in g.node], "bundle", [v for g in graphs for v in g.input],
                              [v for g in graphs for v in g.output], [t for g in graphs for t in g.initializer])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model, inputs, [v.name for v in graph.output]


def bundles(cases: list[Case]) -> list[list[Case]]:
    """Cases with the same convert() options and opset together, BUNDLE at a time."""
    groups: dict[str, list[Case]] = {}
    for c in cases:
        opset = [o.version for o in c.build()[0].opset_import if o.domain in ("", "ai.onnx")]
        groups.setdefault(repr((sorted(convert_kwargs(c).items()), opset)), []).append(c)
    return [group[i:i + BUNDLE] for group in groups.values() for i in range(0, len(group), BUNDLE)]


def bundle_ids(groups: list[list[Case]]) -> list[str]:
    return [f"{b[0].id}+{len(b) - 1}" for b in groups]


def device(name: str) -> QemuDevice | NodeDevice:
    dev = QemuDevice(count_insns=False) if name == "qemu" else NodeDevice()
    dev.command(Path("."))  # builds the runner / finds web/dist; a missing tool fails (ToolMissing)
    return dev


def check_on_device(cases: list[Case], device_name: str, tmp_path: Path) -> None:
    """Convert the bundle once, run it once on the device, compare each case's output with onnxruntime's."""
    dev = device(device_name)
    model, inputs, outputs = bundle(cases)
    expected = run_ort(model, inputs)
    path = tmp_path / "bundle.sbn"
    convert(model, path, **convert_kwargs(cases[0]))
    with sparsebyte.Model(path) as host:
        order = [t.name for t in host.inputs]
        assert [t.name for t in host.outputs] == outputs
    files = []
    for i, name in enumerate(order):
        files.append(tmp_path / f"in{i}.npy")
        np.save(files[-1], np.ascontiguousarray(inputs[name], np.float32))
    run = dev.run(path, files, num_outputs=len(outputs), options=RunOptions(warmup=0, repeat=1))
    for c, name, got in zip(cases, outputs, run.outputs, strict=True):
        want = expected[name]
        assert got.shape == want.shape, c.id
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(want).max())),
                                   err_msg=f"{c.id} on {device_name}")
