"""lb.metrics.outliers: Encord's IQR bands, the robust z and percentiles, per group, each flag with a reason
that names the bound; small groups and constant columns are said to be unjudged, not flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import labnb as lb


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0.5, 0.05, 200), [0.05, 0.95, 0.73]])
    return pd.DataFrame({"asset": range(len(values)), "brightness": values})


def test_iqr_bands_match_their_definition() -> None:
    df = _frame()
    out = lb.metrics.outliers(df, "brightness")
    q1, q3 = df.brightness.quantile(0.25), df.brightness.quantile(0.75)
    iqr = q3 - q1
    severe = (df.brightness < q1 - 2.5 * iqr) | (df.brightness > q3 + 2.5 * iqr)
    moderate = ~severe & ((df.brightness < q1 - 1.5 * iqr) | (df.brightness > q3 + 1.5 * iqr))
    assert list(out.outlier) == list(severe | moderate)
    assert list(out.severity == "severe") == list(severe)
    assert {200, 201} <= set(out.index[out.severity == "severe"])
    assert "below Q1" in out.loc[200, "reason"]
    assert "above Q3" in out.loc[201, "reason"]
    assert (out.loc[~out.outlier, "reason"] == "").all()
    assert out.loc[201, "score"] == pytest.approx((0.95 - q3) / iqr)


def test_robust_z_and_percentiles() -> None:
    df = _frame()
    mad = lb.metrics.outliers(df, "brightness", method="mad")
    median = df.brightness.median()
    z = 0.6745 * (df.brightness - median) / (df.brightness - median).abs().median()
    assert list(mad.outlier) == list(z.abs() > 3.5)
    assert mad.loc[200, "score"] == pytest.approx(z[200])
    pct = lb.metrics.outliers(df, "brightness", method="percentile", percentiles=(5, 95))
    low, high = np.percentile(df.brightness, [5, 95])
    assert list(pct.outlier) == list((df.brightness < low) | (df.brightness > high))
    assert "p95" in pct.loc[201, "reason"]
    constant = pd.DataFrame({"x": [1.0] * 30 + [2.0]})
    judged = lb.metrics.outliers(constant, "x", method="mad")
    assert not judged.outlier.any()
    assert "MAD 0" in judged.loc[30, "reason"]


def test_groups_are_judged_apart_and_small_groups_not_at_all() -> None:
    rng = np.random.default_rng(1)
    cats = pd.DataFrame({"label": ["cat"] * 50, "area": rng.normal(100, 5, 50)})
    dogs = pd.DataFrame({"label": ["dog"] * 50, "area": rng.normal(1000, 50, 50)})
    birds = pd.DataFrame({"label": ["bird"] * 3, "area": [1.0, 2.0, 50_000.0]})
    df = pd.concat([cats, dogs, birds], ignore_index=True)
    df.loc[0, "area"] = 1000.0  # a cat as large as a dog: odd among cats only
    grouped = lb.metrics.outliers(df, "area", by="label")
    assert grouped.loc[0, "outlier"]
    assert "among label 'cat'" in grouped.loc[0, "reason"]
    assert not (grouped.loc[df.label == "dog", "severity"] == "severe").any()
    assert not lb.metrics.outliers(df.iloc[:100], "area").loc[0, "outlier"]  # among everyone it is ordinary
    assert not grouped.loc[df.label == "bird", "outlier"].any()
    assert grouped.loc[df.label == "bird", "reason"].str.startswith("not judged: 3 values").all()
    with pytest.raises(lb.LabnbError, match="no column 'brightnes'"):
        lb.metrics.outliers(df, "brightnes")
    with pytest.raises(lb.LabnbError, match="method"):
        lb.metrics.outliers(df, "area", method="zscore")  # type: ignore[arg-type]
