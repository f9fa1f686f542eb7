"""The benchmark's image and boxes, the same for labnb and its peers.

A real COCO photo (CC BY) upscaled to 4000x3000 with mild sensor-like noise, so the JPEG (quality 90) has
the size of a real 12-megapixel photo rather than of a smooth upscale. Three zones are kept free of boxes:

- ``MARKER``: a flat magenta patch at the image centre. A canvas shows "the image" once the pixel under the
  centre has that colour, which no background fill or box overlay can fake.
- ``TARGET``: the one box that is dragged, alone in its zone so a press in it hits that box and no other.
- ``PAN``: empty image where a pan drag starts (on empty canvas a press must not hit a shape).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 4000, 3000
PHOTO = Path(__file__).resolve().parents[2] / "tests" / "data" / "coco_tiny_ccby" / "images" / "000000005001.jpg"
MARKER_RGB = (255, 0, 255)
CLASSES = ["person", "car", "dog", "bicycle", "sign"]

#: Zones in image pixels, (x0, y0, x1, y1).
MARKER = (1900, 1400, 2100, 1600)
MARKER_CLEAR = (1700, 1200, 2300, 1800)
TARGET = (500.0, 500.0, 600.0, 450.0)  # the dragged box: x, y, w, h
TARGET_CLEAR = (250, 250, 1350, 1200)
PAN_START = (3200.0, 2350.0)
PAN_CLEAR = (2800, 2000, 3600, 2700)


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    label: str


def make_image(path: Path, seed: int = 0) -> int:
    """Write the 4000x3000 JPEG (quality 90) and return its size in bytes."""
    rng = np.random.default_rng(seed)
    if PHOTO.is_file():
        base = Image.open(PHOTO).convert("RGB").resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
        arr = np.asarray(base, dtype=np.float32)
    else:  # synthetic texture when the photo is missing
        yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        arr = np.stack([128 + 90 * np.sin(xx / 37 + k) * np.cos(yy / 53 - k) for k in range(3)], axis=2)
    arr += rng.normal(0, 7, arr.shape).astype(np.float32)
    x0, y0, x1, y1 = MARKER
    arr[y0:y1, x0:x1] = MARKER_RGB
    buf = io.BytesIO()
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=90)
    path.write_bytes(buf.getvalue())
    return len(buf.getvalue())


#: The huge image (``huge_image_first_paint_ms``): 300 MP, the size a slide scan or an aerial photo has.
HUGE_WIDTH, HUGE_HEIGHT = 20_000, 15_000
#: Its magenta marker at the centre, large enough to show in the 1024-px preview (about 100 px there).
HUGE_MARKER = (9_000, 6_500, 11_000, 8_500)


def make_huge_image(path: Path, photo: Path) -> int:
    """Write the 20000x15000 JPEG (quality 90): the benchmark photo repeated 5 x 5, with a magenta centre,
    and return its size in bytes."""
    tile = Image.open(photo).convert("RGB")
    im = Image.new("RGB", (HUGE_WIDTH, HUGE_HEIGHT))
    for y in range(0, HUGE_HEIGHT, tile.height):
        for x in range(0, HUGE_WIDTH, tile.width):
            im.paste(tile, (x, y))
    x0, y0, x1, y1 = HUGE_MARKER
    im.paste(Image.new("RGB", (x1 - x0, y1 - y0), MARKER_RGB), (x0, y0))
    im.save(path, quality=90)
    return path.stat().st_size


def _overlaps(x: float, y: float, w: float, h: float, zone: tuple[float, float, float, float]) -> bool:
    return x < zone[2] and x + w > zone[0] and y < zone[3] and y + h > zone[1]


def make_boxes(n: int, seed: int = 0) -> list[Box]:
    """``n`` boxes: the target first, the others random (COCO-like sizes) outside the three clear zones."""
    rng = np.random.default_rng(seed)
    boxes = [Box(*TARGET, label=CLASSES[0])]
    while len(boxes) < n:
        w, h = np.exp(rng.uniform(np.log(20), np.log(400), 2))
        x, y = rng.uniform(0, WIDTH - w), rng.uniform(0, HEIGHT - h)
        if any(_overlaps(x, y, w, h, z) for z in (MARKER_CLEAR, TARGET_CLEAR, PAN_CLEAR)):
            continue
        x, y, w, h = (round(float(v), 1) for v in (x, y, w, h))
        boxes.append(Box(x, y, w, h, CLASSES[len(boxes) % len(CLASSES)]))
    return boxes
