"""How two sets of images (or objects) differ, metric by metric: ``lb.metrics.drift(a, b)``.

Per numeric column both frames share: the Kolmogorov-Smirnov statistic and p-value (scipy), the
Wasserstein-1 distance in the metric's units and divided by the reference's IQR (comparable across
metrics), and the population stability index over 10 bins at the reference's deciles,
``PSI = sum((q - p) * ln(q / p))`` with shares floored at 1e-4. PSI's usual reading (under 0.1 stable,
over 0.25 shifted) is a convention of credit scoring, not a test; the KS p-value is the test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from labnb.errors import LabnbError

#: columns that identify rows rather than measure them
ID_COLUMNS = frozenset({"asset", "asset_id", "annotation_id", "prediction_id", "file_name", "track_id"})


def drift(a: pd.DataFrame, b: pd.DataFrame, metrics: list[str] | None = None, *, bins: int = 10) -> pd.DataFrame:
    """One row per metric (index): n_a, n_b, mean_a, mean_b, ks, ks_p, wasserstein, wasserstein_iqr, psi.
    ``a`` is the reference. ``metrics`` default: every numeric column of both but the identifiers."""
    if metrics is None:
        metrics = [c for c in a.columns if c in b.columns and c not in ID_COLUMNS and _numeric(a[c]) and _numeric(b[c])]
    rows = []
    for m in metrics:
        if m not in a.columns or m not in b.columns:
            raise LabnbError(f"drift: metric {m!r} is not a column of both sets")
        x = pd.to_numeric(a[m], errors="coerce").dropna().to_numpy(float)
        y = pd.to_numeric(b[m], errors="coerce").dropna().to_numpy(float)
        if len(x) < 2 or len(y) < 2:
            raise LabnbError(f"drift: metric {m!r} has {len(x)} and {len(y)} values; each set needs two or more")
        ks = stats.ks_2samp(x, y)
        w = float(stats.wasserstein_distance(x, y))
        iqr = float(np.subtract(*np.percentile(x, [75, 25])))
        rows.append(
            {
                "metric": m,
                "n_a": len(x),
                "n_b": len(y),
                "mean_a": float(x.mean()),
                "mean_b": float(y.mean()),
                "ks": float(ks.statistic),
                "ks_p": float(ks.pvalue),
                "wasserstein": w,
                "wasserstein_iqr": w / iqr if iqr > 0 else math.nan,
                "psi": psi(x, y, bins=bins),
            }
        )
    frame: pd.DataFrame = pd.DataFrame(rows).set_index("metric") if rows else pd.DataFrame()
    return frame


def psi(reference: np.ndarray, other: np.ndarray, *, bins: int = 10, floor: float = 1e-4) -> float:
    """The population stability index of ``other`` against ``reference``, over ``bins`` bins at the
    reference's quantiles (ties merged)."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        return 0.0 if np.all(other == reference[0]) else math.inf
    inner = edges[1:-1]
    p = np.bincount(np.searchsorted(inner, reference, side="right"), minlength=len(edges) - 1) / len(reference)
    q = np.bincount(np.searchsorted(inner, other, side="right"), minlength=len(edges) - 1) / len(other)
    p, q = np.maximum(p, floor), np.maximum(q, floor)
    return float(np.sum((q - p) * np.log(q / p)))


def _numeric(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s)) and not pd.api.types.is_bool_dtype(s)
