"""Store benchmark: a project of 100,000 images and 1,000,000 annotations.

Measures, in one run on this machine:
- ``import_rows_per_s``: asset and annotation rows written per second by ``import_coco``;
- ``open_s``: ``Project.open`` on the finished project file;
- ``image_annotations_ms``: median time to fetch one image's annotations (``p.get_annotations``),
  over random images, with the p95 alongside;
- ``coco_import_vs_pycocotools``: ``import_coco`` time over pycocotools' ``COCO()`` load of the same
  file (the peer a COCO user runs anyway; it only reads, labnb also checks and writes a database).

The COCO file is synthetic but shaped like real data: COCO-sized images, 80 categories, half the
objects polygons of 6 to 30 points, half boxes, 1 to 20 objects per image. No image files exist, so
the import takes sizes from the file (``images=None``), as it does for a URL-only data set.

Usage: ``python benchmarks/store.py [--assets N] [--annotations N] [--postgres URL] [--keep DIR]``.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from pycocotools.coco import COCO

import labnb as lb


def synthetic_coco(n_images: int, n_annotations: int, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    sizes = rng.choice([(640, 480), (480, 640), (640, 427), (500, 375)], n_images)
    images = [
        {"id": i + 1, "file_name": f"{i:08d}.jpg", "width": int(w), "height": int(h)} for i, (w, h) in enumerate(sizes)
    ]
    image_of = np.sort(rng.integers(0, n_images, n_annotations))
    frac_w, frac_h = rng.uniform(0.02, 0.5, n_annotations), rng.uniform(0.02, 0.5, n_annotations)
    annotations = []
    for k in range(n_annotations):
        iw, ih = sizes[image_of[k]]
        w, h = float(frac_w[k] * iw), float(frac_h[k] * ih)
        x, y = float(rng.uniform(0, iw - w)), float(rng.uniform(0, ih - h))
        ann: dict[str, Any] = {
            "id": k + 1,
            "image_id": int(image_of[k]) + 1,
            "category_id": int(k % 80) + 1,
            "iscrowd": 0,
        }
        if k % 2:
            n = int(rng.integers(3, 16))
            t = np.sort(rng.uniform(0, 2 * np.pi, n))
            px = x + w / 2 + np.cos(t) * w / 2
            py = y + h / 2 + np.sin(t) * h / 2
            poly = np.round(np.column_stack([px, py]).ravel(), 2).tolist()
            x0, y0, x1, y1 = min(poly[0::2]), min(poly[1::2]), max(poly[0::2]), max(poly[1::2])
            ann.update(segmentation=[poly], bbox=[x0, y0, x1 - x0, y1 - y0], area=round((x1 - x0) * (y1 - y0) * 0.7, 2))
        else:
            ann.update(segmentation=[], bbox=[round(x, 2), round(y, 2), round(w, 2), round(h, 2)], area=round(w * h, 2))
        annotations.append(ann)
    categories = [{"id": i + 1, "name": f"class{i:02d}", "supercategory": "thing"} for i in range(80)]
    return {"images": images, "annotations": annotations, "categories": categories}


def time_pycocotools(path: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        with contextlib.redirect_stdout(io.StringIO()):
            t = time.perf_counter()
            coco = COCO(str(path))
            times.append(time.perf_counter() - t)
        del coco
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--annotations", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="also run against this (empty) PostgreSQL database URL")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    parser.add_argument("--fetches", type=int, default=500)
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="labnb-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    coco_path = work / "synthetic.json"
    t = time.perf_counter()
    coco_path.write_bytes(orjson.dumps(synthetic_coco(args.assets, args.annotations)))
    print(
        f"wrote {coco_path} ({coco_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f}s",
        file=sys.stderr,
    )

    pycoco_s = time_pycocotools(coco_path, repeats=3)
    print(f"pycocotools COCO() load: {pycoco_s:.2f}s (median of 3)", file=sys.stderr)

    results: dict[str, Any] = {"assets": args.assets, "annotations": args.annotations, "pycocotools_load_s": pycoco_s}
    targets = [("sqlite", str(work / "bench.labnb"))]
    if args.postgres:
        targets.append(("postgresql", args.postgres))
    for backend, location in targets:
        p = lb.Project.create(location, labels=[], name="bench", overwrite=True)
        gc.collect()
        t = time.perf_counter()
        p.import_coco(coco_path, progress=False)
        import_s = time.perf_counter() - t
        p.close()

        t = time.perf_counter()
        p = lb.Project.open(location, name="bench")
        _ = p.schema
        open_s = time.perf_counter() - t

        rng = np.random.default_rng(1)
        ids = [int(i) for i in rng.integers(1, args.assets + 1, args.fetches)]
        p.get_annotations(ids[0])  # warm the connection pool and the schema
        fetch = []
        counts = []
        for asset_id in ids:
            t = time.perf_counter()
            shapes = p.get_annotations(asset_id)
            fetch.append((time.perf_counter() - t) * 1000)
            counts.append(len(shapes))
        p.close()
        prefix = "" if backend == "sqlite" else "postgresql_"
        results.update(
            {
                f"{prefix}import_s": import_s,
                f"{prefix}import_rows_per_s": (args.assets + args.annotations) / import_s,
                f"{prefix}open_s": open_s,
                f"{prefix}image_annotations_ms": statistics.median(fetch),
                f"{prefix}image_annotations_p95_ms": float(np.percentile(fetch, 95)),
                f"{prefix}objects_per_fetched_image": statistics.mean(counts),
                f"{prefix}coco_import_vs_pycocotools": import_s / pycoco_s,
            }
        )
        print(
            f"{backend}: import {import_s:.1f}s, open {open_s:.3f}s, fetch {statistics.median(fetch):.2f}ms",
            file=sys.stderr,
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
