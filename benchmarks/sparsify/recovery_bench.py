"""Accuracy recovery without the training set: MobileNetV2 (torchvision ImageNet weights), group pruning, each
recovery method, against CPU minutes.

Data (benchmarks/sparsify/photos.py): training source photos and 12 disjoint evaluation source photos (the demo's
photo, chelsea, is an evaluation photo). `--photo-set base` (the default, so earlier commands reproduce): the 58
training photos of the earlier rows, in ~/.cache/sparsebyte/photos2; `--photo-set extended`: 273 training photos
in ~/.cache/sparsebyte/photos3 (the base 58 plus Debian wallpapers and tuxpaint's photographic stamps).
SPARSEBYTE_PHOTOS overrides the folder; a missing folder is collected. The evaluation photos are the same in both
sets. Evaluation set: each evaluation photo's centre crop plus 6 seeded random resized crops (scale 0.25-1, flip,
colour jitter): 84 images at 224x224. Metrics vs the dense model on the evaluation set: top-1 agreement, mean top-5
overlap, mean logit cosine.

Methods (one row each):
- none: one-shot magnitude pruning;
- bn: one-shot + BatchNorm re-estimation on 256 augmented training crops (224x224);
- bnrel: the same, applying only the shift pruning caused (measured against the dense model on the same crops);
- distill: one-shot + BN re-estimation + distillation from the dense teacher (KL at temperature T) on augmented
  training crops (random resized crop, flip, colour jitter, mixup/cutmix), then a final BN re-estimation;
- datafree: as distill, but on images synthesised from the teacher's BN statistics (DeepInversion) instead of photos.

CPU minutes are this process's CPU time (1 thread), so they do not depend on the machine's load. The run records a
curve (agreement after every `--eval-every` steps) and stops at `--steps`. One JSON row per run is appended to
--out (default benchmarks/sparsify/recovery_results.jsonl).

    nice -n 10 python benchmarks/sparsify/recovery_bench.py --sparsity 0.3 --group 4 --method distill --steps 600
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from mobilenet_v2_bench import agreement, logits  # noqa: E402
from photos import collect  # noqa: E402

from sparsebyte.models.mobilenet_v2 import mobilenet_v2  # noqa: E402
from sparsebyte.sparsify.allocate import find_layers  # noqa: E402
from sparsebyte.sparsify.api import Options, sparsify  # noqa: E402
from sparsebyte.sparsify.bn import reestimate_bn  # noqa: E402
from sparsebyte.sparsify.data import Augment, ImageFolder, SynthConfig, TensorImages, synthesize  # noqa: E402
from sparsebyte.sparsify.distill import DistillConfig  # noqa: E402
from sparsebyte.sparsify.masks import Pattern  # noqa: E402
from sparsebyte.sparsify.reconstruct import ReconstructConfig  # noqa: E402
from sparsebyte.sparsify.train import TrainConfig  # noqa: E402

PHOTO_DIRS = {"base": "photos2", "extended": "photos3"}  # ~/.cache/sparsebyte/<dir>


def eval_set(folder: ImageFolder) -> torch.Tensor:
    aug = Augment(224)
    return torch.cat([folder.center_views(224)] + [folder.batch(0, i, 12, aug, seed=99)[0] for i in range(6)])


def cpu_minutes(start: float) -> float:
    return round((time.process_time() - start) / 60, 2)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sparsity", type=float, default=0.5)
    p.add_argument("--group", type=int, default=4)
    p.add_argument("--rearrange", action="store_true")
    p.add_argument("--keep-last-dense", action="store_true", help="classifier dense (1.28 M of 3.5 M weights)")
    p.add_argument("--allocation", default="uniform", choices=("uniform", "global", "flops", "error", "error-macs"))
    p.add_argument("--method", choices=("none", "bn", "bnrel", "recon", "distill", "datafree"), default="distill")
    p.add_argument("--reconstruct", choices=("obs", "magnitude", "none"), default="none",
                   help="layer-wise reconstruction on the calibration images (method recon: obs)")
    p.add_argument("--bn-mode", choices=("absolute", "relative", "none"), default=None,
                   help="default: none with reconstruction, relative for method bnrel, else absolute")
    p.add_argument("--calib-images", type=int, default=256, help="calibration images (224x224, no jitter)")
    p.add_argument("--damp", type=float, default=0.01)
    p.add_argument("--schedule", default="oneshot")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--train-size", type=int, default=160, help="training crop size (evaluation is 224)")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--temperature", type=float, default=2.0)
    p.add_argument("--feature-weight", type=float, default=0.0)
    p.add_argument("--mixup", type=float, default=0.2)
    p.add_argument("--cutmix", type=float, default=0.2)
    p.add_argument("--freeze-bn", action="store_true")
    p.add_argument("--synth-images", type=int, default=64)
    p.add_argument("--synth-steps", type=int, default=100)
    p.add_argument("--photo-set", choices=tuple(PHOTO_DIRS), default="base",
                   help="training photos: base (58, the rows before the photo_set field) or extended (273)")
    p.add_argument("--out", default=str(HERE / "recovery_results.jsonl"))
    p.add_argument("--save", help="export the recovered model here")
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    photos = Path(os.environ.get("SPARSEBYTE_PHOTOS",
                                 Path.home() / ".cache" / "sparsebyte" / PHOTO_DIRS[args.photo_set]))
    if not (photos / "eval").is_dir():
        collect(photos, extended=args.photo_set == "extended")
    train_photos, eval_photos = ImageFolder(photos / "train"), ImageFolder(photos / "eval")
    images = eval_set(eval_photos)
    dense = mobilenet_v2(pretrained=True).eval()
    reference = logits(dense, images)
    start = time.process_time()
    wall = time.time()
    row: dict = {"sparsity": args.sparsity, "group": args.group, "rearrange": args.rearrange, "method": args.method,
                 "allocation": args.allocation, "classifier_pruned": not args.keep_last_dense,
                 "eval_images": len(images), "photo_set": args.photo_set, "photos_dir": str(photos),
                 "train_photos": len(train_photos), "load": os.getloadavg()[0]}
    if args.method == "recon" and args.reconstruct == "none":
        args.reconstruct = "obs"
    if args.bn_mode is None:
        args.bn_mode = "none" if args.reconstruct != "none" else "relative" if args.method == "bnrel" else "absolute"
    calibration = [train_photos.batch(0, i, 32, Augment(224, jitter=0.0), seed=1)[0]
                   for i in range(-(-args.calib_images // 32))]
    curve: list[dict] = []
    source = train_photos
    if args.method == "datafree":
        synth = synthesize(dense, args.synth_images, SynthConfig(size=args.train_size, steps=args.synth_steps),
                           batch_size=16)
        source = TensorImages(synth)
        calibration = [source.batch(0, i, 32, Augment(args.train_size, flip=True), seed=1)[0] for i in range(4)]
        row["synth"] = {"images": args.synth_images, "steps": args.synth_steps, "cpu_minutes": cpu_minutes(start)}
    aug = Augment(args.train_size, mixup=args.mixup, cutmix=args.cutmix)
    steps = args.steps if args.method in ("distill", "datafree") else 0
    epochs = -(-steps // args.eval_every) if steps else 0
    per_epoch = min(args.eval_every, steps) if steps else 0

    def evaluate(model: torch.nn.Module, note: str | None = None) -> float:
        was = model.training
        model.eval()
        m = agreement(reference, logits(model, images))
        model.train(was)
        curve.append({"cpu_minutes": cpu_minutes(start), **{k: round(v, 4) for k, v in m.items()},
                      **({"after": note} if note else {})})
        print(json.dumps(curve[-1]), flush=True)
        return m["top1_agreement"]

    options = Options(args.sparsity, Pattern("group", group=args.group), rearrange=args.rearrange,
                      bn_relative=args.bn_mode == "relative", bn_reestimate=args.bn_mode != "none",
                      reconstruct=ReconstructConfig(score=args.reconstruct, damp=args.damp)
                      if args.reconstruct != "none" else None,
                      allocation=args.allocation, prune_last=not args.keep_last_dense,
                      schedule=args.schedule, update_every=max(per_epoch // 2, 1),
                      train=TrainConfig(epochs=epochs, lr=args.lr, optimizer=args.optimizer, freeze_bn=args.freeze_bn),
                      distill=DistillConfig(temperature=args.temperature, feature_weight=args.feature_weight)
                      if steps else None)
    import sparsebyte.sparsify.api as api_mod

    plain_reconstruct = api_mod.reconstruct

    def traced_reconstruct(*a, **k):  # noqa: ANN002, ANN003, ANN202
        out = plain_reconstruct(*a, **k)  # the curve's point after reconstruction, before any distillation
        evaluate(a[0], "reconstruction")
        return out

    api_mod.reconstruct = traced_reconstruct
    result = sparsify(copy.deepcopy(dense), torch.zeros(1, 3, 224, 224), options,
                      batches=(lambda epoch: source.batches(epoch, per_epoch, args.batch, aug)) if steps else None,
                      steps_per_epoch=per_epoch, evaluate=evaluate if steps else None,
                      calibration=calibration if args.method != "none" or args.reconstruct != "none" else None,
                      progress=False)
    if steps and args.method == "datafree" and args.bn_mode != "none":
        reestimate_bn(result.model, calibration)
    if result.reconstruction:
        row["reconstruction"] = {k: {m: round(v, 5) for m, v in r.items()} for k, r in result.reconstruction.items()}
        row["layer_sparsity"] = {k: round(v, 4) for k, v in result.targets.items()}
    row["bn_estimator"] = "sequential"  # bn.py since 47cc8ff (earlier rows: Jacobi passes, not converged)
    row["measured_sparsity"] = round(result.sparsity, 4)  # zeros over the pruned layers' weights (the target's unit)
    pixels = {lay.name: lay.pixels for lay in find_layers(dense, torch.zeros(1, 3, 224, 224))}
    macs = {n: m.numel() * pixels[n] for n, m in result.masks.items()}
    row["mac_sparsity"] = round(sum(float((m == 0).float().mean()) * macs[n] for n, m in result.masks.items())
                                / sum(macs.values()), 4)  # the same, weighted by each layer's MACs
    final = agreement(reference, logits(result.model, images))
    chelsea = eval_photos.center_views(224)[[f.stem for f in eval_photos.files].index("chelsea")][None]
    with torch.no_grad():
        kept = bool(dense(chelsea).argmax() == result.model(chelsea).argmax())
    row.update({k: round(v, 4) for k, v in final.items()})
    row.update({"cpu_minutes": cpu_minutes(start), "wall_minutes": round((time.time() - wall) / 60, 1),
                "steps": steps, "chelsea_top1_kept": kept,
                "curve": curve, "settings": {k: v for k, v in vars(args).items() if k not in ("out", "save")}})
    if result.rearrangement is not None:
        row["rearrangement"] = result.rearrangement.summary()
    print(json.dumps(row), flush=True)
    with open(args.out, "a") as f:
        f.write(json.dumps(row) + "\n")
    if args.save:
        result.export(args.save, onnx=False)


if __name__ == "__main__":
    main()
