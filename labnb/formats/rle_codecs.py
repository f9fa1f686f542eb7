"""The two run-length mask codecs labnb meets outside COCO: Label Studio's brush RLE and CVAT's mask RLE.

Both are converted to and from full-image boolean masks ``(height, width)``, which is what
:class:`labnb.Mask` takes and gives; neither codec touches the database or the schema.

Label Studio brush RLE (``brushlabels`` results with ``"format": "rle"``) is the bit-packed run-length
code of thi.ng's ``rle-pack``, applied to the RGBA pixels of the brush layer flattened row by row
(``height * width * 4`` values). Its header holds the value count (32 bits), the word size minus one
(5 bits) and four run-length field widths minus one (4 bits each). Then each record starts with one
bit: ``1`` is a repeat (a 2-bit width index, the run length minus one, one word), ``0`` a literal
stretch (the same index and length, then that many words). A pixel belongs to the mask when its alpha
channel is non-zero, as in label-studio-converter's ``brush.py``. We write every channel as 255 inside
and 0 outside, with word size 8 and field widths 3, 4, 8 and 16 bits, which Label Studio reads back.

CVAT mask RLE (``<mask rle="..." left top width height>``) counts alternating runs over the mask's own
``width x height`` box, row by row, starting with background (a leading 0 when the first pixel is set).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from labnb.errors import GeometryError

BoolMask = NDArray[np.bool_]

#: Run-length field widths (bits) we write, as Label Studio's own encoder does.
_BRUSH_RLE_SIZES = (3, 4, 8, 16)
_BRUSH_HEADER_BITS = 32 + 5 + 4 * 4
_CHANNELS = 4


def _runs(flat: NDArray[np.bool_]) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Values and lengths of the runs of equal neighbours in a flat array."""
    starts = np.concatenate(([0], np.flatnonzero(flat[1:] != flat[:-1]) + 1))
    lengths = np.diff(np.append(starts, flat.size)).astype(np.int64)
    return flat[starts], lengths


def decode_brush_rle(rle: Sequence[int] | bytes, width: int, height: int) -> BoolMask:
    """Decode Label Studio brush RLE (a list of byte values) into a ``(height, width)`` mask."""
    try:
        data = bytes(rle)
    except (TypeError, ValueError) as exc:
        raise GeometryError("brush RLE must be a list of byte values (0-255)") from exc
    nbits = 8 * len(data)
    if nbits < _BRUSH_HEADER_BITS:
        raise GeometryError(f"brush RLE is {len(data)} bytes, too short for its header")
    bits = bin(int.from_bytes(data, "big"))[2:].zfill(nbits)
    num = int(bits[0:32], 2)
    word = int(bits[32:37], 2) + 1
    sizes = [int(bits[37 + 4 * k : 41 + 4 * k], 2) + 1 for k in range(4)]
    if num != width * height * _CHANNELS:
        raise GeometryError(
            f"brush RLE holds {num} values, but a {width}x{height} RGBA image needs {width * height * _CHANNELS}"
        )
    values: list[int] = []
    lengths: list[int] = []
    pos, i = _BRUSH_HEADER_BITS, 0
    try:
        while i < num:
            repeat = bits[pos] == "1"
            field = sizes[int(bits[pos + 1 : pos + 3], 2)]
            n = int(bits[pos + 3 : pos + 3 + field], 2) + 1
            pos += 3 + field
            if repeat:
                values.append(int(bits[pos : pos + word], 2))
                lengths.append(n)
                pos += word
            else:
                for _ in range(n):
                    values.append(int(bits[pos : pos + word], 2))
                    lengths.append(1)
                    pos += word
            if pos > nbits:
                raise IndexError
            i += n
    except (IndexError, ValueError) as exc:  # ran off the end of the bit string
        raise GeometryError(f"brush RLE is truncated: it ends after {i} of its {num} values") from exc
    # A last run may overshoot the count; Label Studio's decoder clips it, and so do we.
    flat = np.repeat(np.asarray(values, dtype=np.uint64), lengths)[:num]
    alpha = flat.reshape(height, width, _CHANNELS)[:, :, 3]
    mask: BoolMask = alpha > 0
    return mask


def encode_brush_rle(mask: NDArray[np.bool_]) -> list[int]:
    """Encode a ``(height, width)`` mask as Label Studio brush RLE (a list of byte values)."""
    flat = np.asarray(mask, dtype=bool).ravel()
    values, lengths = _runs(flat)
    parts = [
        f"{flat.size * _CHANNELS:032b}",
        f"{8 - 1:05b}",
        *(f"{s - 1:04b}" for s in _BRUSH_RLE_SIZES),
    ]
    longest = 1 << _BRUSH_RLE_SIZES[-1]
    for inside, count in zip(values.tolist(), (lengths * _CHANNELS).tolist(), strict=True):
        word = "11111111" if inside else "00000000"
        left = count
        while left > 0:
            n = min(left, longest)
            left -= n
            index = next(k for k, s in enumerate(_BRUSH_RLE_SIZES) if n <= 1 << s)
            parts.append(f"1{index:02b}{n - 1:0{_BRUSH_RLE_SIZES[index]}b}{word}")
    bits = "".join(parts)
    bits += "0" * (-len(bits) % 8)
    return list(int(bits, 2).to_bytes(len(bits) // 8, "big"))


def cvat_rle_to_mask(
    counts: Sequence[int], left: int, top: int, box_width: int, box_height: int, width: int, height: int
) -> BoolMask:
    """Expand CVAT mask RLE over its box at ``(left, top)`` into a full ``(height, width)`` mask."""
    if box_width <= 0 or box_height <= 0:
        raise GeometryError(f"mask box must have a positive size, got {box_width}x{box_height}")
    if left < 0 or top < 0 or left + box_width > width or top + box_height > height:
        raise GeometryError(
            f"mask box (left={left}, top={top}, {box_width}x{box_height}) lies outside the {width}x{height} image"
        )
    runs = np.asarray(counts, dtype=np.int64)
    if runs.ndim != 1 or (runs < 0).any():
        raise GeometryError("mask RLE counts must be non-negative integers")
    if int(runs.sum()) != box_width * box_height:
        raise GeometryError(
            f"mask RLE counts sum to {int(runs.sum())}, but the box has {box_width * box_height} pixels"
        )
    inside = np.arange(runs.size) % 2 == 1  # runs alternate, starting with background
    full: BoolMask = np.zeros((height, width), dtype=bool)
    full[top : top + box_height, left : left + box_width] = np.repeat(inside, runs).reshape(box_height, box_width)
    return full


def mask_to_cvat_rle(mask: NDArray[np.bool_]) -> tuple[list[int], int, int, int, int] | None:
    """CVAT mask RLE of a full-image mask: ``(counts, left, top, width, height)``; ``None`` when empty."""
    arr = np.asarray(mask, dtype=bool)
    rows, cols = np.flatnonzero(arr.any(axis=1)), np.flatnonzero(arr.any(axis=0))
    if rows.size == 0:
        return None
    top, bottom, left, right = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    values, lengths = _runs(arr[top : bottom + 1, left : right + 1].ravel())
    counts = lengths.tolist()
    if values[0]:
        counts.insert(0, 0)
    return counts, left, top, right - left + 1, bottom - top + 1
