"""Agreement report benchmark: how long ``p.agreement(...)`` takes on a job of many images and passes.

Builds a SQLite project of N images (default 1,000; 256 x 192 arrays, previews left lazy) and a job of 3
passes per image, drawn by three annotators through the real workflow (``p.next_task`` then
``task.submit(shapes)``): 4 boxes (30 x 24) per image around seeded positions, each moved by a few pixels per pass and
missed one time in ten, plus one tag per pass. Then times ``p.agreement(by=...)`` for each ``by`` (median of 3
runs, the reading of passes included; wall-clock and this process's CPU time, which a loaded machine
disturbs less), and the reading and the per-image comparison alone.

No peer computes this report (Label Studio and CVAT show per-task IoU only), so the figures are absolute.
Usage: ``python benchmarks/agreement_report.py [--images N]``. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import labnb as lb
from labnb.agreement.build import compare
from labnb.agreement.passes import read_passes

USERS = ("alice", "bob", "carl")


def build(path: Path, n_images: int, seed: int = 0) -> lb.Project:
    rng = np.random.default_rng(seed)
    p = lb.Project.create(str(path), labels=["cat", "dog"], tags=[{"name": "light", "options": ["day", "night"]}],
                          user="olga")  # fmt: skip
    frames = [np.full((192, 256, 3), 128, np.uint8) for _ in range(n_images)]
    for i, frame in enumerate(frames):  # each image distinct (duplicates are not added twice)
        frame[0, 0, :2] = divmod(i, 256)
    p.add_images(frames, previews="lazy", progress=False)
    for user in USERS:
        p.members.add(user, "annotator")
    p.jobs.create("bench", passes_per_file=3, review_frequency=0).launch()
    truth = {a.id: rng.uniform(5, 150, size=(4, 2)) for a in p.assets}
    for user in USERS:
        me = lb.Project.open(str(path), user=user)
        while (task := me.next_task()) is not None:
            shapes: list[Any] = [
                lb.Box(
                    float(x + rng.normal(0, 1.5)),
                    float(y + rng.normal(0, 1.5)),
                    30,
                    24,
                    label="cat" if k % 2 else "dog",
                )
                for k, (x, y) in enumerate(truth[task.asset_id])
                if rng.random() > 0.1
            ]
            shapes.append(lb.Tag("day" if rng.random() > 0.2 else "night", group="light"))
            task.submit(shapes)
    return p


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        p = build(Path(tmp) / "bench.labnb", args.images)
        built = time.perf_counter() - t0
        out: dict[str, Any] = {"images": args.images, "passes": 3, "build_s": round(built, 1)}
        for by in ("image", "label", "pair", "annotator"):
            times, cpu = [], []
            for _ in range(3):
                t, c = time.perf_counter(), time.process_time()
                p.agreement(by=by, progress=False)  # type: ignore[arg-type]
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            out[f"by_{by}_s"] = round(statistics.median(times), 3)
            out[f"by_{by}_cpu_s"] = round(statistics.median(cpu), 3)
        t = time.perf_counter()
        images = read_passes(p)
        out["read_s"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        compare(p, images, progress=False)
        out["compare_s"] = round(time.perf_counter() - t, 3)
        print(p.agreement(progress=False).summary.to_string(), file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
