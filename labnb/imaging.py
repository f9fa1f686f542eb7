"""Reading image files: cheap checks at load time, pixels only when asked.

Adding 100,000 images must not decode 100,000 images, so a file is checked by its header (format,
size, EXIF orientation) and by its end marker (a truncated JPEG or PNG is the most common corruption
of a copied data set), hashed for duplicate detection, and decoded later when someone looks at it.
Sizes are reported after EXIF orientation, which is what a person sees and what coordinates refer to.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from labnb.errors import AssetError

#: Pillow refuses larger images as a decompression bomb; labnb checks its own limit with a clearer
#: message. 50,000 x 50,000 is big but real (slides, satellite tiles), and is read lazily.
MAX_PIXELS = 50_000 * 50_000
Image.MAX_IMAGE_PIXELS = None  # our own check below replaces Pillow's warning/exception

_EXIF_ORIENTATION = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str
    sha256: str


def probe_bytes(data: bytes, name: str) -> ImageInfo:
    """Check encoded image bytes and return their displayed size, format and hash."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = (im.format or "").lower()
            w, h = im.size
            orientation = im.getexif().get(_EXIF_ORIENTATION, 1) if fmt in ("jpeg", "tiff", "webp", "png") else 1
    except UnidentifiedImageError as exc:
        raise AssetError(f"{name}: not an image file (no known image format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise AssetError(f"{name}: unreadable image ({exc})") from exc
    if w * h > MAX_PIXELS:
        raise AssetError(f"{name}: {w}x{h} pixels is more than labnb's limit of {MAX_PIXELS:,} pixels")
    _check_complete(data, fmt, name)
    if orientation in _SWAPS_AXES:
        w, h = h, w
    return ImageInfo(width=w, height=h, format=fmt, sha256=hashlib.sha256(data).hexdigest())


def probe_file(path: Path) -> ImageInfo:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise AssetError(f"{path}: file not found") from exc
    except OSError as exc:
        raise AssetError(f"{path}: cannot be read ({exc.strerror})") from exc
    if not data:
        raise AssetError(f"{path}: the file is empty")
    return probe_bytes(data, str(path))


def _check_complete(data: bytes, fmt: str, name: str) -> None:
    """Detect truncation from the container's end marker, without decoding pixels."""
    if fmt == "jpeg":
        # Some encoders pad after EOI; look for it near the end.
        if b"\xff\xd9" not in data[-1024:]:
            raise AssetError(f"{name}: truncated JPEG (the end-of-image marker is missing)")
    elif fmt == "png":
        if b"IEND" not in data[-64:]:
            raise AssetError(f"{name}: truncated PNG (the IEND chunk is missing)")
    elif fmt == "gif" and not data.rstrip(b"\x00").endswith(b";"):
        raise AssetError(f"{name}: truncated GIF (the trailer is missing)")


def open_image(data: bytes | Path, name: str) -> Image.Image:
    """Decode to a PIL image with EXIF orientation applied; errors name the image."""
    try:
        im = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
        im.load()
        return ImageOps.exif_transpose(im)
    except (OSError, SyntaxError, ValueError) as exc:
        raise AssetError(f"{name}: cannot decode image ({exc})") from exc


def to_rgb_array(im: Image.Image) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """An ``(h, w, 3)`` uint8 array for any mode: grayscale, 16-bit, RGBA, CMYK, palette."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(arr)
        gray = scaled.astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if im.mode == "RGBA" or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(im.convert("RGB"))


def encode_png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def array_to_image(arr: Any, name: str) -> Image.Image:
    """A numpy array (``(h, w)``, ``(h, w, 3)`` or ``(h, w, 4)``, uint8 or uint16) as a PIL image."""
    a = np.asarray(arr)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)):
        raise AssetError(f"{name}: an image array must be (h, w), (h, w, 3) or (h, w, 4), got {a.shape}")
    if a.size == 0:
        raise AssetError(f"{name}: the image array is empty")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.dtype == np.uint16 and a.ndim == 2:
        return Image.fromarray(a)
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating):
            if not np.isfinite(a).all():
                raise AssetError(f"{name}: the image array holds NaN or infinite values")
            a = np.clip(a * 255.0 if a.max() <= 1.0 else a, 0, 255)
        a = a.astype(np.uint8)
    return Image.fromarray(a)


#: Largest bitmap side sent to the browser. Canvases and GPU textures fail or crawl beyond this, and
#: the eye cannot use more at once; coordinates stay in full resolution whatever is shown.
MAX_DISPLAY_SIDE = 8192
#: Formats every browser decodes itself; others (TIFF, 16-bit, CMYK) are transcoded.
BROWSER_FORMATS = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}


@dataclass(frozen=True)
class DisplayImage:
    data: bytes
    mime: str
    width: int  # of the bitmap in ``data``
    height: int


def display_image(data: bytes, name: str, *, max_side: int = MAX_DISPLAY_SIDE) -> DisplayImage:
    """What the annotator sends the browser: the file's own bytes when the browser can show them as
    they are, else a transcoded (and, for very large images, downscaled) JPEG or PNG.

    Sending the original keeps the bytes on the wire at the file's size; transcoding is the exception:
    TIFF/BMP, 16-bit, CMYK or palette-with-alpha images, EXIF-rotated files and images over ``max_side``.
    """
    with Image.open(io.BytesIO(data)) as im:
        fmt = (im.format or "").lower()
        w, h = im.size
        orientation = im.getexif().get(_EXIF_ORIENTATION, 1) if fmt in ("jpeg", "tiff", "webp", "png") else 1
        plain_mode = im.mode in ("L", "RGB", "RGBA", "LA", "P", "1")
        if fmt in BROWSER_FORMATS and plain_mode and orientation == 1 and max(w, h) <= max_side:
            return DisplayImage(data, BROWSER_FORMATS[fmt], w, h)
        if fmt == "jpeg":
            im.draft("RGB", (max_side, max_side))  # decode at 1/2, 1/4 or 1/8 scale: a 50,000 px JPEG stays cheap
        try:
            im.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise AssetError(f"{name}: cannot decode image ({exc})") from exc
        shown = ImageOps.exif_transpose(im)
    if max(shown.size) > max_side:
        shown.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    rgb = to_rgb_array(shown)
    has_alpha = shown.mode in ("RGBA", "LA") or (shown.mode == "P" and "transparency" in shown.info)
    out = io.BytesIO()
    if has_alpha:
        Image.fromarray(np.asarray(shown.convert("RGBA"))).save(out, format="PNG")
        mime = "image/png"
    else:
        Image.fromarray(rgb).save(out, format="JPEG", quality=90)
        mime = "image/jpeg"
    return DisplayImage(out.getvalue(), mime, shown.size[0], shown.size[1])
