"""Any image a user may hand a model, as the one array models start from: contiguous RGB uint8 ``(h, w, 3)``.

Accepted: an RGB, grayscale ``(h, w)`` / ``(h, w, 1)`` or RGBA array (uint8, uint16, bool or float in
0..1 or 0..255), a PIL image of any mode, a file path, or encoded bytes. Files and bytes get their EXIF
orientation applied, because labnb's coordinates refer to the image as a person sees it. Alpha is dropped
(not composited), grayscale is replicated, 16-bit images are stretched from their min..max to 0..255 the
way labnb shows them in the annotator, so the model sees what the person sees.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from labnb.errors import AssetError
from labnb.imaging import open_image

#: What :func:`to_rgb` accepts.
ImageLike: TypeAlias = "NDArray[Any] | Image.Image | str | os.PathLike[str] | bytes | bytearray | memoryview"

RGB: TypeAlias = "NDArray[np.uint8]"


def to_rgb(image: ImageLike, name: str | None = None) -> RGB:
    """Return ``image`` as a C-contiguous RGB uint8 ``(h, w, 3)`` array.

    An RGB uint8 array that is already contiguous is returned as it is (no copy). ``name`` is used in
    error messages; by default the path, or a description of the bytes or array.

    Raises
    ------
    labnb.errors.AssetError
        The file is missing or not a decodable image, or the array has an unusable shape or values.
    """
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image, name or f"image array {image.shape}")
    if isinstance(image, Image.Image):
        return _pil_to_rgb(image, name or f"PIL image {image.mode} {image.size[0]}x{image.size[1]}")
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        label = name or str(path)
        if not path.is_file():
            raise AssetError(f"{label}: image file not found")
        return _pil_to_rgb(open_image(path, label), label)
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
        label = name or f"image bytes ({len(data):,} bytes)"
        if not data:
            raise AssetError(f"{label}: empty")
        return _pil_to_rgb(open_image(data, label), label)
    raise AssetError(
        f"{name or type(image).__name__}: not an image (expected a numpy array, a PIL image, a path or bytes)"
    )


def _stretch(a: NDArray[Any]) -> NDArray[np.uint8]:
    """Min..max of the image to 0..255, as labnb displays 16-bit images."""
    lo, hi = float(a.min()), float(a.max())
    if hi <= lo:
        return np.zeros(a.shape, np.uint8)
    out: NDArray[np.uint8] = ((a.astype(np.float32) - lo) * (255.0 / (hi - lo)) + 0.5).astype(np.uint8)
    return out


def _array_to_rgb(a: NDArray[Any], name: str) -> RGB:
    if a.ndim == 3 and a.shape[2] in (1, 3, 4):
        channels = a.shape[2]
    elif a.ndim == 2:
        channels = 1
    else:
        raise AssetError(f"{name}: an image array must be (h, w), (h, w, 1), (h, w, 3) or (h, w, 4), got {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise AssetError(f"{name}: the image array is empty")
    if channels == 4:
        a = a[..., :3]
    if a.dtype != np.uint8:
        if a.dtype == np.bool_:
            a = a.astype(np.uint8) * np.uint8(255)
        elif a.dtype in (np.uint16, np.int32, np.uint32, np.int64, np.uint64):
            a = _stretch(a) if int(a.max()) > 255 or a.dtype == np.uint16 else a.astype(np.uint8)
        elif np.issubdtype(a.dtype, np.floating):
            if not np.isfinite(a).all():
                raise AssetError(f"{name}: the image array holds NaN or infinite values")
            a = np.clip(a * 255.0 if float(a.max()) <= 1.0 else a, 0, 255).round().astype(np.uint8)
        elif np.issubdtype(a.dtype, np.integer):
            a = np.clip(a, 0, 255).astype(np.uint8)
        else:
            raise AssetError(f"{name}: unsupported image array dtype {a.dtype}")
    if channels == 1:
        gray = a.reshape(a.shape[0], a.shape[1])
        return np.repeat(gray[:, :, None], 3, axis=2)
    return np.ascontiguousarray(a)


def _pil_to_rgb(im: Image.Image, name: str) -> RGB:
    if im.mode == "RGB":
        return np.ascontiguousarray(np.asarray(im))
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _array_to_rgb(_stretch(np.asarray(im)), name)
    if im.mode in ("L", "1"):
        return _array_to_rgb(np.asarray(im.convert("L")), name)
    # RGBA, LA, P, CMYK, YCbCr, ...: Pillow's conversion to RGB drops alpha without compositing.
    return np.ascontiguousarray(np.asarray(im.convert("RGB")))
