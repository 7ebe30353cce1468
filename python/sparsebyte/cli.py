"""The `sparsebyte` command: convert, info, run, check, profile, bench, demo.

Results go to stdout, progress and logs to stderr. Exit status: EXIT_STATUS below (also in `--help`)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .resources import ResourceError, missing_dependency, require

EXIT_STATUS = """exit status:
  0    success
  1    a check failed (check, demo: an error above the tolerance)
  2    bad usage or input, or something this installation lacks: a file, a tool (cross compiler, qemu, node), an
       optional Python package (the one-line message names the `pip install` to run)
  130  interrupted"""


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
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return str(n)


def _summarize(name: str, a: np.ndarray) -> str:
    text = f"{name}: shape {list(a.shape)}  min {a.min():.5g}  max {a.max():.5g}  mean {a.mean():.5g}"
    if a.ndim == 2 and a.shape[-1] == 1000:
        from .images import top_k

        best = top_k(a[0], 5)
        text += "\n  top-5: " + ", ".join(f"{label} ({i}) {p:.3f}" for i, label, p in best)
    return text


# ---- commands ----
def cmd_convert(args: argparse.Namespace) -> int:
    from sparsebyte.converters import ConversionError, convert

    shapes = _parse_shapes(args.input_shape)
    if args.kernels != "hand":  # before the conversion, not after it
        require(f"--kernels {args.kernels}", "tvm")
    if (args.model is None) == (args.torch is None):
        raise CliError("give either an ONNX file or --torch module:callable")
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
    output = args.output or str(Path(args.model).with_suffix(".sbn"))
    group: int | str = args.group if args.group is not None else "auto"
    options: dict[str, Any] = {"group": group, "force_dense": args.dense, "input_shapes": shapes or None,
                               "example_input": example_input}
    if args.sparse_threshold is not None:
        options["sparse_threshold"] = args.sparse_threshold
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
    from .runtime import SparsebyteError

    model = _load_model(args.model)
    try:
        meta = model.metadata
    except SparsebyteError as e:
        raise CliError(str(e)) from e
    major, minor = model.format_version
    print(f"{args.model}: .sbn {major}.{minor}, {_fmt_bytes(os.path.getsize(args.model))}, "
          f"producer {meta.get('producer', '?')}, source {meta.get('source', '?')}")
    for t in model.inputs:
        print(f"input  {t.name} {list(t.shape)}")
    for t in model.outputs:
        print(f"output {t.name} {list(t.shape)}")
    print(f"nodes {model.num_nodes}, weights {_fmt_bytes(model.weight_bytes)}, arena {_fmt_bytes(model.arena_bytes)}, "
          f"backend {model.backend}")
    layers = {str(lay.get("node")): lay for lay in meta.get("layers", []) if isinstance(lay, dict)}
    nodes = model.nodes
    print(f"{'node':<48} {'op':<15} {'kernel':<32} {'G':>2} {'sparsity':>8} {'MACs':>12} {'dense MACs':>12}  choice")
    for n in nodes:
        lay = layers.get(n.name, {})
        name = n.name if len(n.name) <= 48 else "..." + n.name[-45:]  # the tail names the layer
        kernel = n.kernel if len(n.kernel) <= 32 else "..." + n.kernel[-29:]
        sparsity = lay.get("sparsity")
        sparsity_text = f"{sparsity:.1%}" if isinstance(sparsity, (int, float)) else "-"
        print(f"{name:<48} {n.op:<15} {kernel:<32} {lay.get('group') or '-':>2} {sparsity_text:>8} {n.macs:>12,} "
              f"{n.dense_macs:>12,}  {lay.get('choice', '')}")
    line = f"MACs {sum(n.macs for n in nodes):,} of {sum(n.dense_macs for n in nodes):,} dense"
    totals = meta.get("totals", {})
    if totals.get("layers"):
        line += f"; {totals.get('sparse_layers', 0)} of {totals['layers']} conv/fc layers sparse"
    print(line)
    return 0


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


def cmd_run(args: argparse.Namespace) -> int:
    import tempfile

    model = _load_model(args.model, args.threads)
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
        if args.output:
            out_path = args.output if len(outputs) == 1 else f"{Path(args.output).with_suffix('')}_{name}.npy"
            np.save(out_path, value)
            log(f"saved {out_path}")
    if latency is not None:
        print(f"latency median {latency:.3f} ms over {args.repeat} runs on {where}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check

    if not Path(args.reference).exists():
        raise CliError(f"--reference {args.reference}: no such file")
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
    result = bench(model, args.onnx, repeat=args.repeat, warmup=args.warmup, threads=args.threads)
    print(f"engine ({model.backend}, {args.threads} thread): median {result.engine_ms:.3f} ms")
    if result.onnx_ms is not None:
        print(f"onnxruntime ({args.threads} thread):      median {result.onnx_ms:.3f} ms")
        print(f"ratio engine/onnxruntime: {result.ratio:.2f}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(Path(args.out), qemu=not args.no_qemu, wasm=not args.no_wasm)


# ---- parser ----
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sparsebyte", description=__doc__.splitlines()[0], epilog=EXIT_STATUS,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # Parsed by sparsebyte.sparsify.cli (main() hands it the arguments); listed here for --help.
    sub.add_parser("sparsify", help="prune a PyTorch model into the group-sparse pattern, fine-tune, export",
                   add_help=False)

    p = sub.add_parser("convert", help="convert an ONNX model or a PyTorch module to .sbn",
                       description="Convert an ONNX model (or a torch.nn.Module via --torch) to .sbn and print the "
                                   "per-layer report (sparsity, group size, dense or sparse choice).")
    p.add_argument("model", nargs="?", help="the .onnx file")
    p.add_argument("-o", "--output", help="the .sbn file to write (default: the model's name with .sbn)")
    p.add_argument("--torch", metavar="MODULE:CALLABLE",
                   help="build the model by calling CALLABLE() from the Python module MODULE (needs --input-shape)")
    p.add_argument("--group", type=int, default=None, choices=(1, 2, 4, 8),
                   help="output channels per group G of the sparse weights (default: chosen per layer)")
    p.add_argument("--sparse-threshold", type=float, default=None, metavar="F",
                   help="pack a layer sparse when the fraction of (group, input) pairs it keeps is at most F "
                        "(default: the converter's)")
    p.add_argument("--dense", action="store_true", help="store every layer dense (no sparse kernels)")
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
                       description="Run the .sbn and the reference (ONNX via onnxruntime, or a TorchScript .pt) on "
                                   "the same inputs; report max abs/rel error and top-1/top-5 agreement. Exit 1 "
                                   "when the tolerance is exceeded.")
    p.add_argument("model", help="the .sbn file")
    p.add_argument("--reference", required=True, help="the reference model: .onnx or TorchScript .pt")
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

    p = sub.add_parser("demo", help="MobileNetV2 end to end: convert, prune, run, check, classify a photo",
                       description="Build MobileNetV2 with ImageNet weights, convert it dense and 50%% group-sparse, "
                                   "run both on the host, under qemu-aarch64 and in WebAssembly under node, check "
                                   "against PyTorch, classify a real photo, print errors, latencies and sizes.")
    p.add_argument("--out", default="out/demo", help="directory for the ONNX and .sbn files (default out/demo)")
    p.add_argument("--no-qemu", action="store_true", help="skip the qemu-aarch64 runs")
    p.add_argument("--no-wasm", action="store_true",
                   help="skip the WebAssembly runs in node (web/dist, built with web/build.sh when missing)")
    p.set_defaults(func=cmd_demo)
    for command in sub.choices.values():
        command.epilog, command.formatter_class = EXIT_STATUS, _HelpFormatter
    return parser


def _is_user_error(e: Exception) -> bool:
    """Engine and converter errors describe bad input (file, node, shape): a message, not a traceback."""
    from .converters import ConversionError
    from .runtime import SparsebyteError

    return isinstance(e, (SparsebyteError, ConversionError))


def _missing_dependency(error: ImportError) -> int:
    """Exit 2 with one line naming the `pip install` when an optional dependency is missing; re-raise otherwise."""
    message = missing_dependency(error)
    if message is None:
        raise error
    print(f"sparsebyte: error: {message}", file=sys.stderr)
    return 2


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sparsify"]:  # the training side has its own parser (and imports torch)
        try:
            if not {"-h", "--help"} & set(argv):
                require("sparsebyte sparsify", "torch")
            from .sparsify.cli import main as sparsify_main

            return sparsify_main(argv[1:])
        except ImportError as e:
            return _missing_dependency(e)
        except ResourceError as e:
            print(f"sparsebyte: error: {e}", file=sys.stderr)
            return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "threads", 1) < 1:
        parser.error("--threads must be >= 1")
    if getattr(args, "repeat", 1) < 1 or getattr(args, "warmup", 0) < 0:
        parser.error("--repeat must be >= 1 and --warmup >= 0")
    try:
        return int(args.func(args) or 0)
    except CliError as e:
        print(f"sparsebyte: error: {e}", file=sys.stderr)
        return 2
    except ResourceError as e:  # a tool, a packaged file or an optional package is missing
        print(f"sparsebyte: error: {e}", file=sys.stderr)
        return 2
    except ImportError as e:
        return _missing_dependency(e)
    except BrokenPipeError:  # `sparsebyte profile m.sbn | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:
        if _is_user_error(e):
            print(f"sparsebyte: error: {e}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
