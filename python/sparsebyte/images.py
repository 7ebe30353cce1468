"""ImageNet-style preprocessing, real sample photos (from the scikit-image wheel) and ImageNet class labels."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from . import resources

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
LABELS_FILE = "imagenet_labels.txt"  # in sparsebyte/data/
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".ppm", ".tif", ".tiff")

# Colour photos that ship inside scikit-image (no download): name -> skimage.data function.
SAMPLE_PHOTOS = ("chelsea", "coffee", "astronaut", "rocket")


def preprocess(image: Image.Image | np.ndarray, size: int = 224, resize: int = 256) -> np.ndarray:
    """Resize the short side to `resize`, centre-crop `size`, scale to [0, 1], normalise with ImageNet mean/std.

    Returns float32 [1, 3, size, size] (NCHW)."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    image = image.convert("RGB")
    w, h = image.size
    scale = resize / min(w, h)
    image = image.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.Resampling.BILINEAR)
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    image = image.crop((left, top, left + size, top + size))
    x = np.asarray(image, np.float32) / 255.0
    x = (x - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)


def sample_photo(name: str = "chelsea") -> np.ndarray:
    """A real photo from scikit-image as HxWx3 uint8 ("chelsea" is a cat, "coffee" a cup, ...)."""
    if name not in SAMPLE_PHOTOS:
        raise ValueError(f"unknown sample photo {name!r}; known: {list(SAMPLE_PHOTOS)}")
    try:
        from skimage import data
    except ImportError as e:
        raise ImportError("sample photos need scikit-image: pip install scikit-image") from e
    return getattr(data, name)()


def sample_inputs(size: int = 224) -> dict[str, np.ndarray]:
    """Every sample photo, preprocessed: name -> [1, 3, size, size]."""
    return {name: preprocess(sample_photo(name), size) for name in SAMPLE_PHOTOS}


def folder_inputs(folder: str | os.PathLike, size: int = 224, limit: int | None = None) -> dict[str, np.ndarray]:
    """The images of a folder (sorted by name), preprocessed: file name -> [1, 3, size, size]."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a directory")
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{root}: no image files ({', '.join(IMAGE_SUFFIXES)})")
    out = {}
    for p in files[:limit]:
        try:
            with Image.open(p) as im:
                out[p.name] = preprocess(im, size)
        except OSError as e:
            raise OSError(f"{p}: cannot read image: {e}") from e
    return out


@lru_cache(maxsize=1)
def imagenet_labels() -> tuple[str, ...]:
    """The 1000 ImageNet class names in class-index order."""
    path = resources.data_file(LABELS_FILE)
    labels = tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
    if len(labels) != 1000:
        raise ValueError(f"{path}: expected 1000 labels, found {len(labels)}")
    return labels


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def top_k(logits: np.ndarray, k: int = 5) -> list[tuple[int, str, float]]:
    """(class index, label, probability) of the k best classes of one logits vector."""
    flat = np.asarray(logits).reshape(-1)
    probs = softmax(flat)
    labels = imagenet_labels() if flat.size == 1000 else None
    order = np.argsort(-flat, kind="stable")[:k]
    return [(int(i), labels[i] if labels else str(int(i)), float(probs[i])) for i in order]
