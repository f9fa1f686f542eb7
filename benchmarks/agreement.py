"""Agreement statistics benchmark: labnb's coefficients against the packages a user would otherwise call.

One data set, in one run: 100,000 units rated by 5 raters into 5 categories, 10 % of the ratings missing
(NaN), seeded. Timed, median of 3 runs each:

- ``alpha_nominal_vs_krippendorff`` and ``alpha_interval_vs_krippendorff``: ``lb.metrics.krippendorff_alpha``
  over ``krippendorff.alpha`` (PyPI ``krippendorff``) on the same units x raters array (the peer takes it
  raters x units);
- ``fleiss_vs_statsmodels``: ``lb.metrics.fleiss_kappa`` over ``statsmodels`` ``fleiss_kappa`` on the
  complete units (statsmodels needs an equal number of raters per unit; its count table is built with
  ``aggregate_raters`` inside the timed part, as a user would have to);
- ``cohen_vs_sklearn``: ``lb.metrics.cohen_kappa`` over scikit-learn's ``cohen_kappa_score`` for raters 1
  and 2 on the units both rated.

Each ratio is labnb's time over the peer's (below 1: labnb is faster; the aim is 0.1 or less).
``max_abs_diff`` is the largest difference between labnb's coefficient and the peer's over the four, so
speed is never bought with a different answer.

Usage: ``python benchmarks/agreement.py [--units N]`` (needs ``pip install krippendorff statsmodels
scikit-learn``, the ``bench`` extra). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import labnb as lb


def timed(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """(median seconds, last result) of ``fn`` over ``repeats`` runs."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def ratings(units: int, raters: int = 5, categories: int = 5, missing: float = 0.1, seed: int = 0) -> np.ndarray:
    """Units x raters, values 1..categories, raters agreeing about two thirds of the time, ``missing`` NaN."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, categories + 1, size=units)
    noise = rng.integers(1, categories + 1, size=(units, raters))
    agree = rng.random((units, raters)) < 0.65
    out = np.where(agree, truth[:, None], noise).astype(float)
    out[rng.random((units, raters)) < missing] = np.nan
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    args = parser.parse_args()
    import krippendorff  # noqa: PLC0415 - peers are optional (the bench extra)
    from sklearn.metrics import cohen_kappa_score  # noqa: PLC0415
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa  # noqa: PLC0415

    data = ratings(args.units)
    results: dict[str, float] = {}
    diffs: list[float] = []
    for level in ("nominal", "interval"):
        ours_s, ours = timed(lambda level=level: lb.metrics.krippendorff_alpha(data, level=level))
        peer_s, peer = timed(lambda level=level: krippendorff.alpha(data.T, level_of_measurement=level))
        results[f"alpha_{level}_vs_krippendorff"] = ours_s / peer_s
        diffs.append(abs(ours.coefficient - float(peer)))
        print(f"alpha {level}: labnb {ours_s:.3f}s, krippendorff {peer_s:.3f}s", file=sys.stderr)

    complete = data[~np.isnan(data).any(axis=1)]
    ours_s, ours = timed(lambda: lb.metrics.fleiss_kappa(complete))
    peer_s, peer = timed(lambda: fleiss_kappa(aggregate_raters(complete.astype(int))[0], method="fleiss"))
    results["fleiss_vs_statsmodels"] = ours_s / peer_s
    diffs.append(abs(ours.coefficient - float(peer)))
    print(f"fleiss: labnb {ours_s:.3f}s, statsmodels {peer_s:.3f}s", file=sys.stderr)

    both = ~np.isnan(data[:, 0]) & ~np.isnan(data[:, 1])
    a, b = data[both, 0].astype(int), data[both, 1].astype(int)
    ours_s, ours = timed(lambda: lb.metrics.cohen_kappa(a, b))
    peer_s, peer = timed(lambda: cohen_kappa_score(a, b))
    results["cohen_vs_sklearn"] = ours_s / peer_s
    diffs.append(abs(ours.coefficient - float(peer)))
    print(f"cohen: labnb {ours_s:.3f}s, scikit-learn {peer_s:.3f}s", file=sys.stderr)

    results["max_abs_diff"] = max(diffs)
    print(json.dumps({k: round(v, 12) if k == "max_abs_diff" else round(v, 4) for k, v in results.items()}))


if __name__ == "__main__":
    main()
