"""The `sparsebyte` command: convert, info, run, check, profile, bench, demo.

Results go to stdout, progress and logs to stderr. Exit status: EXIT_STATUS below (also in `--help`)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import signal
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .resources import ResourceError, missing_dependency, require

if TYPE_CHECKING:  # numpy loads inside main(), where a Ctrl-C during the import is handled
    import numpy as np

EXIT_STATUS = """exit status:
  0    success
  1    a check failed (check, demo: an error above the tolerance)
  2    bad usage or input, or something this installation lacks: a file, a tool (cross compiler, qemu, node), an
       optional Python package (the one-line message names the `pip install` to run)
  3    an internal error (a bug): one line naming it; SPARSEBYTE_TRACEBACK=1 prints the traceback
  130  interrupted (convert leaves no output file)"""


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions as usual but prints the exit status table as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return text if text.startswith("exit status:") else super()._fill_text(text, width, indent)


class CliError(Exception):
    """A user-facing error: printed as `sparsebyte: error: ...`, exit status 2."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _parse_shapes(specs: Sequence[str] | None) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for spec in specs or []:
        name, sep, dims = spec.rpartition("=")
        try:
            shape = tuple(int(d) for d in dims.split(","))
        except ValueError:
            shape = ()
        if not sep or not name or not shape or min(shape) < 1:
            raise CliError(f"--input-shape {spec!r}: expected name=d0,d1,... with positive integers")
        shapes[name] = shape
    return shapes


def _load_model(path: str, threads: int = 1) -> Any:
    from .runtime import Model, SparsebyteError

    try:
        return Model(path, threads=threads)
    except SparsebyteError as e:
        raise CliError(str(e)) from e


def _load_inputs(model: Any, paths: Sequence[str] | None, seed: int = 0) -> dict[str, np.ndarray]:
    """--input name=file.npy or file.npy (one-input models); random normal (seeded) when none is given."""
    import numpy as np

    if not paths:
        rng = np.random.default_rng(seed)
        return {t.name: rng.standard_normal(t.shape, dtype=np.float32) for t in model.inputs}
    inputs = {}
    for spec in paths:
        name, sep, file = spec.rpartition("=")
        if not sep:
            if len(model.inputs) != 1:
                raise CliError(f"the model has {len(model.inputs)} inputs: use --input name=file.npy")
            name, file = model.inputs[0].name, spec
        try:
            inputs[name] = np.load(file)
        except (OSError, ValueError) as e:
            raise CliError(f"--input {file}: cannot read a .npy array ({e})") from e
    return inputs


def _fmt_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1024
    return str(size)


def _summarize(name: str, a: np.ndarray) -> str:
    if a.size == 0:
        return f"{name}: shape {list(a.shape)} (empty)"
    text = f"{name}: shape {list(a.shape)}  min {a.min():.5g}  max {a.max():.5g}  mean {a.mean():.5g}"
    if a.ndim == 2 and a.shape[-1] == 1000:
        from .images import top_k

        best = top_k(a[0], 5)
        text += "\n  top-5: " + ", ".join(f"{label} ({i}) {p:.3f}" for i, label, p in best)
    return text


# ---- commands ----
def cmd_convert(args: argparse.Namespace) -> int:
    shapes = _parse_shapes(args.input_shape)
    if args.kernels != "hand":  # before the conversion, not after it
        require(f"--kernels {args.kernels}", "tvm")
    if (args.model is None) == (args.torch is None):
        raise CliError("give either an ONNX or .tflite file or --torch module:callable")
    source: Any = args.model
    example_input = None
    if args.torch:
        module_name, sep, attr = args.torch.partition(":")
        if not sep or not module_name or not attr:
            raise CliError(f"--torch {args.torch!r}: expected module:callable")
        if len(shapes) != 1:
            raise CliError("--torch needs one --input-shape name=d0,d1,... (e.g. input=1,3,224,224)")
        if not args.output:
            raise CliError("--torch needs -o/--output")
        sys.path.insert(0, os.getcwd())
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as e:
            raise CliError(missing_dependency(e) or f"--torch {args.torch}: {e}") from e
        import torch

        source = factory()
        example_input = torch.zeros(next(iter(shapes.values())))
        shapes = {}
    elif not Path(args.model).exists():
        raise CliError(f"{args.model}: no such file")
    if args.output is not None and not args.output.strip():
        raise CliError("-o/--output is empty: name the .sbn file to write")
    output = args.output if args.output is not None else str(Path(args.model).with_suffix(".sbn"))
    if args.model is not None and _same_file(args.model, output):
        flag = "-o" if args.output is not None else "the default output (give -o)"
        raise CliError(f"{output}: {flag} is the input model {args.model} itself (the same file); refusing to "
                       "overwrite it")
    group: int | str = args.group if args.group is not None else "auto"
    options: dict[str, Any] = {"group": group, "force_dense": args.dense, "input_shapes": shapes or None,
                               "example_input": example_input}
    if args.sparse_threshold is not None:
        options["sparse_threshold"] = args.sparse_threshold
    if args.layout is not None:
        options["layout"] = args.layout
    before = _identity(output)
    try:
        return _convert_and_report(args, source, output, options)
    except KeyboardInterrupt:
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the clean-up
        try:
            if _identity(output) != before:  # the new file is in place: an interrupted convert leaves none
                Path(output).resolve().unlink(missing_ok=True)
        finally:
            signal.signal(signal.SIGINT, handler)
        raise


def _identity(path: str) -> tuple[int, int, int] | None:
    """The file at path as write_atomic replaces it (symlinks followed): device, inode, mtime; None when absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns


def _same_file(a: str, b: str) -> bool:
    """Whether writing b would replace a: the same file through any path, symlink or hard link."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # b does not exist (yet)
        return False


def _convert_and_report(args: argparse.Namespace, source: Any, output: str, options: dict[str, Any]) -> int:
    from sparsebyte.converters import ConversionError, convert

    try:
        report = convert(source, output, **options)
    except ConversionError as e:
        raise CliError(str(e)) from e
    print(report)
    log(f"wrote {output} ({_fmt_bytes(os.path.getsize(output))})")
    if args.kernels != "hand":  # TVM kernels: a model-specific runner + <model>.sbn.kernels.json (docs/tvm.md)
        from sparsebyte.converters.tvm.choose import choose_kernels, record_path

        record = choose_kernels(output, args.kernels, args.kernels_arch)
        for row in record["layers"]:
            figures = f" (hand {row['hand']:,.6g}, tvm {row['tvm']:,.6g} {record['cost']})" if "hand" in row else ""
            print(f"  {row['node']}: {row['choice']}{figures}")
        log(f"wrote {record['runner']} and {record_path(Path(output))}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Everything from the engine: it validates the file, and what it reports per node (op, the kernel it chose on
    this backend, MACs) is what runs. The converter's per-layer notes (G, sparsity, dense/sparse choice) come from
    the file's METADATA, joined by node name."""
    from .report import layer_notes, metadata_totals

    model = _load_model(args.model)
    meta = _metadata(model, args.model)
    major, minor = model.format_version
    producer, source = (meta.get(k) for k in ("producer", "source"))
    print(f"{args.model}: .sbn {major}.{minor}, {_fmt_bytes(os.path.getsize(args.model))}, "
          f"producer {producer if isinstance(producer, str) else '?'}, "
          f"source {source if isinstance(source, str) else '?'}")
    for t in model.inputs:
        print(f"input  {t.name} {list(t.shape)}")
    for t in model.outputs:
        print(f"output {t.name} {list(t.shape)}")
    print(f"nodes {model.num_nodes}, weights {_fmt_bytes(model.weight_bytes)}, arena {_fmt_bytes(model.arena_bytes)}, "
          f"backend {model.backend}")
    notes = layer_notes(meta)
    nodes = model.nodes
    kw = max([32, *(len(n.kernel) for n in nodes)])  # kernel names whole: they say which variant and ISA level ran
    print(f"{'node':<48} {'op':<15} {'kernel':<{kw}} {'G':>2} {'sparsity':>8} {'MACs':>12} {'dense MACs':>12}  choice")
    for n in nodes:
        note = notes.get(n.name)
        name = n.name if len(n.name) <= 48 else "..." + n.name[-45:]  # the tail names the layer
        sparsity_text = f"{note.sparsity:.1%}" if note and note.sparsity is not None else "-"
        print(f"{name:<48} {n.op:<15} {n.kernel:<{kw}} {(note and note.group) or '-':>2} {sparsity_text:>8} "
              f"{n.macs:>12,} {n.dense_macs:>12,}  {note.choice if note else ''}")
    line = f"MACs {sum(n.macs for n in nodes):,} of {sum(n.dense_macs for n in nodes):,} dense"
    totals = metadata_totals(meta)
    if totals:
        line += f"; {totals[0]} of {totals[1]} conv/fc layers sparse"
    print(line)
    return 0


def _metadata(model: Any, path: str) -> dict[str, Any]:
    """The file's METADATA, or {} with a warning when it is unusable (the per-layer notes are optional)."""
    from .report import read_metadata

    meta, problem = read_metadata(model)
    if problem:
        log(f"sparsebyte: warning: {path}: METADATA ignored ({_one_line(problem.removeprefix(f'{path}: '))})")
    return meta


def _device(args: argparse.Namespace, count_insns: bool = True) -> Any:
    from .devices import get_device

    try:
        return get_device(args.device, getattr(args, "device_dir", None), count_insns=count_insns)
    except ValueError as e:
        raise CliError(str(e)) from e


def _input_files(model: Any, specs: Sequence[str] | None, tmp: Path) -> list[Path]:
    """--input files in the model's input order (checked on the host first), written as float32 .npy into tmp."""
    from .devices import write_inputs

    if not specs:
        return []
    try:
        return write_inputs(model, _load_inputs(model, specs), tmp)
    except ValueError as e:
        raise CliError(f"--input: {e}") from e


def _run_on_device(args: argparse.Namespace, model: Any, tmp: Path) -> tuple[dict[str, np.ndarray], float | None,
                                                                             str]:
    from .devices import DeviceError, RunOptions

    device = _device(args, count_insns=False)
    files = _input_files(model, args.input, tmp)
    try:
        result = device.run(Path(args.model), files, len(model.outputs),
                            RunOptions(warmup=0 if args.device == "qemu" else 1, repeat=max(args.repeat, 1),
                                       threads=args.threads))
    except DeviceError as e:
        raise CliError(str(e)) from e
    outputs = {t.name: a.reshape(t.shape) for t, a in zip(model.outputs, result.outputs, strict=True)}
    report = result.report
    if args.device == "qemu":
        where = "qemu-aarch64 (emulated: timing is meaningless)"
    else:
        where = f"{device.name} ({report.get('backend', '?')}, {args.threads} thread{'s' if args.threads > 1 else ''})"
    return outputs, report.get("latency_ms", {}).get("median"), where


def _output_files(output: str, names: Sequence[str]) -> dict[str, Path]:
    """--output FILE: FILE for one output, FILE_<name> for several (the name made file-safe), each ending in .npy as
    np.save would make it; checked before the run, so a bad folder fails before any work."""
    base = Path(output)
    if not output.strip() or base.is_dir():
        raise CliError(f"--output {output!r}: expected a .npy file name")
    if not base.parent.is_dir():
        raise CliError(f"--output {output}: folder {base.parent} does not exist")
    if len(names) == 1:
        return {names[0]: base if base.suffix == ".npy" else base.with_name(base.name + ".npy")}
    stem = base.with_suffix("") if base.suffix == ".npy" else base
    files: dict[str, Path] = {}
    for i, name in enumerate(names):
        path = stem.with_name(f"{stem.name}_{re.sub(r'[^A-Za-z0-9._-]+', '_', name).strip('._') or i}.npy")
        files[name] = path if path not in files.values() else path.with_name(f"{path.stem}_{i}.npy")
    return files


def _save_npy(path: Path, value: np.ndarray) -> None:
    """Atomically, like the converter's outputs: an interrupted or failed save leaves no partial file."""
    import io

    import numpy as np

    from .sbnformat import write_atomic

    buffer = io.BytesIO()
    np.save(buffer, value)
    write_atomic(path, buffer.getvalue())


def cmd_run(args: argparse.Namespace) -> int:
    import tempfile

    model = _load_model(args.model, args.threads)
    out_files = _output_files(args.output, [t.name for t in model.outputs]) if args.output is not None else {}
    if args.device != "host":
        with tempfile.TemporaryDirectory(prefix="sparsebyte-run-") as tmp:
            outputs, latency, where = _run_on_device(args, model, Path(tmp))
    else:
        import time

        inputs = _load_inputs(model, args.input)
        times, outputs = [], {}
        for _ in range(max(args.repeat, 1)):
            t0 = time.perf_counter()
            out = model.run(inputs)
            times.append((time.perf_counter() - t0) * 1e3)
            outputs = out if isinstance(out, dict) else {model.outputs[0].name: out}
        latency = statistics.median(times)
        where = f"host ({model.backend}, {args.threads} thread{'s' if args.threads > 1 else ''})"
    for name, value in outputs.items():
        print(_summarize(name, value))
        if name in out_files:
            _save_npy(out_files[name], value)
            log(f"saved {out_files[name]}")
    if latency is not None:
        print(f"latency median {latency:.3f} ms over {args.repeat} runs on {where}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check

    if not Path(args.reference).exists():
        raise CliError(f"--reference {args.reference}: no such file")
    if args.n < 1:
        raise CliError(f"-n {args.n}: compare at least one input")
    model = _load_model(args.model)
    try:
        report = check(model, args.reference, n=args.n, images=args.images, per_layer=args.per_layer,
                       atol=args.atol, rtol=args.rtol)
    except (ValueError, FileNotFoundError) as e:
        raise CliError(str(e)) from e
    print(report.format())
    return 0 if report.ok else 1


def cmd_profile(args: argparse.Namespace) -> int:
    """Run the model (and --compare's) on the device, join the runner's per-op report with the .sbn METADATA, print
    the per-layer table and write PREFIX.png / PREFIX.html."""
    import tempfile

    from .devices import DeviceError, RunOptions
    from .report import build_profile, format_compare, format_table
    from .report_plot import write_plots

    paths = [args.model] + ([args.compare] if args.compare else [])
    models = [_load_model(path, args.threads) for path in paths]  # a bad file fails here, before any transfer
    for path, model in zip(paths, models, strict=True):
        _metadata(model, path)  # warns once when the per-layer notes are unusable
    if args.compare and [t.shape for t in models[0].inputs] != [t.shape for t in models[1].inputs]:
        raise CliError(f"--compare {args.compare}: its inputs {[list(t.shape) for t in models[1].inputs]} differ "
                       f"from {args.model}'s {[list(t.shape) for t in models[0].inputs]}")
    device = _device(args)
    if args.device == "qemu":
        log("qemu-aarch64 is emulated: per-op cost is executed instructions (deterministic), not time")
    options = RunOptions(warmup=args.warmup, repeat=max(args.repeat, 1), threads=args.threads)
    profiles = []
    with tempfile.TemporaryDirectory(prefix="sparsebyte-profile-") as tmp:
        files = _input_files(models[0], args.input, Path(tmp))
        for path in paths:
            log(f"profiling {path} on {device.name}")
            try:
                result = device.run(Path(path), files, 0, options)
            except DeviceError as e:
                raise CliError(str(e)) from e
            profiles.append(build_profile(path, result.report, device.metric))
    if args.json:
        data = [p.to_dict() for p in profiles]
        print(json.dumps(data[0] if len(data) == 1 else {"profiles": data}, indent=1))
    else:
        print(format_compare(*profiles) if len(profiles) == 2 else format_table(profiles[0]))
    if not args.no_plot:
        prefix = Path(args.plot) if args.plot else Path(args.model).with_suffix("").with_suffix(".profile")
        if not args.plot and args.compare:
            prefix = prefix.with_name(f"{Path(args.model).stem}_vs_{Path(args.compare).stem}.profile")
        for written in write_plots(profiles, prefix):
            log(f"wrote {written}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import bench

    if args.onnx and not Path(args.onnx).exists():
        raise CliError(f"--onnx {args.onnx}: no such file")
    model = _load_model(args.model, args.threads)
    try:
        result = bench(model, args.onnx, repeat=args.repeat, warmup=args.warmup, threads=args.threads)
    except ValueError as e:  # the ONNX model cannot be loaded, or does not take/give this model's tensors
        raise CliError(str(e)) from e
    print(f"engine ({model.backend}, {args.threads} thread): median {result.engine_ms:.3f} ms")
    if result.onnx_ms is not None:
        print(f"onnxruntime ({args.threads} thread):      median {result.onnx_ms:.3f} ms")
        print(f"ratio engine/onnxruntime: {result.ratio:.2f}")
        print(f"outputs: max abs difference {result.max_abs_diff:.3g}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if args.classifier:
        from .demo import run_demo

        return run_demo(Path(args.out or "out/demo"), qemu=not args.no_qemu, wasm=not args.no_wasm)
    from .pose_demo import run_pose_demo  # the default: a real sparse model (issue 13 item 5)

    return run_pose_demo(Path(args.out or "out/pose_demo"), tflite=Path(args.tflite) if args.tflite else None,
                         qemu=not args.no_qemu, wasm=not args.no_wasm, xnnpack=not args.no_xnnpack)


# ---- parser ----
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sparsebyte", description=__doc__.splitlines()[0], epilog=EXIT_STATUS,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # Parsed by sparsebyte.sparsify.cli (main() hands it the arguments); listed here for --help.
    sub.add_parser("sparsify", help="prune a PyTorch model into the group-sparse pattern, fine-tune, export",
                   add_help=False)

    p = sub.add_parser("convert", help="convert an ONNX or TFLite model or a PyTorch module to .sbn",
                       description="Convert an ONNX or a float TFLite model (or a torch.nn.Module via --torch) to "
                                   ".sbn and print the per-layer report (sparsity, group size, dense or sparse "
                                   "choice).")
    p.add_argument("model", nargs="?", help="the .onnx or .tflite file")
    p.add_argument("-o", "--output", help="the .sbn file to write (default: the model's name with .sbn)")
    p.add_argument("--torch", metavar="MODULE:CALLABLE",
                   help="build the model by calling CALLABLE() from the Python module MODULE (needs --input-shape)")
    p.add_argument("--group", type=int, default=None, choices=(1, 2, 4, 8),
                   help="output channels per group G of the sparse weights (default: chosen per layer)")
    p.add_argument("--sparse-threshold", type=float, default=None, metavar="F",
                   help="pack a layer sparse when the fraction of (group, input) pairs it keeps is at most F "
                        "(default: the converter's)")
    p.add_argument("--dense", action="store_true", help="store every layer dense (no sparse kernels)")
    p.add_argument("--layout", choices=("tflite", "nchw"), default=None,
                   help=".tflite models: tflite (default) keeps their NHWC inputs and outputs, nchw makes the 4-D "
                        "ones NCHW (no transposes at the model's boundary)")
    p.add_argument("--input-shape", action="append", metavar="NAME=D0,D1,...",
                   help="fix the shape of an input (repeatable), e.g. input=1,3,224,224")
    p.add_argument("--kernels", choices=("hand", "tvm", "auto"), default="hand",
                   help="tvm/auto: also build a runner with TVM-generated kernels for this model (auto: per layer, "
                        "whichever measures cheaper); see docs/tvm.md")
    p.add_argument("--kernels-arch", choices=("aarch64", "wasm32"), default="aarch64",
                   help="target of --kernels tvm/auto (default aarch64)")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("info", help="describe a .sbn file",
                       description="Inputs, outputs, sizes and the per-layer table (sparsity, G, choice) of a .sbn.")
    p.add_argument("model", help="the .sbn file")
    p.set_defaults(func=cmd_info)

    def add_device(q: argparse.ArgumentParser) -> None:
        q.add_argument("--device", default="host", metavar="DEVICE",
                       help="host (this machine, Python bindings), qemu (the static aarch64 runner under "
                            "qemu-aarch64: NEON kernels, instruction counts instead of times), node (the WebAssembly "
                            "build, web/dist, in node), adb[:SERIAL] (an Android phone), ssh:[USER@]HOST[:PORT] (a "
                            "Raspberry Pi or any aarch64 Linux); the remote ones get the runner and the model pushed, "
                            "see docs/devices.md")
        q.add_argument("--device-dir", metavar="DIR",
                       help="working directory on an adb/ssh device (default /data/local/tmp/sparsebyte on "
                            "Android, ~/sparsebyte over ssh)")
        q.add_argument("--threads", type=int, default=1, help="engine threads (default 1)")

    p = sub.add_parser("run", help="run a .sbn model", description="Run a .sbn model on .npy inputs (random normal "
                       "inputs when none are given), print an output summary and the median latency.")
    p.add_argument("model", help="the .sbn file")
    p.add_argument("--input", action="append", metavar="[NAME=]FILE.npy", help="an input array (repeatable)")
    p.add_argument("--output", metavar="FILE.npy", help="save the output array(s)")
    p.add_argument("--repeat", type=int, default=1, help="runs to time (default 1)")
    add_device(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check", help="compare a .sbn model with its reference",
                       description="Run the .sbn and the reference (ONNX via onnxruntime, TFLite via LiteRT's builtin "
                                   "kernels and its XNNPACK delegate, or a TorchScript .pt) on the same inputs; report "
                                   "max abs/rel error and top-1/top-5 agreement. Exit 1 past the tolerance.")
    p.add_argument("model", help="the .sbn file")
    p.add_argument("--reference", required=True,
                   help="the reference model: .onnx (onnxruntime), .tflite (LiteRT) or TorchScript .pt")
    p.add_argument("--images", metavar="DIR", help="use the images of DIR (resize 256, crop, ImageNet norm)")
    p.add_argument("-n", type=int, default=20, help="number of inputs (default 20)")
    p.add_argument("--per-layer", action="store_true",
                   help="also compare every engine tensor with the ONNX intermediate of the same name")
    p.add_argument("--atol", type=float, default=1e-4, help="absolute tolerance (default 1e-4)")
    p.add_argument("--rtol", type=float, default=1e-4, help="relative tolerance (default 1e-4)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("profile", help="per-layer time, MACs and sparsity on a device, table and plot",
                       description="Run the model on a device (this host, qemu, an Android phone over adb, a Pi over "
                                   "ssh) and show where the time goes: per op the kernel, time (instructions under "
                                   "qemu), executed and dense MACs and the weight sparsity from the .sbn; writes "
                                   "PREFIX.png and PREFIX.html (bar charts + table). --compare puts a second model "
                                   "(e.g. the dense conversion) side by side.")
    p.add_argument("model", help="the .sbn file")
    p.add_argument("--compare", metavar="OTHER.sbn", help="profile this model too and show both side by side")
    p.add_argument("--input", action="append", metavar="[NAME=]FILE.npy",
                   help="an input array (repeatable; default: random inputs)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs; times are medians (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    p.add_argument("--json", action="store_true", help="print the profile(s) as JSON instead of the table")
    p.add_argument("--plot", metavar="PREFIX",
                   help="write PREFIX.png and PREFIX.html (default: MODEL.profile, or MODEL_vs_OTHER.profile)")
    p.add_argument("--no-plot", action="store_true", help="write no plot files")
    add_device(p)
    p.set_defaults(func=cmd_profile)

    p = sub.add_parser("bench", help="engine vs onnxruntime latency on the host",
                       description="Median latency of the engine and onnxruntime on the same inputs, interleaved "
                                   "in one process, one thread each by default.")
    p.add_argument("model", help="the .sbn file")
    p.add_argument("--onnx", help="the ONNX model to compare with")
    p.add_argument("--repeat", type=int, default=20, help="timed runs (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    p.add_argument("--threads", type=int, default=1, help="threads for both (default 1)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("demo", help="a real sparse model end to end: MediaPipe's pose detector (--classifier: "
                                    "MobileNetV2)",
                       description="MediaPipe's sparse pose detector (mediapipe 0.10.14 pose_detection.tflite, 38 "
                                   "sparse 1x1 convs) converted sparse and --dense: detect people in real photos (SSD "
                                   "anchors, weighted NMS), compare with LiteRT, draw PNGs, time the host, "
                                   "qemu-aarch64 (instructions) and node. --classifier: MobileNetV2 with ImageNet "
                                   "weights converted dense and 50% group-sparse, checked against PyTorch, "
                                   "classifying a real photo.")
    p.add_argument("--out", help="directory for the converted files and PNGs (default out/pose_demo; --classifier: "
                                 "out/demo)")
    p.add_argument("--no-qemu", action="store_true", help="skip the qemu-aarch64 runs")
    p.add_argument("--no-wasm", action="store_true",
                   help="skip the WebAssembly runs in node (web/dist, built with web/build.sh when missing)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--classifier", action="store_true",
                       help="the MobileNetV2 demo instead: convert, prune 50%%, run, check against PyTorch, classify")
    which.add_argument("--pose", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for old scripts
    p.add_argument("--tflite", help="pose_detection.tflite (default: the mediapipe 0.10.14 wheel's, fetched with pip "
                                    "download --no-deps in a checkout)")
    p.add_argument("--no-xnnpack", action="store_true",
                   help="skip LiteRT's XNNPACK under qemu (run when benchmarks/arm/peers.py's sysroot exists)")
    p.set_defaults(func=cmd_demo)
    for command in sub.choices.values():
        command.epilog, command.formatter_class = EXIT_STATUS, _HelpFormatter
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"


def _loaded_errors() -> tuple[type[Exception], ...]:
    """The engine's and the converter's error classes, from the modules already imported (an error of theirs can only
    come from a loaded module; importing them here could itself fail)."""
    found = [getattr(sys.modules.get(module), name, None) for module, name in
             (("sparsebyte.runtime", "SparsebyteError"), ("sparsebyte.converters.ir", "ConversionError"))]
    return tuple(cls for cls in found if isinstance(cls, type) and issubclass(cls, Exception))


def _failure(e: Exception) -> tuple[str, int]:
    """The one place a failure becomes a message and an exit status (EXIT_STATUS): 2 for what the user can fix
    (usage, input files, engine and converter errors, a missing tool or package), 3 for anything else (a bug)."""
    if isinstance(e, (CliError, ResourceError, *_loaded_errors())):
        return str(e), 2
    if isinstance(e, ImportError) and (message := missing_dependency(e)) is not None:
        return message, 2
    if isinstance(e, OSError) and not isinstance(e, ImportError):
        where = f"{e.filename}: " if e.filename is not None and str(e.filename) not in str(e.strerror) else ""
        return f"{where}{e.strerror or e}", 2
    if isinstance(e, MemoryError):
        return f"out of memory{f' ({e})' if str(e) else ''}", 2
    if os.environ.get("SPARSEBYTE_TRACEBACK"):
        import traceback

        traceback.print_exception(e)
    return f"internal error: {type(e).__name__}: {e} (a bug; SPARSEBYTE_TRACEBACK=1 prints the traceback)", 3


def _main(argv: list[str]) -> int:
    if argv[:1] == ["sparsify"]:  # the training side has its own parser (and imports torch)
        if not {"-h", "--help"} & set(argv):
            require("sparsebyte sparsify", "torch")
        from .sparsify.cli import main as sparsify_main

        return sparsify_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "threads", 1) < 1:
        parser.error("--threads must be >= 1")
    if getattr(args, "repeat", 1) < 1 or getattr(args, "warmup", 0) < 0:
        parser.error("--repeat must be >= 1 and --warmup >= 0")
    return int(args.func(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print("sparsebyte: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `sparsebyte profile m.sbn | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:
        message, status = _failure(e)
        print(f"sparsebyte: error: {_one_line(message)}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
