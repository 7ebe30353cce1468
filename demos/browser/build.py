"""Builds the browser demo's assets: MobileNetV2 (ImageNet weights) dense and group-sparse as .sbn files (the team's
converter), a real photo (chelsea the cat, from scikit-image), the ImageNet labels; for the pose tab MediaPipe's
pose_detection.tflite converted sparse and --dense, the decoder's options and anchors (sparsebyte.ssd) as JSON and a
photo with a person; and the wasm engine (web/build.sh). Everything lands in demos/browser/assets/ (gitignored) or
--out.

    python demos/browser/build.py [--out DIR] [--sparsity 0.3] [--group 4] [--no-classifier] [--no-pose]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from PIL import Image

from sparsebyte.converters import convert

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
INPUT_SHAPE = (1, 3, 224, 224)


POSE_PHOTO = "astronaut"


def build_pose_assets(out: Path, tflite: Path | None = None) -> dict[str, Any]:
    """The pose tab's files; returns manifest["pose"]. The bundled photo's model input is also written as the exact
    224x224 letterboxed pixels (lossless PNG), so the page decodes the same tensor as Python."""
    from sparsebyte import pose_demo, ssd

    source = pose_demo.model_file(tflite)
    report = convert(source, out / "pose_detection_sparse.sbn")
    convert(source, out / "pose_detection_dense.sbn", force_dense=True)
    (out / "pose_detection.json").write_text(json.dumps(ssd.browser_params()))
    image = pose_demo.photo(POSE_PHOTO)
    pixels, box = pose_demo.model_input(image)[0::2]
    Image.fromarray(image).save(out / f"{POSE_PHOTO}.jpg", quality=92)
    Image.fromarray(pixels).save(out / f"{POSE_PHOTO}_input.png")
    return {
        "dense": "pose_detection_dense.sbn",
        "sparse": "pose_detection_sparse.sbn",
        "params": "pose_detection.json",
        "photo": f"{POSE_PHOTO}.jpg",
        "photo_name": f"skimage.data.{POSE_PHOTO}",
        "input": f"{POSE_PHOTO}_input.png",
        "padding": list(box.padding),
        "label": f"pose_detection.tflite (MediaPipe 0.10.14), {report.sparse_layers} of {len(report.layers)} "
                 "layers sparse as stored",
    }


def build_assets(
    out: Path, sparsity: float = 0.3, group: int = 4, build_wasm: bool = True, sparse_model: Path | None = None,
    classifier: bool = True, pose: bool = True,
) -> dict[str, Any]:
    """Writes the assets and manifest.json (what the page loads); returns the manifest. `sparse_model`: use this
    .sbn (e.g. a fine-tuned one) instead of the demo's shipped recovered model (sparsebyte.demo.sparse_classifier;
    the page shows how it was made). classifier/pose: which tabs get their files (the page hides what is absent)."""
    out.mkdir(parents=True, exist_ok=True)
    if build_wasm:
        subprocess.run([str(REPO / "web" / "build.sh")], cwd=REPO, check=True)
    manifest: dict[str, Any] = {}
    if pose:
        manifest["pose"] = build_pose_assets(out)
    if classifier:
        manifest.update(_classifier_assets(out, sparsity, group, sparse_model))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def _classifier_assets(out: Path, sparsity: float, group: int, sparse_model: Path | None) -> dict[str, str]:
    import torch

    from sparsebyte.demo import sparse_classifier
    from sparsebyte.images import imagenet_labels, sample_photo
    from sparsebyte.models.mobilenet_v2 import mobilenet_v2

    example = torch.zeros(INPUT_SHAPE)
    dense = mobilenet_v2(pretrained=True).eval()
    convert(dense, out / "mobilenet_v2_dense.sbn", example_input=example, force_dense=True)
    if sparse_model is not None:
        shutil.copyfile(sparse_model, out / "mobilenet_v2_sparse.sbn")
        sparse_label = f"{sparse_model.name} (given)"
    else:
        sparse, _, sparse_label = sparse_classifier(dense, sparsity, group)  # the terminal demo's model, same recipe
        convert(sparse, out / "mobilenet_v2_sparse.sbn", example_input=example, group=group)
    Image.fromarray(sample_photo("chelsea")).save(out / "chelsea.jpg", quality=92)
    (out / "labels.json").write_text(json.dumps(list(imagenet_labels())))
    return {
        "dense": "mobilenet_v2_dense.sbn",
        "sparse": "mobilenet_v2_sparse.sbn",
        "sparse_label": sparse_label,
        "photo": "chelsea.jpg",
        "labels": "labels.json",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "assets")
    parser.add_argument("--sparsity", type=float, default=0.3, help="0.3: the shipped recovered model")
    parser.add_argument("--group", type=int, default=4, choices=(1, 2, 4, 8))
    parser.add_argument("--sparse-model", type=Path, help="a sparse .sbn to show instead of the recovered model")
    parser.add_argument("--no-wasm", action="store_true", help="skip web/build.sh (already built)")
    parser.add_argument("--no-classifier", action="store_true", help="no MobileNetV2 tab (no torch needed)")
    parser.add_argument("--no-pose", action="store_true", help="no pose detector tab")
    ns = parser.parse_args()
    build_assets(ns.out, ns.sparsity, ns.group, build_wasm=not ns.no_wasm, sparse_model=ns.sparse_model,
                 classifier=not ns.no_classifier, pose=not ns.no_pose)
    print(f"assets in {ns.out}: {', '.join(sorted(p.name for p in ns.out.iterdir()))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
