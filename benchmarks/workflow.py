"""Workflow benchmark: claiming tasks from a job of 100,000 draw tasks, and agreement between passes.

Measures, in one run on this machine:
- ``claim_p50_ms_1`` / ``claim_p95_ms_1``: latency of ``p.next_task("draw")`` with one person claiming,
  each claim followed by a submit (one box) or, one time in ten, a release, so the queue moves as it
  does in use;
- ``claim_p50_ms_8`` / ``claim_p95_ms_8``: the same with 8 people claiming at once, one process each
  (a different user each), in a tight loop: far more claims per second than a team makes, so this is
  the contended worst case; ``claims_per_s_8`` is their combined rate (each claim with its hand-in);
  ``handin_p50_ms_1`` / ``handin_p95_ms_8``: the submit or release after each claim;
- ``agreement_images_per_s``: :func:`labnb.metrics.agreement.image_agreement` over images with 3 passes
  of ~10 boxes each (jittered, some missed, some extra); ``agreement_mixed_images_per_s`` the same with
  polygons and masks mixed (compared by pixel area), at 640 x 480;
- ``agreement_vs_pairwise_loop``: that box figure over a plain loop a user might write instead (IoU of
  every pair of boxes in Python, greedy matching), on the same images: above 1 means labnb is faster.

The job is built the fast way: 100,000 images registered from a COCO file that only gives their sizes
(as benchmarks/store.py does), then ``p.jobs.create`` and ``job.launch``.

Usage: ``python benchmarks/workflow.py [--tasks N] [--claims N] [--postgres URL] [--keep DIR]``.
Progress goes to stderr; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson

import labnb as lb
from labnb.metrics.agreement import image_agreement

CLAIMERS = 8
HEIGHT, WIDTH = 480, 640


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


# ---------------------------------------------------------------- a job of N draw tasks


def build_job(location: str, n: int, work: Path) -> None:
    images = [{"id": i + 1, "file_name": f"{i:08d}.jpg", "width": WIDTH, "height": HEIGHT} for i in range(n)]
    coco = work / "images.json"
    coco.write_bytes(orjson.dumps({"images": images, "annotations": [], "categories": [{"id": 1, "name": "cat"}]}))
    t = time.perf_counter()
    p = lb.Project.create(location, labels=["cat"], name="bench", user="owner", overwrite=True)
    p.import_coco(coco, progress=False)
    log(f"  {n} images registered in {time.perf_counter() - t:.1f}s")
    for i in range(CLAIMERS):
        p.members.add(f"claimer{i}", "annotator")
    t = time.perf_counter()
    job = p.jobs.create("big", passes_per_file=1, review_frequency=1, guide="Box every cat")
    job.launch()
    log(f"  job of {len(job.assets)} draw tasks created and launched in {time.perf_counter() - t:.1f}s")
    p.close()


# ---------------------------------------------------------------- claiming


_start: Any = None  # the Barrier of the concurrent claimers, set by _init in each process


def _init(barrier: Any) -> None:
    global _start  # noqa: PLW0603 - a pool initializer is how a Barrier reaches spawned workers
    _start = barrier


def claim_loop(location: str, user: str, claims: int) -> tuple[list[float], list[float]]:
    """Claim ``claims`` times; submit one box after each claim, release one in ten. Latencies (ms) of the
    claims and of the hand-ins."""
    p = lb.Project.open(location, name="bench", user=user)
    warm = p.next_task("draw")  # warm the connection pool and the schema
    if warm is not None:
        warm.release()
    if _start is not None:
        _start.wait(timeout=120)
    out, done = [], []
    for i in range(claims):
        t = time.perf_counter()
        task = p.next_task("draw")
        out.append((time.perf_counter() - t) * 1000)
        if task is None:
            break
        t = time.perf_counter()
        if i % 10 == 9:
            task.release()
        else:
            task.submit([lb.Box(10 + i % 50, 20, 40, 30, label="cat")])
        done.append((time.perf_counter() - t) * 1000)
    p.close()
    return out, done


def claim_concurrent(location: str, claims: int) -> tuple[list[float], list[float], float]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(CLAIMERS + 1)
    with ctx.Pool(CLAIMERS, initializer=_init, initargs=(barrier,)) as pool:
        pending = pool.starmap_async(claim_loop, [(location, f"claimer{i}", claims) for i in range(CLAIMERS)])
        barrier.wait(timeout=120)
        t = time.perf_counter()
        results = pending.get()
        wall = time.perf_counter() - t
    claimed = [v for r, _ in results for v in r]
    return claimed, [v for _, d in results for v in d], len(claimed) / wall


def explain_candidate(location: str) -> list[str]:
    """SQLite's plan for the draw-candidate query of ``next_task`` (labnb.workflow.tasks._candidate),
    captured as the driver runs it."""
    import sqlalchemy as sa  # noqa: PLC0415

    p = lb.Project.open(location, name="bench", user="claimer0")
    seen: list[tuple[str, Any]] = []

    def spy(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "EXISTS" in statement and "FROM tasks" in statement:
            seen.append((statement, parameters))

    sa.event.listen(p._engine, "before_cursor_execute", spy)
    task = p.next_task("draw")
    sa.event.remove(p._engine, "before_cursor_execute", spy)
    if task is not None:
        task.release()
    if not seen:
        return []
    statement, parameters = seen[0]
    with p._engine.connect() as conn:
        plan = [str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    p.close()
    return plan


# ---------------------------------------------------------------- agreement


def box_passes(rng: np.random.Generator, n_images: int) -> list[list[list[lb.Box]]]:
    images = []
    for _ in range(n_images):
        k = int(rng.integers(8, 13))
        w, h = rng.uniform(20, 120, k), rng.uniform(20, 120, k)
        x, y = rng.uniform(0, WIDTH - w), rng.uniform(0, HEIGHT - h)
        passes = []
        for _ in range(3):
            shapes = [
                lb.Box(
                    float(x[j] + rng.normal(0, 3)),
                    float(y[j] + rng.normal(0, 3)),
                    float(w[j]),
                    float(h[j]),
                    label="cat" if j % 3 else "dog",
                )
                for j in range(k)
                if rng.random() > 0.1
            ]
            if rng.random() < 0.3:
                shapes.append(lb.Box(float(rng.uniform(0, 500)), float(rng.uniform(0, 350)), 40.0, 40.0, label="cat"))
            passes.append(shapes)
        images.append(passes)
    return images


def mixed_passes(rng: np.random.Generator, n_images: int) -> list[list[list[Any]]]:
    """Blobs drawn as polygons by some passes and as masks (the same outline, rasterised) by others."""
    images = []
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    for _ in range(n_images):
        k = int(rng.integers(8, 13))
        cx, cy = rng.uniform(60, WIDTH - 60, k), rng.uniform(60, HEIGHT - 60, k)
        r = rng.uniform(15, 50, k)
        passes = []
        for pass_no in range(3):
            shapes: list[Any] = []
            for j in range(k):
                if rng.random() < 0.1:
                    continue
                dx, dy, rr = rng.normal(0, 2), rng.normal(0, 2), r[j] * rng.uniform(0.9, 1.1)
                if (j + pass_no) % 2:
                    t = np.linspace(0, 2 * np.pi, 16, endpoint=False)
                    pts = np.column_stack([cx[j] + dx + rr * np.cos(t), cy[j] + dy + rr * np.sin(t)])
                    shapes.append(lb.Polygon(pts, label="cat"))
                else:
                    disc = (xx - cx[j] - dx) ** 2 + (yy - cy[j] - dy) ** 2 <= rr**2
                    shapes.append(lb.Mask(disc, label="cat"))
            passes.append(shapes)
        images.append(passes)
    return images


def rate(images: list[list[list[Any]]], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for passes in images:
            image_agreement(passes, HEIGHT, WIDTH)
        times.append(time.perf_counter() - t)
    return len(images) / statistics.median(times)


def plain_agreement(passes: list[list[lb.Box]], threshold: float = 0.5) -> float:
    """What a user might write without labnb: every pair of boxes, greedy matching, same score."""
    scores = []
    for a, b in itertools.combinations(passes, 2):
        cand = []
        for i, s in enumerate(a):
            for j, u in enumerate(b):
                if s.label != u.label:
                    continue
                ix = max(0.0, min(s.x + s.w, u.x + u.w) - max(s.x, u.x))
                iy = max(0.0, min(s.y + s.h, u.y + u.h) - max(s.y, u.y))
                inter = ix * iy
                iou = inter / (s.w * s.h + u.w * u.h - inter)
                if iou >= threshold:
                    cand.append((iou, i, j))
        used_a, used_b, total = set(), set(), 0.0
        for iou, i, j in sorted(cand, reverse=True):
            if i not in used_a and j not in used_b:
                used_a.add(i)
                used_b.add(j)
                total += iou
        n = (len(a) + len(b)) / 2
        scores.append(total / n if n else 1.0)
    return float(np.mean(scores))


def plain_rate(images: list[list[list[lb.Box]]], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for passes in images:
            plain_agreement(passes)
        times.append(time.perf_counter() - t)
    return len(images) / statistics.median(times)


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000, help="draw tasks in the job (one per image)")
    parser.add_argument("--claims", type=int, default=300, help="claims per claimer")
    parser.add_argument("--postgres", help="also run against this (empty) PostgreSQL database URL")
    parser.add_argument("--keep", type=Path, help="write the project here and keep it")
    parser.add_argument("--agreement-images", type=int, default=2000)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="labnb-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    results: dict[str, Any] = {"tasks": args.tasks, "claimers": CLAIMERS, "claims_per_claimer": args.claims}
    targets = [("sqlite", str(work / "workflow.labnb"))]
    if args.postgres:
        targets.append(("postgresql", args.postgres))
    for backend, location in targets:
        log(f"{backend}: building a job of {args.tasks} draw tasks")
        build_job(location, args.tasks, work)
        prefix = "" if backend == "sqlite" else "postgresql_"
        one, one_done = claim_loop(location, "claimer0", args.claims)
        log(
            f"  1 claimer: claim p50 {pct(one, 50):.2f} ms, p95 {pct(one, 95):.2f} ms over {len(one)} claims;"
            f" hand-in p50 {pct(one_done, 50):.2f} ms"
        )
        many, many_done, per_s = claim_concurrent(location, args.claims)
        log(
            f"  {CLAIMERS} claimers: claim p50 {pct(many, 50):.2f} ms, p95 {pct(many, 95):.2f} ms, p99"
            f" {pct(many, 99):.1f} ms, max"
            f" {max(many):.0f} ms over {len(many)} claims ({per_s:.0f} claims/s, each with its hand-in);"
            f" hand-in p50 {pct(many_done, 50):.2f} ms, p95 {pct(many_done, 95):.2f} ms"
        )
        results.update(
            {
                f"{prefix}claim_p50_ms_1": pct(one, 50),
                f"{prefix}claim_p95_ms_1": pct(one, 95),
                f"{prefix}claim_p50_ms_8": pct(many, 50),
                f"{prefix}claim_p95_ms_8": pct(many, 95),
                f"{prefix}claim_p99_ms_8": pct(many, 99),
                f"{prefix}claim_max_ms_8": max(many),
                f"{prefix}claims_per_s_8": per_s,
                f"{prefix}handin_p50_ms_1": pct(one_done, 50),
                f"{prefix}handin_p95_ms_8": pct(many_done, 95),
            }
        )
        if backend == "sqlite":
            plan = explain_candidate(location)
            log("  candidate query plan: " + " | ".join(plan))
            results["candidate_plan"] = plan

    rng = np.random.default_rng(0)
    boxes = box_passes(rng, args.agreement_images)
    results["agreement_images_per_s"] = rate(boxes)
    results["agreement_vs_pairwise_loop"] = results["agreement_images_per_s"] / plain_rate(boxes)
    log(
        f"agreement, boxes: {results['agreement_images_per_s']:.0f} images/s "
        f"({results['agreement_vs_pairwise_loop']:.2f}x a plain pairwise loop)"
    )
    mixed = mixed_passes(rng, max(50, args.agreement_images // 10))
    results["agreement_mixed_images_per_s"] = rate(mixed)
    log(f"agreement, polygons and masks: {results['agreement_mixed_images_per_s']:.0f} images/s")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
