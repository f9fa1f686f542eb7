"""Outliers of a metric column, each flag with its reason: ``lb.metrics.outliers(df, metric, ...)``.

- ``"iqr"``: Encord's bands. Outside ``[Q1 - 1.5 IQR, Q3 + 1.5 IQR]`` is *moderate*, outside the 2.5 band
  *severe* (quartiles by linear interpolation, as pandas).
- ``"mad"``: the robust z ``0.6745 (x - median) / MAD`` with ``|z| > 3.5`` (Iglewicz and Hoaglin's rule);
  where over half the values are equal the MAD is 0 and nothing can be judged: no flags, and the reason says so.
- ``"percentile"``: outside ``[p_low, p_high]`` (default the 1st and 99th).

With ``by`` (e.g. ``"label"``) each group is judged on its own; a group of fewer than ``min_group`` rows is
not judged (its reason says why) rather than flagged on too little evidence.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from labnb.errors import LabnbError

Method = Literal["iqr", "mad", "percentile"]


def outliers(
    df: pd.DataFrame,
    metric: str,
    method: Method = "iqr",
    *,
    by: str | None = None,
    percentiles: tuple[float, float] = (1.0, 99.0),
    min_group: int = 10,
) -> pd.DataFrame:
    """``df`` with four columns added: ``outlier`` (bool), ``severity`` ("moderate", "severe" or ""),
    ``score`` (how far out: distance in IQRs past the nearer quartile, the robust z, or the distance past the
    percentile, in the metric's units; 0 inside) and ``reason`` (one sentence naming the bound crossed)."""
    if metric not in df.columns:
        raise LabnbError(f"outliers: no column {metric!r}; the columns are {list(df.columns)}")
    if by is not None and by not in df.columns:
        raise LabnbError(f"outliers: by={by!r} is not a column; the columns are {list(df.columns)}")
    if method not in ("iqr", "mad", "percentile"):
        raise LabnbError(f"outliers: method must be 'iqr', 'mad' or 'percentile', got {method!r}")
    values = pd.to_numeric(df[metric], errors="coerce").astype(float)
    out: pd.DataFrame = df.copy()
    out["outlier"], out["severity"], out["score"], out["reason"] = False, "", 0.0, ""
    groups = [(None, df.index)] if by is None else list(df.groupby(by, dropna=False).groups.items())
    for key, index in groups:
        x = values.loc[index]
        where = "" if by is None else f" among {by} {key!r}"
        known = x.dropna()
        if len(known) < min_group:
            out.loc[index, "reason"] = f"not judged: {len(known)} values{where}, fewer than {min_group}"
            continue
        flags, severity, score, reason = _judge(x, known, method, percentiles, metric, where)
        out.loc[index, "outlier"] = flags
        out.loc[index, "severity"] = severity
        out.loc[index, "score"] = score
        out.loc[index, "reason"] = reason
    out["outlier"] = out["outlier"].astype(bool)
    return out


def _judge(
    x: pd.Series, known: pd.Series, method: Method, percentiles: tuple[float, float], metric: str, where: str
) -> tuple[list[bool], list[str], list[float], list[str]]:
    flags: list[bool] = []
    severity: list[str] = []
    score: list[float] = []
    reason: list[str] = []
    if method == "iqr":
        q1, q3 = float(known.quantile(0.25)), float(known.quantile(0.75))
        iqr = q3 - q1
        for v in x:
            past = max(q1 - v, v - q3, 0.0) if np.isfinite(v) else 0.0
            k = past / iqr if iqr > 0 else (np.inf if past > 0 else 0.0)
            side = "above Q3" if v > q3 else "below Q1"
            level = "severe" if k > 2.5 else "moderate" if k > 1.5 else ""
            flags.append(bool(level))
            severity.append(level)
            score.append(float(k))
            reason.append(f"{metric} {v:.4g} is {k:.2f} IQR {side}{where} ({level})" if level else "")
    elif method == "mad":
        median = float(known.median())
        mad = float((known - median).abs().median())
        for v in x:
            if mad == 0:
                flags.append(False)
                severity.append("")
                score.append(0.0)
                reason.append(f"not judged: over half the {metric} values{where} equal {median:.4g} (MAD 0)")
                continue
            z = 0.6745 * (v - median) / mad if np.isfinite(v) else 0.0
            flag = abs(z) > 3.5
            flags.append(bool(flag))
            severity.append("severe" if flag else "")
            score.append(float(z))
            reason.append(f"{metric} {v:.4g} has robust z {z:+.2f}{where} (|z| > 3.5)" if flag else "")
    else:
        low, high = (float(np.percentile(known, q)) for q in percentiles)
        for v in x:
            past = max(low - v, v - high, 0.0) if np.isfinite(v) else 0.0
            flag = past > 0
            bound = f"p{percentiles[1]:g} = {high:.4g}" if v > high else f"p{percentiles[0]:g} = {low:.4g}"
            flags.append(bool(flag))
            severity.append("moderate" if flag else "")
            score.append(float(past))
            reason.append(f"{metric} {v:.4g} is past {bound}{where}" if flag else "")
    return flags, severity, score, reason
