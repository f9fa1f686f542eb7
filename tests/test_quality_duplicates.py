"""Exact and near duplicates on the bundled photos: the same pixels in another format are one image, a
resized or re-encoded copy is near, different photos are not, and the groups are those a brute-force
comparison gives."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from labnb import sample
from labnb.metrics.quality import analysis_image
from labnb.metrics.quality.duplicates import NEAR_RADIUS, exact_hash, hamming, near_groups, phash

PHOTOS = sorted(sample.IMAGES.glob("*.jpg"))


def _reopen(image: Image.Image, fmt: str, **save: object) -> Image.Image:
    buf = io.BytesIO()
    image.save(buf, fmt, **save)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def test_the_same_pixels_in_another_format_are_one_image_and_a_transpose_is_not() -> None:
    rgb = Image.open(PHOTOS[0]).convert("RGB")
    a = np.asarray(rgb)
    assert exact_hash(np.asarray(_reopen(rgb, "PNG"))) == exact_hash(a)
    assert exact_hash(np.asarray(_reopen(rgb, "WEBP", lossless=True))) == exact_hash(a)
    flat = np.arange(200 * 100 * 3, dtype=np.uint8).reshape(200, 100, 3)
    assert exact_hash(flat) != exact_hash(flat.reshape(100, 200, 3))  # same bytes, another shape
    assert exact_hash(np.asarray(_reopen(rgb, "JPEG", quality=90))) != exact_hash(a)  # lossy: not exact


def test_copies_are_near_and_different_photos_are_far() -> None:
    hashes = [phash(analysis_image(p)) for p in PHOTOS]
    far = hamming(np.array(hashes, np.uint64), np.array(hashes, np.uint64))
    off_diagonal = far[~np.eye(len(PHOTOS), dtype=bool)]
    assert off_diagonal.min() > NEAR_RADIUS
    for photo, original in zip(PHOTOS, hashes, strict=True):
        rgb = Image.open(photo).convert("RGB")
        copies = [
            _reopen(rgb, "JPEG", quality=40),
            rgb.resize((rgb.width // 2, rgb.height // 2), Image.Resampling.BILINEAR),
            _reopen(rgb.resize((rgb.width * 3 // 2, rgb.height * 3 // 2)), "PNG"),
        ]
        for copy in copies:
            d = int(hamming(np.array([phash(analysis_image(copy))], np.uint64), np.array([original], np.uint64))[0, 0])
            assert d <= NEAR_RADIUS, (photo.name, d)


@pytest.mark.parametrize("block", [1, 7, 4096])
def test_groups_are_the_connected_components_of_near_pairs(block: int) -> None:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**63, 40, dtype=np.int64).astype(np.uint64)
    # chains: each a few bits from the one before (a ~ b ~ c but a and c may be far)
    hashes = list(base)
    for i in range(10):
        hashes.append(np.uint64(int(base[i]) ^ (0b111 << (i % 50))))
    groups = near_groups([int(h) for h in hashes], radius=NEAR_RADIUS, block=block)
    h = np.array(hashes, np.uint64)
    near = hamming(h, h) <= NEAR_RADIUS
    # brute force: transitive closure
    reach = near.copy()
    for _ in range(len(h)):
        grown = (reach.astype(np.int64) @ near.astype(np.int64)) > 0
        if (grown == reach).all():
            break
        reach = grown
    assert ((groups[:, None] == groups[None, :]) == reach).all()
    assert len(set(groups[40:].tolist()) & set(groups[:10].tolist())) == 10  # each copy joined its original
    assert len(near_groups([])) == 0
