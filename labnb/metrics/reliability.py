"""Chance-corrected agreement between raters: pure functions over arrays and data frames.

Ratings come either as a units x raters array (one row per unit, one column per rater; NaN or None is a
missing rating; values are numbers or any hashable codes) or as a long :class:`pandas.DataFrame` with columns
``unit``, ``rater`` and ``value``. A wide DataFrame (units x raters) is read like an array. Every function
normalises its input into integer category codes with one helper, so categories may be numbers, strings or
any other hashable values; ``categories=`` fixes their order (and so the linear/quadratic weights and the
ordinal distance) and makes a value outside it an error.

Every coefficient comes back as an :class:`Agreement`. ``ci=0.95`` adds a percentile bootstrap interval
over units (``n_boot`` resamples drawn with ``numpy.random.default_rng(seed)``, so an interval is
reproducible). The resampling is vectorised: each coefficient is a function of sums over units, and a chunk
of resamples is a matrix of unit counts times the per-unit terms.

The formulas are written from the papers cited in each docstring:

* Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and Psychological
  Measurement, 20, 37-46; Cohen, J. (1968). Weighted kappa. Psychological Bulletin, 70, 213-220.
* Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological Bulletin, 76,
  378-382; the variance under the null as corrected in Fleiss, Nee & Landis (1979), Psychological Bulletin,
  86, 974-977.
* Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for Communication
  Departmental Papers 43.
* Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence of high agreement.
  British Journal of Mathematical and Statistical Psychology, 61, 29-48; Gwet, K. L. (2014). Handbook of
  Inter-Rater Reliability, 4th ed.
* Brennan, R. L. & Prediger, D. J. (1981). Coefficient kappa: some uses, misuses, and alternatives.
  Educational and Psychological Measurement, 41, 687-699.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from labnb.errors import LabnbError

FloatArray: TypeAlias = NDArray[np.float64]
IntArray: TypeAlias = NDArray[np.int64]
Weights: TypeAlias = "Literal['linear', 'quadratic'] | ArrayLike | None"
Distance: TypeAlias = Callable[[FloatArray, FloatArray], ArrayLike]
Level: TypeAlias = "Literal['nominal', 'ordinal', 'interval', 'ratio'] | Distance"
Ratings: TypeAlias = "pd.DataFrame | ArrayLike"

#: Cells (resamples x units) of one chunk of bootstrap counts: bounds the bootstrap's memory.
_CHUNK_CELLS = 2_000_000


class ReliabilityError(LabnbError, ValueError):
    """The ratings cannot give the asked coefficient: too few raters, nothing rated twice, bad weights, ..."""


@dataclass(frozen=True)
class Agreement:
    """One agreement coefficient and what it was computed from.

    ``observed`` and ``expected`` are the observed and chance agreement the coefficient corrects
    (``(observed - expected) / (1 - expected)``); for Krippendorff's alpha they are the observed and
    expected *disagreement* (``1 - observed / expected``). ``ci`` is the bootstrap percentile interval, or
    None. ``extra`` holds what a coefficient has beyond that (per-category kappas, z, p, the table ...).
    """

    method: str
    coefficient: float
    n_units: int
    n_raters: int
    observed: float
    expected: float | None
    ci: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        parts = [f"{self.method}={self.coefficient:.4f}"]
        if self.ci is not None:
            parts.append(f"ci=({self.ci[0]:.4f}, {self.ci[1]:.4f})")
        parts.append(f"observed={self.observed:.4f}")
        if self.expected is not None:
            parts.append(f"expected={self.expected:.4f}")
        parts += [f"n_units={self.n_units}", f"n_raters={self.n_raters}"]
        if self.extra:
            parts.append("extra=[" + ", ".join(self.extra) + "]")
        return "Agreement(" + ", ".join(parts) + ")"

    def __float__(self) -> float:
        return self.coefficient


@dataclass(frozen=True)
class _Coded:
    """Ratings as integer codes: ``codes[u, r]`` is the category index, -1 where rater r did not rate u."""

    codes: IntArray
    categories: NDArray[Any]
    units: NDArray[Any]
    raters: NDArray[Any]


# -- input ---------------------------------------------------------------------------------------------


def _category_codes(values: NDArray[Any], categories: Sequence[Hashable] | None) -> tuple[IntArray, NDArray[Any]]:
    """Integer codes of present values and the category array they index."""
    if categories is not None:
        cats = pd.Index(list(categories))
        if not cats.is_unique:
            raise ReliabilityError("categories must not repeat a value")
        codes = np.asarray(cats.get_indexer(values), dtype=np.int64)
        if (codes < 0).any():
            unknown = pd.unique(values[codes < 0])[:5]
            raise ReliabilityError(f"values not among the categories: {list(unknown)}")
        return codes, np.asarray(cats.to_numpy())
    codes_u, uniques = pd.factorize(values, sort=False)
    uniq = np.asarray(uniques)
    try:
        order = np.argsort(uniq, kind="stable")
    except TypeError:  # codes that do not compare: keep the order of first appearance
        order = np.arange(len(uniq))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[np.asarray(codes_u, dtype=np.int64)], uniq[order]


def _missing(values: NDArray[Any]) -> NDArray[np.bool_]:
    if values.dtype.kind in "fc":
        return np.asarray(np.isnan(values), dtype=bool)
    if values.dtype.kind in "iub":
        return np.zeros(values.shape, dtype=bool)
    return np.asarray(pd.isna(values), dtype=bool)


def _normalise(ratings: Ratings, categories: Sequence[Hashable] | None = None) -> _Coded:
    """Codes and mask of a units x raters array or a long (unit, rater, value) DataFrame."""
    if isinstance(ratings, pd.DataFrame) and {"unit", "rater", "value"} <= set(ratings.columns):
        df = ratings[~ratings["value"].isna()]
        u_codes, units = pd.factorize(df["unit"], sort=False)
        r_codes, raters = pd.factorize(df["rater"], sort=False)
        keys = np.asarray(u_codes, dtype=np.int64) * max(len(raters), 1) + np.asarray(r_codes, dtype=np.int64)
        if len(np.unique(keys)) != len(keys):
            raise ReliabilityError("a rater rated the same unit more than once")
        values, cats = _category_codes(df["value"].to_numpy(), categories)
        codes = np.full((len(units), len(raters)), -1, dtype=np.int64)
        codes[u_codes, r_codes] = values
        return _Coded(codes, cats, np.asarray(units), np.asarray(raters))
    units_ax: NDArray[Any] | None = None
    raters_ax: NDArray[Any] | None = None
    if isinstance(ratings, pd.DataFrame):
        arr = ratings.to_numpy()
        units_ax, raters_ax = np.asarray(ratings.index), np.asarray(ratings.columns)
    else:
        arr = np.asarray(ratings)
    if arr.ndim != 2:
        raise ReliabilityError(
            f"ratings must be a units x raters array or a (unit, rater, value) DataFrame, not {arr.ndim}-D"
        )
    present = ~_missing(arr)
    values, cats = _category_codes(arr[present], categories)
    codes = np.full(arr.shape, -1, dtype=np.int64)
    codes[present] = values
    units = np.arange(arr.shape[0]) if units_ax is None else units_ax
    raters = np.arange(arr.shape[1]) if raters_ax is None else raters_ax
    return _Coded(codes, cats, units, raters)


def _check_pairable(present: NDArray[np.bool_]) -> int:
    """The number of raters, after checking there are 2 or more and a unit rated by 2 or more."""
    n_raters = int(present.any(axis=0).sum())
    if n_raters < 2:
        raise ReliabilityError(f"agreement needs at least 2 raters; the ratings have {n_raters}")
    if not (present.sum(axis=1) >= 2).any():
        raise ReliabilityError("no unit was rated by 2 or more raters, so there is no agreement to measure")
    return n_raters


def _counts(coded: _Coded, min_ratings: int = 2) -> tuple[FloatArray, int]:
    """Units x categories rating counts of the units with at least ``min_ratings`` ratings, and the raters."""
    present = coded.codes >= 0
    n_raters = _check_pairable(present)
    keep = present.sum(axis=1) >= min_ratings
    codes = coded.codes[keep]
    q = len(coded.categories)
    rows = np.repeat(np.arange(codes.shape[0]), codes.shape[1])
    flat = codes.ravel()
    ok = flat >= 0
    counts = np.bincount(rows[ok] * q + flat[ok], minlength=codes.shape[0] * q).reshape(codes.shape[0], q)
    return counts.astype(np.float64), n_raters


def _weight_matrix(weights: Weights, q: int) -> FloatArray:
    """Agreement weights (1 on the diagonal, 0 for the farthest pair) over category positions."""
    if weights is None:
        return np.eye(q)
    if isinstance(weights, str):
        pos = np.arange(q, dtype=np.float64)
        span = max(q - 1, 1)
        d = np.abs(pos[:, None] - pos[None, :]) / span
        if weights == "linear":
            return 1.0 - d
        if weights == "quadratic":
            return 1.0 - d**2
        raise ReliabilityError(f"unknown weights {weights!r}: use None, 'linear', 'quadratic' or a q x q matrix")
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (q, q):
        raise ReliabilityError(f"the weights matrix must be {q} x {q} (one row and column per category), not {w.shape}")
    if not np.allclose(np.diag(w), 1.0):
        raise ReliabilityError("weights are agreement weights: the diagonal must be 1 (identical ratings agree fully)")
    return w


# -- bootstrap -----------------------------------------------------------------------------------------


def _check_ci(ci: float | None, n_boot: int) -> None:
    if ci is not None and not 0.0 < ci < 1.0:
        raise ReliabilityError(f"ci must be a level between 0 and 1 (such as 0.95), not {ci}")
    if ci is not None and n_boot < 1:
        raise ReliabilityError(f"n_boot must be at least 1, not {n_boot}")


def _resample_counts(n: int, n_boot: int, seed: int) -> Iterator[FloatArray]:
    """Chunks of bootstrap resamples as (resamples x units) counts of how often each unit was drawn."""
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    done = 0
    while done < n_boot:
        k = min(chunk, n_boot - done)
        idx = rng.integers(0, n, size=(k, n))
        idx += np.arange(k)[:, None] * n
        yield np.bincount(idx.ravel(), minlength=k * n).reshape(k, n).astype(np.float64)
        done += k


def _interval(replicates: FloatArray, ci: float) -> tuple[float, float]:
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return (math.nan, math.nan)
    tail = (1.0 - ci) / 2.0
    lo, hi = np.quantile(finite, [tail, 1.0 - tail])
    return (float(lo), float(hi))


def _bootstrap_sums(
    terms: Any, stat: Callable[[FloatArray], FloatArray], ci: float, n_boot: int, seed: int
) -> tuple[float, float]:
    """Percentile interval of ``stat`` over resampled sums of the per-unit ``terms`` (units x d, sparse)."""
    terms_t = sparse.csr_matrix(terms).T.tocsr()
    reps = [stat(np.asarray(terms_t @ counts.T).T) for counts in _resample_counts(terms_t.shape[1], n_boot, seed)]
    return _interval(np.concatenate(reps), ci)


# -- Cohen ---------------------------------------------------------------------------------------------


def _kappa_from_tables(tables: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weighted kappa, observed and chance agreement of a batch of q x q count tables."""
    n = tables.sum(axis=(1, 2))
    p = tables / n[:, None, None]
    po = (p * w).sum(axis=(1, 2))
    rows, cols = p.sum(axis=2), p.sum(axis=1)
    pe = np.einsum("bi,ij,bj->b", rows, w, cols)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (po - pe) / (1.0 - pe)
    return kappa, po, pe


def cohen_kappa(
    a: ArrayLike,
    b: ArrayLike,
    weights: Weights = None,
    categories: Sequence[Hashable] | None = None,
    ci: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> Agreement:
    """Cohen's kappa of two raters who rated the same units, optionally weighted.

    With ``p_ij`` the share of units rater A put in category i and B in j, agreement weights ``w_ij``
    (identity when unweighted), ``p_o = sum_ij w_ij p_ij`` and ``p_e = sum_ij w_ij p_i. p_.j``::

        kappa = (p_o - p_e) / (1 - p_e)

    Cohen (1960) for the unweighted coefficient, Cohen (1968) for the weighted one. ``weights="linear"`` is
    ``1 - |i - j| / (q - 1)`` and ``"quadratic"`` ``1 - (i - j)^2 / (q - 1)^2`` over category positions
    (the order of ``categories``, else sorted values); a matrix gives agreement weights with 1 on the
    diagonal. ``extra["table"]`` is the q x q count table (rows A, columns B), ``extra["categories"]`` its
    categories. Every unit must be rated by both: NaN or None is an error.
    """
    _check_ci(ci, n_boot)
    xa, xb = np.asarray(a), np.asarray(b)
    if xa.ndim != 1 or xb.ndim != 1 or len(xa) != len(xb):
        raise ReliabilityError(f"a and b must be 1-D and of equal length, not shapes {xa.shape} and {xb.shape}")
    if len(xa) == 0:
        raise ReliabilityError("no unit was rated by both raters")
    both = np.concatenate([xa.astype(object), xb.astype(object)])
    if _missing(both).any():
        raise ReliabilityError("Cohen's kappa needs every unit rated by both raters: a or b has NaN or None")
    codes, cats = _category_codes(both, categories)
    q = len(cats)
    w = _weight_matrix(weights, q)
    n = len(xa)
    cell = codes[:n] * q + codes[n:]
    table = np.bincount(cell, minlength=q * q).astype(np.float64).reshape(q, q)
    kappa, po, pe = _kappa_from_tables(table[None], w)
    interval = None
    if ci is not None:
        onehot = sparse.csr_matrix((np.ones(n), (np.arange(n), cell)), shape=(n, q * q))
        interval = _bootstrap_sums(onehot, lambda s: _kappa_from_tables(s.reshape(-1, q, q), w)[0], ci, n_boot, seed)
    name = "cohen_kappa" if weights is None else "weighted_kappa"
    return Agreement(
        name, float(kappa[0]), n, 2, float(po[0]), float(pe[0]), interval, {"table": table, "categories": cats}
    )


# -- Fleiss --------------------------------------------------------------------------------------------


def _fleiss_terms(counts: FloatArray) -> FloatArray:
    """Per-unit terms whose sums give Fleiss' kappa: counts, P_i and each category's disagreement share."""
    m = counts.sum(axis=1, keepdims=True)
    pairs = m * (m - 1.0)
    p_i = (counts * (counts - 1.0)).sum(axis=1, keepdims=True) / pairs
    dis = counts * (m - counts) / pairs
    return np.hstack([np.ones_like(m), p_i, counts, dis])


def _fleiss_from_sums(sums: FloatArray, q: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    n_units, p_sum = sums[:, 0], sums[:, 1]
    counts, dis = sums[:, 2 : 2 + q], sums[:, 2 + q :]
    p_j = counts / counts.sum(axis=1, keepdims=True)
    p_bar = p_sum / n_units
    p_e = (p_j**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = (p_bar - p_e) / (1.0 - p_e)
        kappa_j = 1.0 - dis / (n_units[:, None] * p_j * (1.0 - p_j))
    return kappa, p_bar, p_e, kappa_j


def _two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0)) if math.isfinite(z) else math.nan


def fleiss_kappa(
    ratings: Ratings,
    categories: Sequence[Hashable] | None = None,
    ci: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> Agreement:
    """Fleiss' kappa for many raters, each unit rated by any number (at least 2) of them.

    Fleiss (1971): with ``n_ij`` the raters who put unit i in category j, ``n_i`` its raters and N units,
    ``P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1))``, ``P_bar = mean_i P_i``, ``p_j = sum_i n_ij / sum_i
    n_i`` and ``P_e = sum_j p_j^2``::

        kappa = (P_bar - P_e) / (1 - P_e)
        kappa_j = 1 - sum_i n_ij (n_i - n_ij) / (n_i (n_i - 1)) / (N p_j (1 - p_j))

    (with equal n these are Fleiss' equations; unequal numbers of raters weight each unit's pairs by
    ``1 / (n_i (n_i - 1))``). Units rated once are left out. ``extra``: ``per_category`` (category ->
    kappa_j), ``z`` and ``p`` (two-sided, H0: kappa = 0) and ``per_category_z`` / ``per_category_p``, from
    the null variances of Fleiss, Nee & Landis (1979), which correct those printed in Fleiss (1971)::

        var(kappa) = 2 / (N n (n-1) (sum p_j q_j)^2) * ((sum p_j q_j)^2 - sum p_j q_j (q_j - p_j))
        var(kappa_j) = 2 / (N n (n-1))

    with ``q_j = 1 - p_j`` and n the number of raters per unit (the mean when it varies: then z and p are
    an approximation).
    """
    _check_ci(ci, n_boot)
    coded = _normalise(ratings, categories)
    counts, n_raters = _counts(coded)
    q = len(coded.categories)
    terms = _fleiss_terms(counts)
    kappa, p_bar, p_e, kappa_j = _fleiss_from_sums(terms.sum(axis=0, keepdims=True), q)
    n_units = counts.shape[0]
    n = float(counts.sum() / n_units)
    p_j = counts.sum(axis=0) / counts.sum()
    pq = p_j * (1.0 - p_j)
    spq = float(pq.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        var0 = 2.0 / (n_units * n * (n - 1.0) * spq**2) * (spq**2 - float((pq * (1.0 - 2.0 * p_j)).sum()))
        z = float(kappa[0]) / math.sqrt(var0) if var0 > 0 else math.nan
    se_j = math.sqrt(2.0 / (n_units * n * (n - 1.0)))
    z_j = kappa_j[0] / se_j
    interval = None
    if ci is not None:
        interval = _bootstrap_sums(terms, lambda s: _fleiss_from_sums(s, q)[0], ci, n_boot, seed)
    cats = coded.categories.tolist()
    extra = {
        "per_category": dict(zip(cats, kappa_j[0].tolist(), strict=True)),
        "z": z,
        "p": _two_sided_p(z),
        "per_category_z": dict(zip(cats, z_j.tolist(), strict=True)),
        "per_category_p": {c: _two_sided_p(v) for c, v in zip(cats, z_j.tolist(), strict=True)},
        "proportions": dict(zip(cats, p_j.tolist(), strict=True)),
    }
    return Agreement(
        "fleiss_kappa", float(kappa[0]), n_units, n_raters, float(p_bar[0]), float(p_e[0]), interval, extra
    )


# -- Krippendorff --------------------------------------------------------------------------------------


def _value_counts(codes: IntArray, v: int) -> tuple[sparse.csr_matrix, FloatArray]:
    """``N``, the sparse units x values rating counts of the units rated 2 or more times (one entry per
    rating: memory O(units x raters) whatever the number of values), and their weights ``1 / (m_u - 1)``."""
    present = codes >= 0
    m = present.sum(axis=1)
    keep = m >= 2
    codes, present, m = codes[keep], present[keep], m[keep]
    rows, cols = np.nonzero(present)
    counts = sparse.csr_matrix((np.ones(len(rows)), (rows, codes[rows, cols])), shape=(codes.shape[0], v))
    return counts, 1.0 / (m - 1.0)  # duplicates (two raters, one value) are summed by csr_matrix


def _coincidences(counts: sparse.csr_matrix, unit_w: FloatArray) -> FloatArray:
    """Krippendorff's coincidence matrix ``o_ck = sum_u (c-k pairs in u) / (m_u - 1)``: the pairs within unit
    u are ``n_u n_u^T - diag(n_u)``, so ``o = N^T diag(w) N - diag(w^T N)``. Dense BLAS for few values, a
    sparse product for many (values^2 memory either way)."""
    v = counts.shape[1]
    if v <= 256:
        dense = counts.toarray()
        weighted = dense * unit_w[:, None]
        o = dense.T @ weighted
        o[np.diag_indices(v)] -= weighted.sum(axis=0)
        return np.asarray(o, dtype=np.float64)
    scaled = sparse.diags(unit_w) @ counts
    out = np.asarray((counts.T @ scaled).todense(), dtype=np.float64)
    out[np.diag_indices(v)] -= np.asarray(scaled.sum(axis=0)).ravel()
    return out


def _delta(level: Level, values: NDArray[Any], marginals: FloatArray) -> FloatArray:
    """Squared distances between the categories (batch x v x v; the ordinal one depends on the marginals)."""
    v = len(values)
    if callable(level):
        num = _numeric(values, "a callable distance")
        try:
            d = np.asarray(level(num[:, None], num[None, :]), dtype=np.float64)
        except (TypeError, ValueError):  # a distance of two scalars only
            d = np.empty(0)
        if d.shape != (v, v):
            d = np.array([[float(np.asarray(level(x, y))) for y in num] for x in num])
        return np.broadcast_to(d, (marginals.shape[0], v, v))
    if level == "nominal":
        return np.broadcast_to(1.0 - np.eye(v), (marginals.shape[0], v, v))
    if level == "ordinal":
        idx = np.arange(v)
        lo, hi = np.minimum.outer(idx, idx), np.maximum.outer(idx, idx)
        cum = np.cumsum(marginals, axis=1)
        between = cum[:, hi] - cum[:, lo] + marginals[:, lo]
        return np.asarray((between - (marginals[:, :, None] + marginals[:, None, :]) / 2.0) ** 2)
    num = _numeric(values, f"the {level} level")
    diff = num[:, None] - num[None, :]
    if level == "interval":
        return np.broadcast_to(diff**2, (marginals.shape[0], v, v))
    if level == "ratio":
        total = num[:, None] + num[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(total == 0, 0.0, (diff / total) ** 2)
        return np.broadcast_to(d, (marginals.shape[0], v, v))
    raise ReliabilityError(
        f"unknown level {level!r}: use 'nominal', 'ordinal', 'interval', 'ratio' or a callable distance"
    )


def _numeric(values: NDArray[Any], what: str) -> FloatArray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ReliabilityError(f"{what} needs numeric values; the ratings have {list(values[:5])}") from None


def _alpha_from_o(o: FloatArray, level: Level, values: NDArray[Any]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Alpha, observed and expected disagreement of a batch of coincidence matrices (batch x v x v)."""
    n_c = o.sum(axis=2)
    n = n_c.sum(axis=1)
    delta = _delta(level, values, n_c)
    d_o = (o * delta).sum(axis=(1, 2)) / n
    d_e = np.einsum("bc,bck,bk->b", n_c, delta, n_c) / (n * (n - 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 - d_o / d_e
    return alpha, d_o, d_e


def krippendorff_alpha(
    ratings: Ratings,
    level: Level = "nominal",
    categories: Sequence[Hashable] | None = None,
    ci: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> Agreement:
    """Krippendorff's alpha for any number of raters, missing ratings allowed.

    Krippendorff (2011): of the units with ``m_u >= 2`` ratings, the coincidence matrix is ``o_ck = sum_u
    (number of ordered c-k pairs of ratings in u) / (m_u - 1)``, ``n_c = sum_k o_ck`` and ``n = sum_c n_c``;
    with a squared distance ``delta_ck``::

        alpha = 1 - D_o / D_e,  D_o = sum_ck o_ck delta_ck / n,  D_e = sum_ck n_c n_k delta_ck / (n (n - 1))

    ``level`` picks delta: nominal ``[c != k]``, ordinal ``(sum_{g=c..k} n_g - (n_c + n_k) / 2)^2`` (categories
    in the order of ``categories``, else sorted), interval ``(c - k)^2``, ratio ``((c - k) / (c + k))^2``, or
    a callable ``delta(c, k)`` over the numeric values (given broadcastable arrays, or called per pair if it
    does not broadcast). ``observed`` and ``expected`` are ``D_o`` and ``D_e``. The bootstrap resamples
    units; ``extra["coincidences"]`` is the matrix.
    """
    _check_ci(ci, n_boot)
    if not callable(level) and level not in ("nominal", "ordinal", "interval", "ratio"):
        raise ReliabilityError(
            f"unknown level {level!r}: use 'nominal', 'ordinal', 'interval', 'ratio' or a callable distance"
        )
    coded = _normalise(ratings, categories)
    n_raters = _check_pairable(coded.codes >= 0)
    v = len(coded.categories)
    nz, unit_w = _value_counts(coded.codes, v)
    o = _coincidences(nz, unit_w)
    alpha, d_o, d_e = _alpha_from_o(o[None], level, coded.categories)
    interval = None
    if ci is not None:
        # Per unit, o_u = (n_u n_u^T - diag(n_u)) / (m_u - 1): a resample's matrix is N^T diag(w) N minus a
        # diagonal, with N the sparse units x values counts (O(units x raters) entries).
        reps = []
        for draws in _resample_counts(nz.shape[0], n_boot, seed):
            mats = np.empty((draws.shape[0], v, v))
            for b, row in enumerate(draws):
                w = row * unit_w
                mats[b] = (nz.T @ nz.multiply(w[:, None])).toarray() - np.diag(nz.T @ w)
            reps.append(_alpha_from_o(mats, level, coded.categories)[0])
        interval = _interval(np.concatenate(reps), ci)
    return Agreement(
        "krippendorff_alpha",
        float(alpha[0]),
        nz.shape[0],
        n_raters,
        float(d_o[0]),
        float(d_e[0]),
        interval,
        {"level": level if isinstance(level, str) else "custom", "coincidences": o, "categories": coded.categories},
    )


# -- Gwet, Brennan-Prediger, percent agreement ---------------------------------------------------------


def _pairwise_terms(counts: FloatArray, w: FloatArray) -> FloatArray:
    """Per unit: [rated twice or more, weighted pairwise agreement, rated at all, category shares r_ik / r_i].

    The agreement of a unit with ``r_i >= 2`` ratings is ``sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))`` with
    ``r*_ik = sum_l w_kl r_il`` (Gwet 2014, eq. for p_a).
    """
    m = counts.sum(axis=1, keepdims=True)
    twice = (m >= 2).astype(np.float64)
    star = counts @ w.T
    with np.errstate(divide="ignore", invalid="ignore"):
        agree = np.where(twice > 0, (counts * (star - 1.0)).sum(axis=1, keepdims=True) / (m * (m - 1.0)), 0.0)
    shares = counts / m
    return np.hstack([twice, agree, np.ones_like(m), shares])


def _pa_from_sums(sums: FloatArray) -> FloatArray:
    return np.asarray(sums[:, 1] / sums[:, 0])


def _gwet_from_sums(sums: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    q = w.shape[0]
    pa = _pa_from_sums(sums)
    pi = sums[:, 3:] / sums[:, 2:3]
    pe = w.sum() / (q * (q - 1.0)) * (pi * (1.0 - pi)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (pa - pe) / (1.0 - pe), pa, pe


def _bp_from_sums(sums: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    q = w.shape[0]
    pa = _pa_from_sums(sums)
    pe = float(w.sum()) / q**2
    return (pa - pe) / (1.0 - pe), pa, pe


def _pairwise_setup(
    ratings: Ratings, weights: Weights, categories: Sequence[Hashable] | None, ci: float | None, n_boot: int
) -> tuple[_Coded, FloatArray, int, FloatArray, FloatArray]:
    _check_ci(ci, n_boot)
    coded = _normalise(ratings, categories)
    counts, n_raters = _counts(coded, min_ratings=1)
    q = len(coded.categories)
    if q < 2:
        raise ReliabilityError(
            "the ratings use a single category: pass categories= with every category a rater could choose"
        )
    w = _weight_matrix(weights, q)
    return coded, counts, n_raters, w, _pairwise_terms(counts, w)


def gwet_ac1(
    ratings: Ratings,
    weights: Weights = None,
    categories: Sequence[Hashable] | None = None,
    ci: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> Agreement:
    """Gwet's AC1 (AC2 when weighted) for any number of raters, missing ratings allowed.

    Gwet (2008; Handbook, 4th ed., 2014): ``p_a`` is the mean over units with ``r_i >= 2`` ratings of
    ``sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))``, ``r*_ik = sum_l w_kl r_il``; ``pi_k`` is the mean over all
    rated units of ``r_ik / r_i``; with q categories and ``T_w = sum_kl w_kl``::

        p_e = T_w / (q (q - 1)) * sum_k pi_k (1 - pi_k),   AC = (p_a - p_e) / (1 - p_e)

    q is the number of categories: of ``categories`` if given, else of the values seen, so pass
    ``categories=`` when a category could have been chosen but was not. ``extra["pi"]`` holds pi_k.
    """
    coded, counts, n_raters, w, terms = _pairwise_setup(ratings, weights, categories, ci, n_boot)
    coef, pa, pe = _gwet_from_sums(terms.sum(axis=0, keepdims=True), w)
    interval = None
    if ci is not None:
        interval = _bootstrap_sums(terms, lambda s: _gwet_from_sums(s, w)[0], ci, n_boot, seed)
    pi = terms[:, 3:].sum(axis=0) / counts.shape[0]
    name = "gwet_ac1" if weights is None else "gwet_ac2"
    n_units = int(terms[:, 0].sum())
    extra = {"pi": dict(zip(coded.categories.tolist(), pi.tolist(), strict=True)), "n_units_rated": counts.shape[0]}
    return Agreement(name, float(coef[0]), n_units, n_raters, float(pa[0]), float(pe[0]), interval, extra)


def brennan_prediger(
    ratings: Ratings,
    weights: Weights = None,
    categories: Sequence[Hashable] | None = None,
    ci: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> Agreement:
    """Brennan & Prediger's (1981) coefficient: agreement corrected for uniform chance over q categories.

    ``p_a`` as in :func:`gwet_ac1` (the mean pairwise agreement of units rated twice or more) and
    ``p_e = T_w / q^2`` (``1 / q`` unweighted; Gwet 2014 for the weighted form)::

        BP = (p_a - p_e) / (1 - p_e)

    q counts ``categories`` if given, else the values seen.
    """
    _, _, n_raters, w, terms = _pairwise_setup(ratings, weights, categories, ci, n_boot)
    terms = terms[terms[:, 0] > 0]
    coef, pa, pe = _bp_from_sums(terms.sum(axis=0, keepdims=True), w)
    interval = None
    if ci is not None:
        interval = _bootstrap_sums(terms, lambda s: _bp_from_sums(s, w)[0], ci, n_boot, seed)
    return Agreement("brennan_prediger", float(coef[0]), terms.shape[0], n_raters, float(pa[0]), pe, interval)


def percent_agreement(
    ratings: Ratings,
    weights: Weights = None,
    categories: Sequence[Hashable] | None = None,
    ci: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> Agreement:
    """The share of agreeing pairs of ratings, uncorrected for chance (weighted if ``weights`` is given).

    The mean over units with ``r_i >= 2`` ratings of ``sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))`` (the
    ``p_a`` of Gwet 2014 and the ``P_bar`` of Fleiss 1971); for two raters the share of units they agree on.
    """
    _check_ci(ci, n_boot)
    coded = _normalise(ratings, categories)
    counts, n_raters = _counts(coded)
    w = _weight_matrix(weights, len(coded.categories))
    terms = _pairwise_terms(counts, w)
    pa = _pa_from_sums(terms.sum(axis=0, keepdims=True))
    interval = None
    if ci is not None:
        interval = _bootstrap_sums(terms, _pa_from_sums, ci, n_boot, seed)
    return Agreement("percent_agreement", float(pa[0]), counts.shape[0], n_raters, float(pa[0]), None, interval)
