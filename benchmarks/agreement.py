"""Agreement statistics benchmark: labnb's coefficients against the packages a user would otherwise call.

One data set, in one run: 100,000 units rated by 5 raters into 5 categories (whole numbers 1-5 as floats),
10 % of the ratings missing (NaN), seeded. Each side is timed doing what a user does to get the number from
that units x raters array, the bootstrap off; labnb and the peer alternate, and each figure is the best of
``--repeats`` runs (the least disturbed by other work on the machine):

- ``alpha_nominal_vs_krippendorff`` and ``alpha_interval_vs_krippendorff``:
  ``lb.metrics.krippendorff_alpha(data, level=...)`` against
  ``krippendorff.alpha(reliability_data=data.T, level_of_measurement=...)`` (PyPI ``krippendorff``, which
  takes raters x units: ``.T`` is a view, no copy). Both get every unit, missing ratings included.
- ``fleiss_vs_statsmodels``: ``lb.metrics.fleiss_kappa(complete)`` against statsmodels'
  ``fleiss_kappa(aggregate_raters(complete)[0], method="fleiss")``: statsmodels needs the same number of
  raters for every unit, so both get the units all 5 rated (``complete``, selected outside the timing), and
  its count table has to be built with ``aggregate_raters``, which is timed with it.
- ``cohen_vs_sklearn``: ``lb.metrics.cohen_kappa(a, b)`` against scikit-learn's
  ``cohen_kappa_score(a, b)``, ``a`` and ``b`` raters 1 and 2 on the units both rated, as integers (selected
  outside the timing).

Each ratio is labnb's time over the peer's (below 1: labnb is faster; the aim is 0.1 or less).
``max_abs_diff`` is the largest difference between labnb's coefficient and the peer's over the four, so
speed is never bought with a different answer. Peak memory (tracemalloc, in separate untimed calls) goes to
stderr with the times. ``--continuous N`` adds, on stderr only, interval alpha on N units x 5 raters of
continuous ratings (5 N distinct values), where the peer's values x values matrices grow with N^2.

``--raters`` and ``--categories`` change the shape (the issue's figures are for the defaults, 5 and 5).

Usage: ``python benchmarks/agreement.py [--units N] [--repeats R] [--raters R] [--categories Q]
[--continuous N]`` (needs ``pip install
krippendorff statsmodels scikit-learn``, the ``bench`` extra). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import labnb as lb


def best_of(ours: Callable[[], Any], peer: Callable[[], Any], repeats: int) -> tuple[float, float, Any, Any]:
    """(labnb's best seconds, the peer's best seconds, labnb's result, the peer's result), alternating."""
    ours_t, peer_t, ours_r, peer_r = [], [], None, None
    for _ in range(repeats):
        start = time.perf_counter()
        ours_r = ours()
        ours_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        peer_r = peer()
        peer_t.append(time.perf_counter() - start)
    return min(ours_t), min(peer_t), ours_r, peer_r


def peak_mb(fn: Callable[[], Any]) -> float:
    """Peak memory allocated by one call of ``fn`` (numpy's arrays included), in MB."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def ratings(units: int, raters: int = 5, categories: int = 5, missing: float = 0.1, seed: int = 0) -> np.ndarray:
    """Units x raters, values 1..categories, raters agreeing about two thirds of the time, ``missing`` NaN."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, categories + 1, size=units)
    noise = rng.integers(1, categories + 1, size=(units, raters))
    agree = rng.random((units, raters)) < 0.65
    out = np.where(agree, truth[:, None], noise).astype(float)
    out[rng.random((units, raters)) < missing] = np.nan
    return out


def continuous(units: int, raters: int = 5, missing: float = 0.1, seed: int = 0) -> np.ndarray:
    """Units x raters of continuous ratings: a unit's true value plus noise, ``missing`` NaN."""
    rng = np.random.default_rng(seed)
    out = rng.normal(size=(units, 1)) + 0.5 * rng.normal(size=(units, raters))
    out[rng.random((units, raters)) < missing] = np.nan
    return out


def compare(
    name: str, ours: Callable[[], Any], peer: Callable[[], Any], repeats: int, peer_name: str
) -> tuple[float, float]:
    """(time ratio, absolute difference) of one coefficient; times and peak memory to stderr."""
    ours_s, peer_s, ours_r, peer_r = best_of(ours, peer, repeats)
    ours_mb, peer_mb = peak_mb(ours), peak_mb(peer)
    print(
        f"{name}: labnb {ours_s * 1e3:.2f} ms ({ours_mb:.1f} MB peak), "
        f"{peer_name} {peer_s * 1e3:.2f} ms ({peer_mb:.1f} MB peak)",
        file=sys.stderr,
    )
    return ours_s / peer_s, abs(ours_r.coefficient - float(peer_r))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--raters", type=int, default=5)
    parser.add_argument("--categories", type=int, default=5)
    parser.add_argument("--continuous", type=int, default=0, help="units of the continuous interval case")
    args = parser.parse_args()
    import krippendorff  # noqa: PLC0415 - peers are optional (the bench extra)
    from sklearn.metrics import cohen_kappa_score  # noqa: PLC0415
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa  # noqa: PLC0415

    data = ratings(args.units, args.raters, args.categories)
    results: dict[str, float] = {}
    diffs: list[float] = []
    for level in ("nominal", "interval"):
        ratio, diff = compare(
            f"alpha {level}",
            lambda level=level: lb.metrics.krippendorff_alpha(data, level=level),
            lambda level=level: krippendorff.alpha(reliability_data=data.T, level_of_measurement=level),
            args.repeats,
            "krippendorff",
        )
        results[f"alpha_{level}_vs_krippendorff"] = ratio
        diffs.append(diff)

    complete = data[~np.isnan(data).any(axis=1)]
    ratio, diff = compare(
        "fleiss",
        lambda: lb.metrics.fleiss_kappa(complete),
        lambda: fleiss_kappa(aggregate_raters(complete)[0], method="fleiss"),
        args.repeats,
        "statsmodels",
    )
    results["fleiss_vs_statsmodels"] = ratio
    diffs.append(diff)

    both = ~np.isnan(data[:, 0]) & ~np.isnan(data[:, 1])
    a, b = data[both, 0].astype(int), data[both, 1].astype(int)
    ratio, diff = compare(
        "cohen", lambda: lb.metrics.cohen_kappa(a, b), lambda: cohen_kappa_score(a, b), args.repeats, "scikit-learn"
    )
    results["cohen_vs_sklearn"] = ratio
    diffs.append(diff)

    if args.continuous:
        values = continuous(args.continuous)
        distinct = len(np.unique(values[~np.isnan(values)]))
        start = time.perf_counter()
        ours_r = lb.metrics.krippendorff_alpha(values, level="interval")
        ours_s = time.perf_counter() - start
        print(
            f"alpha interval, {args.continuous} units x 5 continuous ({distinct} distinct values): labnb "
            f"{ours_s:.2f} s ({peak_mb(lambda: lb.metrics.krippendorff_alpha(values, level='interval')):.0f} MB "
            f"peak), alpha {ours_r.coefficient:.6f}",
            file=sys.stderr,
        )
        need_gb = args.continuous * distinct**2 * 8 / 1e9  # its units x values x values array
        try:
            start = time.perf_counter()
            peer_r = krippendorff.alpha(reliability_data=values.T, level_of_measurement="interval")
            print(f"  krippendorff {time.perf_counter() - start:.2f} s, alpha {peer_r:.6f}", file=sys.stderr)
        except MemoryError:
            print(f"  krippendorff: MemoryError (its units x values x values array: {need_gb:.0f} GB)", file=sys.stderr)

    results["max_abs_diff"] = max(diffs)
    print(json.dumps({k: round(v, 12) if k == "max_abs_diff" else round(v, 4) for k, v in results.items()}))


if __name__ == "__main__":
    main()
