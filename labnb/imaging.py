"""Reading image files: cheap checks at load time, full pixels only when asked.

A file is checked by its header (format, size, EXIF orientation) and by its end marker (a truncated JPEG
or PNG is the most common corruption of a copied data set) and hashed for duplicate detection. Its full
pixels are decoded later, when someone looks at it; what adding decodes is a reduced version, for the
stored previews (``labnb.pyramid``): JPEG decodes at 1/2..1/8 scale inside the inverse DCT
(:func:`decode_reduced`), so that costs a fraction of a full decode.
Sizes are reported after EXIF orientation, which is what a person sees and what coordinates refer to.

Size limit: every decode here goes through :func:`open_checked`, which refuses an image over
:data:`MAX_PIXELS` with an error naming it, before any pixel is decoded. Pillow's own decompression-bomb
check is switched off in its place (it would refuse a 20000x15000 photo with a message about a "DOS
attack"), so this is the one rule, at adding, showing, tiling and reading alike.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from labnb.errors import AssetError

#: The largest image labnb accepts, in pixels (width x height after decoding). Showing one at full
#: resolution decodes it whole once (``labnb.pyramid``: 3 bytes a pixel, 3 GB at this limit), so the limit
#: is what a workstation can hold; a 20000x15000 scan (300 MP) is well inside it, a 50,000 x 50,000
#: decompression bomb (7.5 GB decoded from a few MB of file) is refused by name. Pillow's own check (a
#: warning above 89 MP, an error above 179 MP) is replaced by this one: see :func:`open_checked`.
MAX_PIXELS = 1_000_000_000
Image.MAX_IMAGE_PIXELS = None  # open_checked applies MAX_PIXELS to every image labnb opens

_EXIF_ORIENTATION = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str
    sha256: str


def check_size(width: int, height: int, name: str) -> None:
    """Refuse an image over :data:`MAX_PIXELS` (a decompression bomb, or more than labnb can show)."""
    if width * height > MAX_PIXELS:
        raise AssetError(
            f"{name}: {width}x{height} pixels is more than labnb's limit of {MAX_PIXELS:,} pixels "
            "(split it into tiles first)"
        )


def open_checked(data: bytes | Path, name: str) -> Image.Image:
    """``Image.open`` (lazy: header only) with labnb's size limit applied before any decoding."""
    try:
        im = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
    except UnidentifiedImageError as exc:
        raise AssetError(f"{name}: not an image file (no known image format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise AssetError(f"{name}: unreadable image ({exc})") from exc
    try:
        check_size(*im.size, name)
    except AssetError:
        im.close()
        raise
    return im


def _orientation(im: Image.Image) -> int:
    fmt = (im.format or "").lower()
    return int(im.getexif().get(_EXIF_ORIENTATION, 1)) if fmt in ("jpeg", "tiff", "webp", "png") else 1


def probe_bytes(data: bytes, name: str) -> ImageInfo:
    """Check encoded image bytes and return their displayed size, format and hash."""
    try:
        with open_checked(data, name) as im:
            fmt = (im.format or "").lower()
            w, h = im.size
            orientation = _orientation(im)
    except AssetError:
        raise  # named already (an AssetError is a ValueError too: it would be wrapped in itself)
    except (OSError, SyntaxError, ValueError) as exc:
        raise AssetError(f"{name}: unreadable image ({exc})") from exc
    _check_complete(data, fmt, name)
    if orientation in _SWAPS_AXES:
        w, h = h, w
    return ImageInfo(width=w, height=h, format=fmt, sha256=hashlib.sha256(data).hexdigest())


def read_file(path: Path) -> bytes:
    """A file's bytes; a missing, unreadable or empty file raises :class:`AssetError` naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise AssetError(f"{path}: file not found") from exc
    except OSError as exc:
        raise AssetError(f"{path}: cannot be read ({exc.strerror})") from exc
    if not data:
        raise AssetError(f"{path}: the file is empty")
    return data


def probe_file(path: Path) -> ImageInfo:
    return probe_bytes(read_file(path), str(path))


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
    im = open_checked(data, name)
    try:
        im.load()
        return ImageOps.exif_transpose(im)
    except (OSError, SyntaxError, ValueError) as exc:
        raise AssetError(f"{name}: cannot decode image ({exc})") from exc


def decode_reduced(data: bytes, name: str, factor: int = 1) -> Image.Image:
    """The image at ``1/factor`` of its size (``factor`` a power of two), EXIF orientation applied, as RGB
    (or RGBA when it has transparency; 16-bit scaled as :func:`to_rgb_array` does).

    The size is exactly ``ceil(w / factor) x ceil(h / factor)``, the size of pyramid level
    ``log2(factor)`` (``labnb.pyramid``). JPEG is decoded at 1/2, 1/4 or 1/8 scale by libjpeg itself
    (``draft``: a 20000x15000 JPEG at 1/8 in a twentieth of the time of a full decode, and 1/64 of the
    memory); the rest of the reduction, and every other format, is a box filter (``Image.reduce``)."""
    if factor < 1 or factor & (factor - 1):
        raise ValueError(f"factor must be a power of two, got {factor}")
    with open_checked(data, name) as im:
        w, h = im.size
        swaps = _orientation(im) in _SWAPS_AXES
        done = 1
        try:
            if (im.format or "").lower() == "jpeg" and factor > 1 and im.mode in ("RGB", "L", "CMYK"):
                dct = min(factor, 8)
                # asking for w // dct makes Pillow pick scale 1/dct (the largest 1/2^k whose result is at
                # least the size asked for); decoderconfig says which it took
                im.draft(im.mode, (max(1, w // dct), max(1, h // dct)))
                done = int(im.decoderconfig[0]) if im.decoderconfig else 1
            im.load()
            shown = ImageOps.exif_transpose(im)
        except (OSError, SyntaxError, ValueError) as exc:
            raise AssetError(f"{name}: cannot decode image ({exc})") from exc
    out = normalize_mode(shown)
    if factor // done > 1:
        out = out.reduce(factor // done)
    expected = _reduced_size((h, w) if swaps else (w, h), factor)
    if out.size != expected:  # never seen; a level must have its exact size, or tiles would not line up
        out = out.resize(expected, Image.Resampling.BOX)
    return out


def _reduced_size(size: tuple[int, int], factor: int) -> tuple[int, int]:
    return math.ceil(size[0] / factor), math.ceil(size[1] / factor)


def has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)


def normalize_mode(im: Image.Image) -> Image.Image:
    """RGBA when the image has transparency, else RGB (16-bit min-max scaled, CMYK converted)."""
    if has_alpha(im):
        return im.convert("RGBA")
    return Image.fromarray(to_rgb_array(im)) if im.mode != "RGB" else im


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
    with open_checked(data, name) as im:
        fmt = (im.format or "").lower()
        w, h = im.size
        orientation = _orientation(im)
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
    out = io.BytesIO()
    if has_alpha(shown):
        shown.convert("RGBA").save(out, format="PNG")
        mime = "image/png"
    else:
        Image.fromarray(to_rgb_array(shown)).save(out, format="JPEG", quality=90)
        mime = "image/jpeg"
    return DisplayImage(out.getvalue(), mime, shown.size[0], shown.size[1])
