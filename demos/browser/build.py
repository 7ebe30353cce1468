"""Builds the browser demo's assets: MobileNetV2 (ImageNet weights) dense and group-sparse as .sbn files (the team's
converter), a real photo (chelsea the cat, from scikit-image), the ImageNet labels, and the wasm engine
(web/build.sh). Everything lands in demos/browser/assets/ (gitignored) or --out.

    python demos/browser/build.py [--out DIR] [--sparsity 0.5] [--group 4]
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from PIL import Image

from sparsebyte.converters import convert
from sparsebyte.images import imagenet_labels, sample_photo
from sparsebyte.models.mobilenet_v2 import mobilenet_v2
from sparsebyte.prune import mask_sparsity, prune_groups

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
INPUT_SHAPE = (1, 3, 224, 224)


def build_assets(
    out: Path, sparsity: float = 0.5, group: int = 4, build_wasm: bool = True, sparse_model: Path | None = None
) -> dict[str, str]:
    """Writes the assets and manifest.json (what the page loads); returns the manifest. `sparse_model`: use this
    .sbn (e.g. a fine-tuned one) instead of one-shot pruning the ImageNet weights."""
    out.mkdir(parents=True, exist_ok=True)
    if build_wasm:
        subprocess.run([str(REPO / "web" / "build.sh")], cwd=REPO, check=True)
    dense = mobilenet_v2(pretrained=True).eval()
    sparse = copy.deepcopy(dense)
    masks = prune_groups(sparse, sparsity, group=group)
    example = torch.zeros(INPUT_SHAPE)
    convert(dense, out / "mobilenet_v2_dense.sbn", example_input=example, force_dense=True)
    if sparse_model is not None:
        shutil.copyfile(sparse_model, out / "mobilenet_v2_sparse.sbn")
        sparse_label = f"{sparse_model.name} (given)"
    else:
        convert(sparse, out / "mobilenet_v2_sparse.sbn", example_input=example, group=group)
        sparse_label = f"{mask_sparsity(masks):.0%} group-sparse, G={group} (one-shot, no fine-tuning)"
    Image.fromarray(sample_photo("chelsea")).save(out / "chelsea.jpg", quality=92)
    (out / "labels.json").write_text(json.dumps(list(imagenet_labels())))
    manifest = {
        "dense": "mobilenet_v2_dense.sbn",
        "sparse": "mobilenet_v2_sparse.sbn",
        "sparse_label": sparse_label,
        "photo": "chelsea.jpg",
        "labels": "labels.json",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "assets")
    parser.add_argument("--sparsity", type=float, default=0.5)
    parser.add_argument("--group", type=int, default=4, choices=(1, 2, 4, 8))
    parser.add_argument("--sparse-model", type=Path, help="a sparse .sbn to show instead of one-shot pruning")
    parser.add_argument("--no-wasm", action="store_true", help="skip web/build.sh (already built)")
    ns = parser.parse_args()
    manifest = build_assets(ns.out, ns.sparsity, ns.group, build_wasm=not ns.no_wasm, sparse_model=ns.sparse_model)
    print(f"assets in {ns.out}: {', '.join(sorted(set(manifest.values())))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
