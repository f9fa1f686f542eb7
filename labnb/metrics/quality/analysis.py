"""The analysis image every pixel metric is computed on: the picture as shown (EXIF orientation applied),
RGB, resized so its short side is 256 pixels.

Computing at one stated resolution is what makes a metric mean the same on a phone photo and a thumbnail:
a Laplacian variance on the full-size image grows with resolution and JPEG noise (Encord's sharpness does),
one at short side 256 does not. JPEGs are decoded at a reduced scale first (libjpeg's DCT scaling, an
area-like reduction, and most of the decode time saved), then box-resized to the exact size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

#: the short side, in pixels, of the image pixel metrics are computed on
ANALYSIS_SHORT_SIDE = 256


def analysis_image(source: str | Path | Image.Image | NDArray[np.uint8]) -> NDArray[np.uint8]:
    """An ``(h, w, 3)`` uint8 RGB array whose short side is :data:`ANALYSIS_SHORT_SIDE` (an image that is
    smaller already is kept at its size, never enlarged)."""
    if isinstance(source, np.ndarray):
        image = Image.fromarray(_as_rgb_array(source))
    elif isinstance(source, Image.Image):
        image = source
    else:
        image = Image.open(source)
        short = min(image.size)
        if image.format == "JPEG" and short > ANALYSIS_SHORT_SIDE:
            scale = ANALYSIS_SHORT_SIDE / short
            image.draft("RGB", (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale))))
    image = ImageOps.exif_transpose(image)
    if image.mode != "RGB":
        image = image.convert("RGB")
    w, h = image.size
    short = min(w, h)
    if short > ANALYSIS_SHORT_SIDE:
        scale = ANALYSIS_SHORT_SIDE / short
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = image.resize(size, Image.Resampling.BOX)
    return np.asarray(image, dtype=np.uint8)


def _as_rgb_array(array: NDArray[np.generic]) -> NDArray[np.uint8]:
    a = np.asarray(array)
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"an image array must be (h, w), (h, w, 3) or (h, w, 4), got {a.shape}")
    if a.dtype != np.uint8:
        raise ValueError(f"an image array must be uint8, got {a.dtype}")
    return np.ascontiguousarray(a[..., :3])


def luma(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """BT.709 luma of gamma-encoded sRGB, 8 bits, in integers: ``0.2126 R + 0.7152 G + 0.0722 B`` rounded
    (PIL's ``convert("L")`` is BT.601, other weights)."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((13933 * r + 46871 * g + 4732 * b + 32768) >> 16).astype(np.uint8)
