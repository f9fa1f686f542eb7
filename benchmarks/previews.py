"""What the stored previews cost when images are added (``labnb.pyramid``, ``p.add_images``, importers).

Measures, in one run on this machine:
- ``stage_ms``: one 12 MP JPEG through each step of adding it, medians of ``--repeats``: reading, probing
  (header, end marker, SHA-256), the 1/2-scale decode, the resize to the 1024-px preview, and
  ``make_previews`` as a whole (both levels, encoded);
- ``add_12mp_ms_per_image``: ``p.add_images`` of ``--photos`` 12 MP JPEGs, wall time per image, with the
  preview threads at 1 and at the default (``min(4, os.cpu_count())``), and with ``previews="lazy"``;
  ``add_12mp_cpu_ms_per_image`` is the process's CPU time per image (all threads) for the default;
- ``import_coco_41_s``: ``import_coco`` of the 41 photos in ``tests/data`` (COCO-sized, 640 px).

The photos are one of those 41 scaled to 4000x3000 with a little noise, saved at quality 90 (~2 MB, like
a camera's). The old code has no ``previews=`` nor ``preview_threads``: the figures that need them are
left out when the script runs against it (``PYTHONPATH=<old checkout>``), so both can be compared.

Usage: ``PYTHONPATH=$PWD python benchmarks/previews.py [--photos N] [--repeats N]``.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import labnb as lb
from labnb import pyramid
from labnb.imaging import decode_reduced, probe_bytes, read_file

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "coco_tiny_ccby"


def photos(folder: Path, n: int) -> list[Path]:
    base = (
        Image.open(sorted((DATA / "images").iterdir())[0]).convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    )
    pixels = np.asarray(base).astype(np.int16)
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        noisy = np.clip(pixels + rng.integers(-6, 7, pixels.shape), 0, 255).astype(np.uint8)
        Image.fromarray(noisy).save(folder / f"p{i:03d}.jpg", quality=90)
        out.append(folder / f"p{i:03d}.jpg")
    return out


def median_ms(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 1)


def add_ms(folder: Path, work: Path, n: int, **kw: Any) -> tuple[float, float]:
    p = lb.Project.create(work / "add.labnb", labels=[], user="bench", overwrite=True)
    cpu, wall = time.process_time(), time.perf_counter()
    p.add_images(folder, progress=False, **kw)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    p.close()
    return round(wall / n * 1000, 1), round(cpu / n * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    result: dict[str, Any] = {"labnb": str(Path(lb.__file__).parent)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = work / "photos"
        folder.mkdir()
        files = photos(folder, args.photos)
        data = files[0].read_bytes()
        half = decode_reduced(data, "p", 2)
        result["stage_ms"] = {
            "read": median_ms(lambda: read_file(files[0]), args.repeats),
            "probe": median_ms(lambda: probe_bytes(data, "p"), args.repeats),
            "decode_half": median_ms(lambda: decode_reduced(data, "p", 2), args.repeats),
            "resize_1024": median_ms(lambda: half.resize((1024, 768), pyramid.PREVIEW_FILTER), args.repeats)
            if hasattr(pyramid, "PREVIEW_FILTER")
            else median_ms(
                lambda: half.copy().thumbnail((1024, 1024), Image.Resampling.LANCZOS, reducing_gap=2.0), args.repeats
            ),
            "make_previews": median_ms(lambda: pyramid.make_previews(data, "p", 4000, 3000), args.repeats),
        }
        per_image: dict[str, float] = {}
        if hasattr(pyramid, "preview_threads"):
            default = pyramid.preview_threads
            pyramid.preview_threads = lambda: 1  # type: ignore[assignment]
            per_image["threads_1"] = min(add_ms(folder, work, len(files))[0] for _ in range(2))
            pyramid.preview_threads = default  # type: ignore[assignment]
            result["preview_threads"] = default()
            runs = [add_ms(folder, work, len(files)) for _ in range(2)]
            per_image[f"threads_{default()}"] = min(r[0] for r in runs)
            result["add_12mp_cpu_ms_per_image"] = min(r[1] for r in runs)
            per_image["lazy"] = min(add_ms(folder, work, len(files), previews="lazy")[0] for _ in range(2))
        else:
            runs = [add_ms(folder, work, len(files)) for _ in range(2)]
            per_image["serial"] = min(r[0] for r in runs)
            result["add_12mp_cpu_ms_per_image"] = min(r[1] for r in runs)
        result["add_12mp_ms_per_image"] = per_image

        def coco() -> None:
            p = lb.Project.create(work / "coco.labnb", labels=[], user="bench", overwrite=True)
            p.import_coco(DATA / "instances.json", images=DATA / "images", progress=False)
            p.close()

        result["import_coco_41_s"] = round(median_ms(coco, args.repeats) / 1000, 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
