"""Exact and near duplicates among images: content hashes, perceptual hashes and the groups they form.

- **Exact**: the SHA-256 of the decoded pixels *and* their shape, so two images match when they show the
  same pixels whatever file format holds them (labnb already refuses byte-identical files when they are
  added), and a 200x100 and a 100x200 image with the same bytes do not (cleanvision hashes the bytes alone).
- **Near**: a 64-bit pHash (the DCT of the 32x32 luma, its 8x8 lowest frequencies without the DC term, one
  bit per coefficient above their median, as imagehash's ``phash``) and groups of images within a Hamming
  radius of each other (connected components), where cleanvision asks for identical hashes only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy.fft import dctn
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from labnb.metrics.quality.analysis import luma

#: near duplicates differ in at most this many of the 64 bits (provisional; tuned on the benchmark's data)
NEAR_RADIUS = 6
_BITS = np.array([1 << i for i in range(63, -1, -1)], dtype=np.uint64)
_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def exact_hash(rgb: NDArray[np.uint8]) -> str:
    """The hex SHA-256 of an image's decoded pixels and shape (the full decode, not the analysis image)."""
    a = np.ascontiguousarray(rgb)
    return hashlib.sha256(repr(a.shape).encode() + a.tobytes()).hexdigest()


def phash(rgb: NDArray[np.uint8]) -> int:
    """The 64-bit perceptual hash of an image (any size; the analysis image is enough)."""
    small = Image.fromarray(luma(rgb)).resize((32, 32), Image.Resampling.LANCZOS)
    coeffs = dctn(np.asarray(small, dtype=np.float64), type=2, norm="ortho")[:8, :8].ravel()
    bits = coeffs > np.median(coeffs[1:])
    bits[0] = False  # the DC term says how bright, not what
    return int((_BITS[bits]).sum())


def hamming(a: NDArray[np.uint64], b: NDArray[np.uint64]) -> NDArray[np.int64]:
    """Bits that differ between each hash of ``a`` and each of ``b``: an ``(len(a), len(b))`` matrix."""
    x = np.ascontiguousarray(np.bitwise_xor(a[:, None], b[None, :]))
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.asarray(np.bitwise_count(x), dtype=np.int64)
    return np.asarray(_POPCOUNT8[x.view(np.uint8).reshape(*x.shape, 8)].sum(axis=-1), dtype=np.int64)


def near_groups(hashes: Sequence[int], radius: int = NEAR_RADIUS, block: int = 4096) -> NDArray[np.int64]:
    """A group id per image: images within ``radius`` bits of each other, directly or through others, share
    one; an image with no near neighbour has a group of its own. Compared in blocks, so memory stays at
    ``block`` squared whatever the number of images."""
    h = np.asarray([np.uint64(v) for v in hashes], dtype=np.uint64)
    n = len(h)
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    for start in range(0, n, block):
        d = hamming(h[start : start + block], h)
        i, j = np.nonzero(d <= radius)
        rows.append(i + start)
        cols.append(j)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)
