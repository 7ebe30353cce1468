"""MediaPipe 0.10.14's float models (zoo/registry.py TFLITE_MODELS, fetched from the wheel, never imported):
each converts, and on the host, under qemu-aarch64 (NEON) and in node (WebAssembly) matches LiteRT within the
entry's tolerance (1e-4 of each output's scale), on a real photo. Converted once per session; one device process
per model and device."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from sparsebyte import Model
from sparsebyte.check import LITERT_KERNELS, litert_interpreter
from sparsebyte.converters import convert
from sparsebyte.converters.api import ConversionReport
from sparsebyte.devices import NodeDevice, QemuDevice, RunOptions
from zoo import model_file
from zoo.registry import TFLITE_MODELS, ZooModel

IDS = [m.name for m in TFLITE_MODELS]


@dataclass
class Converted:
    model: ZooModel
    source: Path
    sbn: Path
    report: ConversionReport
    feeds: dict[str, np.ndarray]
    want: dict[str, dict[str, np.ndarray]]  # LiteRT kernels -> output name -> array


def litert_outputs(source: Path, feeds: dict[str, np.ndarray], kernels: str) -> dict[str, np.ndarray]:
    it = litert_interpreter(str(source), kernels)
    for detail, x in zip(it.get_input_details(), feeds.values(), strict=True):
        it.set_tensor(detail["index"], x)
    it.invoke()
    return {d["name"]: np.array(it.get_tensor(d["index"])) for d in it.get_output_details()}


@pytest.fixture(scope="session")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Converted]:
    out: dict[str, Converted] = {}
    work = tmp_path_factory.mktemp("mediapipe")
    for m in TFLITE_MODELS:
        source = model_file(m)
        sbn = work / f"{m.name}.sbn"
        report = convert(source, sbn, **m.convert_kwargs)  # type: ignore[arg-type]
        feeds = m.feeds()
        want = {k: litert_outputs(source, feeds, k) for k in LITERT_KERNELS}
        out[m.name] = Converted(m, source, sbn, report, feeds, want)
    return out


def _check(c: Converted, got: dict[str, np.ndarray], where: str) -> None:
    problems = []
    for kernels, want in c.want.items():
        assert sorted(got) == sorted(want), (where, sorted(got), sorted(want))
        problems += [f"{where} vs LiteRT {kernels}: {p}" for name in want
                     for p in c.model.tolerance.problems(np.asarray(got[name]), want[name], name)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", IDS)
def test_converts_and_matches_litert_on_the_host(converted: dict[str, Converted], name: str) -> None:
    c = converted[name]
    with Model(c.sbn) as m:
        assert [t.name for t in m.inputs] == list(c.feeds) and [tuple(t.shape) for t in m.inputs] == \
            [x.shape for x in c.feeds.values()]  # the TFLite (NHWC) input at the API
        res = m.run(c.feeds)
        got = res if isinstance(res, dict) else {m.outputs[0].name: res}
    _check(c, got, "host")


def test_pose_detection_runs_its_sparse_weights_sparse(converted: dict[str, Converted]) -> None:
    """pose_detection stores 38 conv weights as sparse tensors (~75% zeros, unstructured: CSR over the input
    channels): all 38 are packed group-sparse and run by the sparse kernels, the dense convs stay dense."""
    c = converted["mediapipe-pose-detection"]
    sparse = [r for r in c.report.layers if r.choice == "sparse"]
    assert len(sparse) == 38, [(r.node, r.sparsity) for r in sparse]
    assert all(r.sparsity > 0.5 and r.group in (1, 2, 4, 8) and r.weight_shape[2:] == (1, 1) for r in sparse)
    assert c.report.macs < 0.5 * c.report.dense_macs
    with Model(c.sbn) as m:
        assert sum(n.op == "CONV_SPARSE" for n in m.nodes) == 38
        assert not any(n.op in ("DEQUANTIZE", "DENSIFY") for n in m.nodes)


def test_nchw_layout_runs_the_same_model_without_boundary_transposes(converted: dict[str, Converted],
                                                                     tmp_path: Path) -> None:
    c = converted["mediapipe-face-detection-short"]
    sbn = tmp_path / "nchw.sbn"
    report = convert(c.source, sbn, layout="nchw")
    assert report.inputs == {"input": [1, 3, 128, 128]} and report.outputs == c.report.outputs  # 3-D outputs stay
    assert report.node_count == c.report.node_count - 1  # the input's NHWC -> NCHW transpose is gone
    with Model(sbn) as m:
        res = m.run({"input": np.ascontiguousarray(c.feeds["input"].transpose(0, 3, 1, 2))})
    assert isinstance(res, dict)
    _check(c, res, "host --layout nchw")


def _device(kind: str) -> QemuDevice | NodeDevice:
    dev = QemuDevice(count_insns=False) if kind == "qemu" else NodeDevice()
    dev.command(Path("."))  # builds the runner / finds web/dist; a missing tool fails (ToolMissing)
    return dev


@pytest.mark.parametrize("kind", ["qemu", "node"])
@pytest.mark.parametrize("name", IDS)
def test_runs_on_the_device_and_matches_litert(converted: dict[str, Converted], name: str, kind: str,
                                               tmp_path: Path) -> None:
    c = converted[name]
    dev = _device(kind)
    files = []
    for k, x in enumerate(c.feeds.values()):
        files.append(tmp_path / f"in{k}.npy")
        np.save(files[-1], x)
    with Model(c.sbn) as m:
        names = [o.name for o in m.outputs]
    run = dev.run(c.sbn, files, num_outputs=len(names), options=RunOptions(warmup=0, repeat=1))
    got = {n: a.reshape(c.want["builtin"][n].shape) for n, a in zip(names, run.outputs, strict=True)}
    _check(c, got, kind)


def test_check_cli_compares_with_both_litert_kernel_sets(converted: dict[str, Converted]) -> None:
    c = converted["mediapipe-iris-landmark"]
    cmd = [sys.executable, "-m", "sparsebyte", "check", str(c.sbn), "--reference", str(c.source), "-n", "2",
           "--atol", "1e-3"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in c.want["builtin"]:
        assert f"output {name}: max abs" in result.stdout and f"output {name} [XNNPACK]: max abs" in result.stdout
    other = converted["mediapipe-face-detection-short"].source  # another model: a one-line refusal, exit 2
    result = subprocess.run(cmd[:6] + [str(other)], capture_output=True, text=True, timeout=300, check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "has shape" in lines[0], result.stderr


@pytest.mark.parametrize("cut", [3, 7, 1000, -100])
def test_a_truncated_model_is_a_named_error_and_leaves_nothing(converted: dict[str, Converted], tmp_path: Path,
                                                               cut: int) -> None:
    """A download cut short: the CLI names the file in one line (exit 2) and writes no .sbn."""
    data = converted["mediapipe-pose-detection"].source.read_bytes()
    src = tmp_path / "pose_detection.tflite"
    src.write_bytes(data[:cut])
    result = subprocess.run([sys.executable, "-m", "sparsebyte", "convert", str(src), "-o", str(tmp_path / "p.sbn")],
                            capture_output=True, text=True, timeout=300, check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("sparsebyte: error: bad TFLite file") and str(src) in lines[0], lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pose_detection.tflite"]
