"""Chance-corrected agreement between raters: pure functions over arrays and data frames.

Ratings come either as a units x raters array (one row per unit, one column per rater; NaN or None is a
missing rating; values are numbers or any hashable codes) or as a long :class:`pandas.DataFrame` with columns
``unit``, ``rater`` and ``value``. A wide DataFrame (units x raters) is read like an array. Categories may
be numbers, strings or any other hashable values (sorted when they compare); ``categories=`` fixes their
order (and so the linear/quadratic weights and the ordinal distance) and makes a value outside it an error.

Every coefficient except Cohen's is a sum over units of a function of the unit's category counts, so one
helper (:func:`_count`) turns the ratings into those counts, by the quickest exact way the input allows:
whole-number arrays without sorting or hashing (units with the same multiset of ratings share one row),
anything else through integer codes. Krippendorff's alpha never needs values x values memory for many
distinct values (closed forms; see :func:`krippendorff_alpha`). docs/PERFORMANCE.md has the figures.

Every coefficient comes back as an :class:`Agreement`. ``ci=0.95`` adds a percentile bootstrap interval
over units (``n_boot`` resamples drawn with ``numpy.random.default_rng(seed)``, so an interval is
reproducible). The resampling is vectorised: a coefficient is a function of sums over units, and a chunk
of resamples is a matrix of how often each row's units were drawn times the per-row terms.

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
from functools import cached_property
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from tqdm.auto import tqdm

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

#: The widest range of integer values coded by a lookup table instead of a sort (table of 8 MB).
_MAX_SPAN = 1 << 20


def _value_range(arr: NDArray[Any]) -> tuple[float, float] | None:
    """The smallest and largest present value of a numeric array, or None (none present, infinite, or
    integers too large to shift safely)."""
    flat = arr.reshape(-1)
    if arr.dtype.kind == "f":
        lo, hi = float(np.fmin.reduce(flat)), float(np.fmax.reduce(flat))  # fmin/fmax skip NaN
        return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None
    ilo, ihi = int(flat.min()), int(flat.max())
    return (float(ilo), float(ihi)) if max(abs(ilo), abs(ihi)) <= 2**52 else None


def _shifted_whole(arr: NDArray[Any], lo: float) -> IntArray | None:
    """``value - lo + 1`` as integers, 0 where missing; None if a value is not a whole number."""
    if arr.dtype.kind != "f":
        return np.asarray(arr.astype(np.intp) - np.intp(int(lo) - 1))
    shifted = arr - (lo - 1.0)  # present values 1, 2, ...; NaN stays NaN
    np.fmax(shifted, 0.0, out=shifted)  # NaN -> 0
    whole: IntArray = shifted.astype(np.intp)
    return whole if np.array_equal(whole, shifted) else None


def _small_integer_codes(arr: NDArray[Any]) -> tuple[IntArray, NDArray[Any]] | None:
    """Codes of numbers that are whole and span at most ``_MAX_SPAN``, NaN as -1, without sorting or hashing.

    Most ratings are small integers (category numbers, Likert points), often as floats because NaN marks a
    missing rating. Then ``value - min`` indexes a table of the values seen, which costs a few passes over
    the array instead of the sort of ``np.unique`` or the hashing of ``pd.factorize`` (6 to 20 times
    slower). Categories come out sorted, as on the general path. None when the values do not qualify.
    """
    bounds = _value_range(arr)
    if bounds is None or bounds[1] - bounds[0] > _MAX_SPAN:
        return None
    lo, hi = bounds
    whole = _shifted_whole(arr, lo)
    if whole is None:
        return None
    span = int(hi - lo) + 1
    seen = np.bincount(whole.reshape(-1), minlength=span + 1)[1:] > 0
    pos = np.flatnonzero(seen)
    cats = (pos + lo).astype(arr.dtype)
    if len(pos) == span:
        return whole - 1, cats
    lut = np.full(span + 1, -1, dtype=np.intp)
    lut[pos + 1] = np.arange(len(pos))
    return lut[whole], cats


def _category_codes(values: NDArray[Any], categories: Sequence[Hashable] | None) -> tuple[IntArray, NDArray[Any]]:
    """Integer codes of present values and the category array they index."""
    if categories is not None:
        cats = pd.Index(list(categories))
        if not cats.is_unique:
            raise ReliabilityError("categories must not repeat a value")
        codes = np.asarray(cats.get_indexer(values), dtype=np.intp)
        if (codes < 0).any():
            unknown = pd.unique(values[codes < 0])[:5]
            raise ReliabilityError(f"values not among the categories: {list(unknown)}")
        return codes, np.asarray(cats.to_numpy())
    if values.dtype.kind in "iuf" and values.size:
        fast = _small_integer_codes(values)
        if fast is not None:
            return fast
        uniq_sorted, inverse = np.unique(values, return_inverse=True)  # one sort: factorize + argsort take 5x
        return np.asarray(inverse, dtype=np.intp).reshape(values.shape), uniq_sorted
    codes_u, uniques = pd.factorize(values, sort=False)
    uniq = np.asarray(uniques)
    try:
        order = np.argsort(uniq, kind="stable")
    except TypeError:  # codes that do not compare: keep the order of first appearance
        order = np.arange(len(uniq))
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return rank[np.asarray(codes_u, dtype=np.intp)], uniq[order]


def _missing(values: NDArray[Any]) -> NDArray[np.bool_]:
    if values.dtype.kind in "fc":
        return np.asarray(np.isnan(values), dtype=bool)
    if values.dtype.kind in "iub":
        return np.zeros(values.shape, dtype=bool)
    return np.asarray(pd.isna(values), dtype=bool)


def _wide_codes(arr: NDArray[Any], categories: Sequence[Hashable] | None) -> tuple[IntArray, NDArray[Any]]:
    """Codes (-1 where missing) of a whole units x raters array: numbers go through the table of
    :func:`_small_integer_codes` in place, which spares picking the present values out first."""
    if categories is None and arr.dtype.kind in "iuf" and arr.size:
        fast = _small_integer_codes(arr)
        if fast is not None:
            return fast
    present = ~_missing(arr)
    values, cats = _category_codes(arr[present], categories)
    codes = np.full(arr.shape, -1, dtype=np.intp)
    codes[present] = values
    return codes, cats


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
        codes = np.full((len(units), len(raters)), -1, dtype=np.intp)
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
    codes, cats = _wide_codes(arr, categories)
    units = np.arange(arr.shape[0]) if units_ax is None else units_ax
    raters = np.arange(arr.shape[1]) if raters_ax is None else raters_ax
    return _Coded(codes, cats, units, raters)


def _row_sums(x: Any) -> FloatArray:
    """Sums along the second axis as one matrix-vector product (dense or sparse): numpy's reduction over a
    short last axis is several times slower."""
    if sparse.issparse(x):
        return np.asarray(x @ np.ones(x.shape[1]), dtype=np.float64)
    return np.asarray(x.astype(np.float64, copy=False) @ np.ones(x.shape[1]))


def _col_sums(x: NDArray[Any]) -> FloatArray:
    """Sums along the first (long) axis, as a vector-matrix product for the same reason."""
    return np.asarray(np.ones(x.shape[0]) @ x.astype(np.float64, copy=False))


def _check_pairable(n_raters: int, m: FloatArray) -> None:
    """Refuse ratings with fewer than 2 raters or no unit rated by 2 or more (``m``: ratings per unit)."""
    if n_raters < 2:
        raise ReliabilityError(f"agreement needs at least 2 raters; the ratings have {n_raters}")
    if not (m >= 2).any():
        raise ReliabilityError("no unit was rated by 2 or more raters, so there is no agreement to measure")


#: Largest table of rating multisets (see :func:`_signature_counts`), relative to and at most.
_SIGNATURES_PER_RATING = 4
_MAX_SIGNATURES = 1 << 22
#: Elements of a block of ratings worked on at once (512 kB of float64: stays in a core's cache).
_CACHE_ELEMENTS = 1 << 16
#: Units x categories cells above which counts are kept sparse (64 MB as float64).
_DENSE_CELLS = 8_000_000


@dataclass(frozen=True)
class _Counted:
    """What every coefficient is a function of: the category counts of each unit.

    ``rows[i]`` is a units-x-categories row (dense or sparse) that ``mult[i]`` units share; a sum over units
    is ``mult @ f(rows)``. ``unit_rows[u]`` is the row of unit u, in the order of the units (the bootstrap
    resamples units), or None when the rows are the units themselves. Only units with at least the asked
    number of ratings are kept.
    """

    rows: Any
    mult: FloatArray
    unit_rows: IntArray | None
    n_raters: int
    categories: NDArray[Any]
    known_m: FloatArray | None = None

    @property
    def n_units(self) -> int:
        return round(float(self.mult.sum()))

    @cached_property
    def m(self) -> FloatArray:
        """Ratings per row (``known_m`` when counting gave them already)."""
        return _row_sums(self.rows) if self.known_m is None else self.known_m

    def total(self, per_row: FloatArray) -> FloatArray:
        """The sum over units of per-row terms (rows x d, or a vector)."""
        return np.asarray(self.mult @ per_row)


def _raters_present(arr: NDArray[Any]) -> int:
    """Raters (columns) with at least one rating: looked for among the first units, and only the columns
    not found there read in full (one strided pass each)."""
    if arr.dtype.kind != "f":
        return int(arr.shape[1])
    found = ~np.isnan(arr[:256]).all(axis=0)  # nearly always every rater, from the first units
    return int(found.sum()) + sum(not np.isnan(arr[:, j]).all() for j in np.flatnonzero(~found))


def _signature_counts(arr: NDArray[Any], min_ratings: int) -> _Counted | None:
    """Counts of whole-number ratings grouped by each unit's multiset of ratings, without a row per unit.

    A unit rated by r raters into q categories has at most ``C(r + q, q)`` possible multisets (252 for 5
    raters and 5 categories). Encoding the ratings as digits in base ``r + 1`` (category c adds
    ``(r + 1)^c``, a missing rating 0), one matrix-vector product gives every unit's multiset as an integer,
    a bincount over those integers how many units share each, and the statistics need the counts of the
    distinct multisets only. Exact (the integers stay below 2^53); None when the values are not whole
    numbers or ``(r + 1)^span`` outgrows the data (``_SIGNATURES_PER_RATING`` per rating, at most
    ``_MAX_SIGNATURES``).
    """
    n, r = arr.shape
    bounds = _value_range(arr) if arr.dtype.kind in "iuf" and arr.size else None
    if bounds is None:
        return None
    lo, span = bounds[0], int(bounds[1] - bounds[0]) + 1
    limit = min(_MAX_SIGNATURES, _SIGNATURES_PER_RATING * arr.size)
    if span > 64 or (r + 1) ** span > limit:
        return None
    base = r + 1
    powers = np.concatenate([[0.0], float(base) ** np.arange(span)])
    signature = np.empty(n, dtype=np.intp)
    ones = np.ones(r)
    step = max(1, _CACHE_ELEMENTS // r)
    for start in range(0, n, step):  # blocks that stay in cache: whole-array temporaries cost 5x more
        whole = _shifted_whole(arr[start : start + step], lo)
        if whole is None:
            return None
        signature[start : start + step] = powers[whole] @ ones
    hist = np.bincount(signature, minlength=1)
    sigs = np.flatnonzero(hist)
    digits = (sigs[:, None] // base ** np.arange(span)[None, :]) % base  # distinct multisets x categories
    m_sig = digits.sum(axis=1)
    keep = m_sig >= min_ratings
    n_raters = _raters_present(arr)
    _check_pairable(n_raters, m_sig.astype(np.float64))
    seen = digits.sum(axis=0) > 0
    rows = digits[keep][:, seen].astype(np.float64)
    lut = np.full(len(hist), -1, dtype=np.intp)
    lut[sigs[keep]] = np.arange(int(keep.sum()))
    unit_rows = lut[signature]
    unit_rows = unit_rows[unit_rows >= 0]
    cats = (np.flatnonzero(seen) + lo).astype(arr.dtype)
    return _Counted(rows, hist[sigs[keep]].astype(np.float64), unit_rows, n_raters, cats)


def _dense_table(n: int, q: int) -> bool:
    """Whether n units x q categories counts are kept dense: up to ``_DENSE_CELLS`` cells and
    ``_DENSE_VALUES`` categories (past those the table is mostly zeros, and the many-values forms of
    Krippendorff's alpha want it sparse)."""
    return n * (q + 1) <= _DENSE_CELLS and q <= _DENSE_VALUES


def _direct_counts(arr: NDArray[Any], min_ratings: int) -> _Counted | None:
    """Units x categories counts of whole-number ratings straight from the array, in cache-sized blocks of
    units: per block one bincount over ``unit * (span + 1) + value - min + 1`` (0 for a missing rating, a
    column then dropped). No codes array, no whole-array temporaries. None when the values are not whole
    numbers or the table would not be dense (:func:`_dense_table`)."""
    n, r = arr.shape
    bounds = _value_range(arr) if arr.dtype.kind in "iuf" and arr.size else None
    if bounds is None:
        return None
    lo, width = bounds[0], int(bounds[1] - bounds[0]) + 2
    if not _dense_table(n, width - 1):
        return None
    full = np.empty((n, width))
    step = max(1, _CACHE_ELEMENTS // r)
    offsets = np.arange(step, dtype=np.intp)[:, None] * width
    totals = np.zeros(width)
    for start in range(0, n, step):
        whole = _shifted_whole(arr[start : start + step], lo)
        if whole is None:
            return None
        k = whole.shape[0]
        whole += offsets[:k]
        block = np.bincount(whole.reshape(-1), minlength=k * width).reshape(k, width)
        full[start : start + k] = block
        totals += block.sum(axis=0)
    m = r - full[:, 0]
    n_raters = _raters_present(arr)
    _check_pairable(n_raters, m)
    seen = totals[1:] > 0
    cats = (np.flatnonzero(seen) + lo).astype(arr.dtype)
    keep = m >= min_ratings
    if keep.all():
        rows = full[:, 1:][:, seen]
    else:
        rows, m = full[keep][:, 1:][:, seen], m[keep]
    return _Counted(np.ascontiguousarray(rows), np.ones(rows.shape[0]), None, n_raters, cats, m)


def _count(ratings: Ratings, categories: Sequence[Hashable] | None, min_ratings: int = 2) -> _Counted:
    """The category counts of the units with at least ``min_ratings`` ratings (see :class:`_Counted`).

    Whole-number arrays with few raters and categories take :func:`_signature_counts`, other whole-number
    arrays :func:`_direct_counts`; everything else is coded (:func:`_normalise`) and counted per unit, dense
    or sparse (one entry per rating: memory O(units x raters) whatever the number of categories) where
    :func:`_dense_table` says so.
    """
    if categories is None and not (isinstance(ratings, pd.DataFrame) and "value" in ratings.columns):
        arr = ratings.to_numpy() if isinstance(ratings, pd.DataFrame) else np.asarray(ratings)
        if arr.ndim == 2:
            fast = _signature_counts(arr, min_ratings)
            if fast is None:
                fast = _direct_counts(arr, min_ratings)
            if fast is not None:
                return fast
    coded = _normalise(ratings, categories)
    codes = coded.codes
    present = codes >= 0
    n_raters = int(np.count_nonzero(_col_sums(present)))
    m = _row_sums(present)
    _check_pairable(n_raters, m)
    keep = m >= min_ratings
    if not keep.all():
        codes, present, m = codes[keep], present[keep], m[keep]
    n, q = codes.shape[0], len(coded.categories)
    if _dense_table(n, q):
        keys = codes + (np.arange(n, dtype=np.intp) * (q + 1) + 1)[:, None]
        rows: Any = np.bincount(keys.reshape(-1), minlength=n * (q + 1)).reshape(n, q + 1)[:, 1:]
        rows = rows.astype(np.float64)
    else:
        indptr = np.concatenate([[0], np.cumsum(m.astype(np.int64))])
        rows = sparse.csr_matrix((np.ones(int(indptr[-1])), codes[present], indptr), shape=(n, q))
        rows.sum_duplicates()  # two raters, one value: one entry with count 2
    return _Counted(rows, np.ones(n), None, n_raters, coded.categories, m)


def _dense(counted: _Counted) -> _Counted:
    """The same counts with dense rows (the pairwise coefficients work on units x categories arrays)."""
    if not sparse.issparse(counted.rows):
        return counted
    return _Counted(
        counted.rows.toarray(), counted.mult, counted.unit_rows, counted.n_raters, counted.categories, counted.known_m
    )


def _keep_rows(counted: _Counted, keep: NDArray[np.bool_]) -> _Counted:
    """Only the rows (and their units) where ``keep``."""
    if keep.all():
        return counted
    unit_rows = counted.unit_rows
    if unit_rows is not None:
        lut = np.full(len(keep), -1, dtype=np.intp)
        lut[keep] = np.arange(int(keep.sum()))
        unit_rows = lut[unit_rows]
        unit_rows = unit_rows[unit_rows >= 0]
    known_m = None if counted.known_m is None else counted.known_m[keep]
    return _Counted(counted.rows[keep], counted.mult[keep], unit_rows, counted.n_raters, counted.categories, known_m)


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


def _resample_counts(
    n: int, n_boot: int, seed: int, unit_rows: IntArray | None = None, n_rows: int | None = None
) -> Iterator[FloatArray]:
    """Chunks of bootstrap resamples of the n units as (resamples x rows) counts of how often each row's
    units were drawn. A row is a unit, or with ``unit_rows`` the row each unit shares with others (the
    same draws, so the same interval, as resampling the units one by one)."""
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    width = n if unit_rows is None or n_rows is None else n_rows
    done = 0
    while done < n_boot:
        k = min(chunk, n_boot - done)
        idx = rng.integers(0, n, size=(k, n))
        if unit_rows is not None:
            idx = unit_rows[idx]
        idx += np.arange(k)[:, None] * width
        yield np.bincount(idx.ravel(), minlength=k * width).reshape(k, width).astype(np.float64)
        done += k


def _interval(replicates: FloatArray, ci: float) -> tuple[float, float]:
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return (math.nan, math.nan)
    tail = (1.0 - ci) / 2.0
    lo, hi = np.quantile(finite, [tail, 1.0 - tail])
    return (float(lo), float(hi))


def _draws(counted: _Counted, n_boot: int, seed: int) -> Iterator[FloatArray]:
    """Resample chunks of the counted units, as counts per row of ``counted``."""
    if counted.unit_rows is None:
        return _resample_counts(counted.rows.shape[0], n_boot, seed)
    return _resample_counts(len(counted.unit_rows), n_boot, seed, counted.unit_rows, counted.rows.shape[0])


def _times(draws: FloatArray, terms: Any) -> FloatArray:
    """``draws @ terms`` for dense or sparse terms (rows x d)."""
    if sparse.issparse(terms):
        return np.asarray((terms.T @ draws.T).T)
    return np.asarray(draws @ terms)


def _bootstrap_sums(
    draws: Iterator[FloatArray], terms: Any, stat: Callable[[FloatArray], FloatArray], ci: float
) -> tuple[float, float]:
    """Percentile interval of ``stat`` over resampled sums of the per-row ``terms`` (rows x d, dense or
    sparse): each resample's sums are its row counts times the terms, a chunk of resamples one product."""
    if sparse.issparse(terms):
        terms = sparse.csr_matrix(terms)
    reps = [stat(_times(counts, terms)) for counts in draws]
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
    categories. Every unit must be rated by both: NaN or None is an error. The bootstrap resamples units:
    each resample is a bincount of the drawn units' cells of the table.
    """
    _check_ci(ci, n_boot)
    xa, xb = np.asarray(a), np.asarray(b)
    if xa.ndim != 1 or xb.ndim != 1 or len(xa) != len(xb):
        raise ReliabilityError(f"a and b must be 1-D and of equal length, not shapes {xa.shape} and {xb.shape}")
    if len(xa) == 0:
        raise ReliabilityError("no unit was rated by both raters")
    numeric = xa.dtype.kind in "iuf" and xb.dtype.kind in "iuf"
    both = np.concatenate([xa, xb]) if numeric else np.concatenate([xa.astype(object), xb.astype(object)])
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
        draws = _resample_counts(n, n_boot, seed, cell, q * q)  # resamples x cells: the tables themselves
        reps = [_kappa_from_tables(t.reshape(-1, q, q), w)[0] for t in draws]
        interval = _interval(np.concatenate(reps), ci)
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


def _fleiss_sums(counts: FloatArray, mult: FloatArray) -> FloatArray:
    """The sums over units of :func:`_fleiss_terms` (1 x (2 + 2q)) without building the terms: with
    ``v_i = 1 / (n_i (n_i - 1))`` (times the units sharing row i), ``sum_i P_i = sum_j (v @ n_ij^2) - v @
    n_i`` and the disagreement sums are ``(n_i v) @ n_ij - v @ n_ij^2``: a few matrix-vector products."""
    m = _row_sums(counts)
    v = mult / (m * (m - 1.0))
    squares = v @ (counts * counts)
    p_sum = squares.sum() - v @ m
    dis = (m * v) @ counts - squares
    head = np.array([float(mult.sum()), p_sum])
    return np.concatenate([head, mult @ counts, dis])[None, :]


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
    counted = _dense(_count(ratings, categories))
    counts, q = counted.rows, len(counted.categories)
    kappa, p_bar, p_e, kappa_j = _fleiss_from_sums(_fleiss_sums(counts, counted.mult), q)
    n_units, n_raters = counted.n_units, counted.n_raters
    col = counted.mult @ counts
    n = float(col.sum() / n_units)
    p_j = col / col.sum()
    pq = p_j * (1.0 - p_j)
    spq = float(pq.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        var0 = 2.0 / (n_units * n * (n - 1.0) * spq**2) * (spq**2 - float((pq * (1.0 - 2.0 * p_j)).sum()))
        z = float(kappa[0]) / math.sqrt(var0) if var0 > 0 else math.nan
    se_j = math.sqrt(2.0 / (n_units * n * (n - 1.0)))
    z_j = kappa_j[0] / se_j
    interval = None
    if ci is not None:
        draws = _draws(counted, n_boot, seed)
        interval = _bootstrap_sums(draws, _fleiss_terms(counts), lambda s: _fleiss_from_sums(s, q)[0], ci)
    cats = counted.categories.tolist()
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

#: Values above which the coincidence matrix is kept sparse (a dense one of 2048 x 2048 is 32 MB).
_DENSE_VALUES = 2048
#: Cells of one block of value pairs when a distance has no closed form (a block is 64 MB).
_BLOCK_CELLS = 8_000_000


def _coincidences(counted: _Counted) -> Any:
    """Krippendorff's coincidence matrix ``o_ck = sum_u (c-k pairs in u) / (m_u - 1)``: the pairs within unit
    u are ``n_u n_u^T - diag(n_u)``, so ``o = N^T diag(w) N - diag(w^T N)`` with N the rows' counts and w
    their multiplicity over ``m - 1``. Dense (BLAS) up to ``_DENSE_VALUES`` values, else a sparse matrix
    with one entry per pair of values that met in a unit (never values x values memory)."""
    rows, wts = counted.rows, counted.mult / (counted.m - 1.0)
    v = rows.shape[1]
    if not sparse.issparse(rows) and v <= _DENSE_VALUES:
        # N^T [N diag(w), w] holds the product and the diagonal; summed over cache-sized blocks of rows
        both = np.zeros((v, v + 1))
        step = max(1, _CACHE_ELEMENTS // (v + 1))
        weighted = np.empty((min(step, rows.shape[0]), v + 1))
        for start in range(0, rows.shape[0], step):
            block, w_block = rows[start : start + step], wts[start : start + step]
            part = weighted[: len(block)]
            np.multiply(block, w_block[:, None], out=part[:, :v])
            part[:, v] = w_block
            both += block.T @ part
        o = both[:, :v]
        o[np.diag_indices(v)] -= both[:, v]
        return np.ascontiguousarray(o)
    n_sp = sparse.csr_matrix(rows)
    scaled = sparse.diags(wts) @ n_sp
    o_sp = sparse.csr_matrix(n_sp.T @ scaled) - sparse.diags(np.asarray(scaled.sum(axis=0)).ravel())
    if v <= _DENSE_VALUES:
        return np.asarray(o_sp.toarray(), dtype=np.float64)
    o_sp = sparse.csr_matrix(o_sp)
    o_sp.eliminate_zeros()
    return o_sp


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
    return np.broadcast_to(_pair_delta(level, num[:, None], num[None, :]), (marginals.shape[0], v, v))


def _pair_delta(level: Level, a: FloatArray, b: FloatArray) -> FloatArray:
    """The squared distance of fixed metrics between numeric values, elementwise over broadcast arrays."""
    if callable(level):
        shape = np.broadcast_shapes(a.shape, b.shape)
        try:
            d = np.asarray(level(a, b), dtype=np.float64)
        except (TypeError, ValueError):  # a distance of two scalars only
            d = np.empty(0)
        if d.shape != shape:
            aa, bb = np.broadcast_arrays(a, b)
            d = np.array([float(np.asarray(level(x, y))) for x, y in zip(aa.ravel(), bb.ravel(), strict=True)])
        return d.reshape(shape)
    if level == "nominal":
        return np.asarray(a != b, dtype=np.float64)
    diff = a - b
    if level == "interval":
        return np.asarray(diff**2)
    total = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(total == 0, 0.0, (diff / total) ** 2))


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


def _marginals(counted: _Counted) -> FloatArray:
    """``n_c``, the pairable values of each category."""
    rows = counted.rows
    return np.asarray(rows.T @ counted.mult if sparse.issparse(rows) else counted.mult @ rows, dtype=np.float64)


def _midranks(n_c: FloatArray) -> FloatArray:
    """Krippendorff's ordinal distance as an interval one: ``sum_{g=c..k} n_g - (n_c + n_k) / 2`` is
    ``M_k - M_c`` for c <= k, with ``M_c = sum_{g<c} n_g + n_c / 2`` the mid-rank of category c. Centred on
    n / 2 (the mean mid-rank), which keeps the moment sums small."""
    return np.asarray(np.cumsum(n_c, axis=-1) - n_c / 2.0 - n_c.sum(axis=-1, keepdims=True) / 2.0)


def _unit_spread(counted: _Counted, x: FloatArray) -> FloatArray:
    """Per row, ``sum_i (x_i - mean)^2`` over its ratings, from deviations (no ``m S2 - S1^2`` cancellation)."""
    rows, m = counted.rows, counted.m
    if sparse.issparse(rows):
        csr = sparse.csr_matrix(rows)
        mean = (csr @ x) / m
        row_of = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
        dev = x[csr.indices] - mean[row_of]
        return np.bincount(row_of, weights=csr.data * dev * dev, minlength=csr.shape[0]).astype(np.float64)
    mean = (rows @ x) / m
    dev = x[None, :] - mean[:, None]
    return _row_sums(rows * dev * dev)


def _moment_disagreements(counted: _Counted, x: FloatArray) -> tuple[FloatArray, float, float]:
    """The closed form of interval alpha (ordinal with ``x`` the mid-ranks): per unit, the ordered pairs of
    ratings give ``sum_{i != j} (x_i - x_j)^2 = 2 m sum_i (x_i - mean)^2``; over the marginals,
    ``sum_ck n_c n_k (x_c - x_k)^2 = 2 n sum_c n_c (x_c - mean)^2``. So, with no values x values matrix::

        D_o = sum_u 2 m_u ss_u / (m_u - 1) / n,   D_e = 2 sum_c n_c (x_c - xbar)^2 / (n - 1)

    Returns the per-row terms ``2 m ss / (m - 1)``, D_o and D_e; memory O(units x raters)."""
    m = counted.m
    per_row = 2.0 * m * _unit_spread(counted, x) / (m - 1.0)
    n_c = _marginals(counted)
    n = float(n_c.sum())
    xbar = float(n_c @ x) / n
    d_o = float(counted.mult @ per_row) / n
    d_e = 2.0 * float(n_c @ (x - xbar) ** 2) / (n - 1.0)
    return per_row, d_o, d_e


def _quadratic(level: Level, x: FloatArray, n_c: FloatArray) -> FloatArray:
    """``sum_ck n_c n_k delta(x_c, x_k)`` for a batch of marginals (batch x v), in blocks of value pairs:
    O(v^2) time for a distance with no closed form, but memory ``_BLOCK_CELLS`` at most."""
    v = len(x)
    step = max(1, _BLOCK_CELLS // max(v, 1))
    out = np.zeros(n_c.shape[0])
    starts = range(0, v, step)
    for start in tqdm(starts, desc="expected disagreement", disable=len(starts) < 8, leave=False):
        block = _pair_delta(level, x[start : start + step, None], x[None, :])
        out += ((n_c @ block.T) * n_c[:, start : start + step]).sum(axis=1)
    return out


def _entry_pairs(csr: sparse.csr_matrix) -> tuple[IntArray, IntArray, IntArray]:
    """Every ordered pair of stored entries of each row (an entry with itself included): row, first, second."""
    lengths = np.diff(csr.indptr)
    row_of = np.repeat(np.arange(csr.shape[0]), lengths)
    per_entry = lengths[row_of]  # each entry pairs with every entry of its row
    first = np.repeat(np.arange(len(row_of)), per_entry)
    offsets = np.arange(len(first)) - np.repeat(np.cumsum(per_entry) - per_entry, per_entry)
    second = np.repeat(csr.indptr[:-1][row_of], per_entry) + offsets
    return row_of[first], first, second


def _unit_disagreement(counted: _Counted, level: Level, x: FloatArray, delta: FloatArray | None) -> FloatArray:
    """Per row ``sum_{i != j} delta(x_i, x_j) / (m - 1)``, the row's share of ``n D_o``: from the v x v
    ``delta`` for few values, else from the pairs of values within each row."""
    rows, m = counted.rows, counted.m
    if delta is not None and not sparse.issparse(rows):
        within = _row_sums((rows @ delta) * rows) - rows @ np.diag(delta)
        return np.asarray(within / (m - 1.0))
    csr = sparse.csr_matrix(rows)
    row, first, second = _entry_pairs(csr)
    d = _pair_delta(level, x[csr.indices[first]], x[csr.indices[second]])
    within = np.bincount(row, weights=csr.data[first] * csr.data[second] * d, minlength=csr.shape[0])
    own = _pair_delta(level, x[csr.indices], x[csr.indices])
    row_of = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
    within -= np.bincount(row_of, weights=csr.data * own, minlength=csr.shape[0])
    return np.asarray(within / (m - 1.0))


def _alpha(d_o: FloatArray, d_e: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(1.0 - d_o / d_e)


def _alpha_many_values(
    counted: _Counted, level: Level, o: sparse.csr_matrix
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Alpha, D_o and D_e with a sparse coincidence matrix: closed forms for nominal (its diagonal),
    interval and ordinal (:func:`_moment_disagreements`); for ratio and callable distances D_o over the
    pairs of values that met and D_e in blocks (:func:`_quadratic`)."""
    n_c = _marginals(counted)
    n = float(n_c.sum())
    if level == "nominal":
        d_o, d_e = (n - float(o.diagonal().sum())) / n, (n * n - float(n_c @ n_c)) / (n * (n - 1.0))
    elif level in ("interval", "ordinal"):
        x = _midranks(n_c) if level == "ordinal" else _numeric(counted.categories, "the interval level")
        _, d_o, d_e = _moment_disagreements(counted, x)
    else:
        what = "a callable distance" if callable(level) else f"the {level} level"
        x = _numeric(counted.categories, what)
        coo = o.tocoo()
        d_o = float(coo.data @ _pair_delta(level, x[coo.row], x[coo.col])) / n
        d_e = float(_quadratic(level, x, n_c[None])[0]) / (n * (n - 1.0))
    d_o_a, d_e_a = np.array([d_o]), np.array([d_e])
    return _alpha(d_o_a, d_e_a), d_o_a, d_e_a


def _beside(m: FloatArray, d_row: FloatArray, rows: Any) -> Any:
    """Per-row terms ``[m, d, counts...]``, sparse when the counts are."""
    if sparse.issparse(rows):
        return sparse.hstack([m[:, None], d_row[:, None], rows], format="csr")
    return np.hstack([m[:, None], d_row[:, None], rows])


def _alpha_bootstrap(counted: _Counted, level: Level, ci: float, n_boot: int, seed: int) -> tuple[float, float]:
    """Percentile interval of alpha over resampled units. Per unit, D_o's share and the marginals are sums
    of per-unit terms, so a chunk of resamples is one product (nominal: ``m^2 - sum n_uc^2``; interval: the
    spread and the first two moments; ratio and callable: the within-unit distances and the counts, with
    D_e as a quadratic form). Ordinal mid-ranks move with each resample's marginals: per chunk they are
    recomputed and the unit sums taken with one sparse product."""
    rows, m = counted.rows, counted.m
    draws = _draws(counted, n_boot, seed)
    v = rows.shape[1]
    if level == "ordinal":
        return _ordinal_bootstrap(counted, draws, ci)
    if level == "nominal":
        squares = rows.multiply(rows) if sparse.issparse(rows) else rows * rows
        d_row = (m * m - _row_sums(squares)) / (m - 1.0)
        terms: Any = _beside(m, d_row, rows)

        def stat(s: FloatArray) -> FloatArray:
            n = s[:, 0]
            return _alpha(s[:, 1] / n, (n * n - (s[:, 2:] ** 2).sum(axis=1)) / (n * (n - 1.0)))

        return _bootstrap_sums(draws, terms, stat, ci)
    if level == "interval":
        x = _numeric(counted.categories, "the interval level")
        n_c = _marginals(counted)
        xc = x - float(n_c @ x) / float(n_c.sum())
        per_row, _, _ = _moment_disagreements(counted, x)
        terms = np.column_stack([m, per_row, rows @ xc, rows @ (xc * xc)])

        def stat_i(s: FloatArray) -> FloatArray:
            n = s[:, 0]
            return _alpha(s[:, 1] / n, 2.0 * (n * s[:, 3] - s[:, 2] ** 2) / (n * (n - 1.0)))

        return _bootstrap_sums(draws, terms, stat_i, ci)
    what = "a callable distance" if callable(level) else f"the {level} level"
    x = _numeric(counted.categories, what)
    delta = _delta(level, counted.categories, np.zeros((1, v)))[0] if v <= _DENSE_VALUES else None
    d_row = _unit_disagreement(counted, level, x, delta)
    terms = _beside(m, d_row, rows)

    def stat_q(s: FloatArray) -> FloatArray:
        n, n_c = s[:, 0], s[:, 2:]
        quad = np.einsum("bc,ck,bk->b", n_c, delta, n_c) if delta is not None else _quadratic(level, x, n_c)
        return _alpha(s[:, 1] / n, quad / (n * (n - 1.0)))

    return _bootstrap_sums(draws, terms, stat_q, ci)


def _ordinal_bootstrap(counted: _Counted, draws: Iterator[FloatArray], ci: float) -> tuple[float, float]:
    """Ordinal alpha of each resample: its marginals, their mid-ranks M (resamples x values), then per unit
    ``sum_i M_i`` and ``sum_i M_i^2`` as one product with the counts, and :func:`_moment_disagreements`'
    forms with ``m S2 - S1^2`` (centred mid-ranks keep that cancellation below the resampling noise)."""
    rows, m = counted.rows, counted.m
    w = 1.0 / (m - 1.0)
    reps = []
    for d in draws:
        n_c = _times(d, rows)
        n = n_c.sum(axis=1)
        mid = _midranks(n_c)
        s1 = np.asarray(rows @ mid.T)
        s2 = np.asarray(rows @ (mid * mid).T)
        per_row = 2.0 * (m[:, None] * s2 - s1 * s1) * w[:, None]
        d_o = np.einsum("bu,ub->b", d, per_row) / n
        d_e = 2.0 * (n * (n_c * mid * mid).sum(axis=1) - (n_c * mid).sum(axis=1) ** 2) / (n * (n - 1.0))
        reps.append(_alpha(d_o, d_e))
    return _interval(np.concatenate(reps), ci)


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
    units.

    ``extra["coincidences"]`` is the matrix: a numpy array for up to 2,048 distinct values, a
    ``scipy.sparse`` matrix beyond (one entry per pair of values that met in a unit), so that many-valued
    data (continuous ratings) never need values x values memory. There the interval and ordinal levels use
    closed forms (per unit ``sum_{i != j} (x_i - x_j)^2 = 2 m sum_i (x_i - mean)^2``, ordinal as interval on
    the categories' mid-ranks), nominal the matrix's diagonal; ratio and callable distances take O(values^2)
    time for D_e, in blocks of bounded memory.
    """
    _check_ci(ci, n_boot)
    if not callable(level) and level not in ("nominal", "ordinal", "interval", "ratio"):
        raise ReliabilityError(
            f"unknown level {level!r}: use 'nominal', 'ordinal', 'interval', 'ratio' or a callable distance"
        )
    counted = _count(ratings, categories)
    o = _coincidences(counted)
    if sparse.issparse(o):
        alpha, d_o, d_e = _alpha_many_values(counted, level, o)
    else:
        alpha, d_o, d_e = _alpha_from_o(o[None], level, counted.categories)
    interval = None if ci is None else _alpha_bootstrap(counted, level, ci, n_boot, seed)
    return Agreement(
        "krippendorff_alpha",
        float(alpha[0]),
        counted.n_units,
        counted.n_raters,
        float(d_o[0]),
        float(d_e[0]),
        interval,
        {"level": level if isinstance(level, str) else "custom", "coincidences": o, "categories": counted.categories},
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
) -> tuple[_Counted, FloatArray, FloatArray]:
    _check_ci(ci, n_boot)
    counted = _dense(_count(ratings, categories, min_ratings=1))
    q = len(counted.categories)
    if q < 2:
        raise ReliabilityError(
            "the ratings use a single category: pass categories= with every category a rater could choose"
        )
    w = _weight_matrix(weights, q)
    return counted, w, _pairwise_terms(counted.rows, w)


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
    counted, w, terms = _pairwise_setup(ratings, weights, categories, ci, n_boot)
    sums = counted.total(terms)[None, :]
    coef, pa, pe = _gwet_from_sums(sums, w)
    interval = None
    if ci is not None:
        interval = _bootstrap_sums(_draws(counted, n_boot, seed), terms, lambda s: _gwet_from_sums(s, w)[0], ci)
    pi = sums[0, 3:] / counted.n_units
    name = "gwet_ac1" if weights is None else "gwet_ac2"
    n_units = round(float(sums[0, 0]))
    extra = {"pi": dict(zip(counted.categories.tolist(), pi.tolist(), strict=True)), "n_units_rated": counted.n_units}
    return Agreement(name, float(coef[0]), n_units, counted.n_raters, float(pa[0]), float(pe[0]), interval, extra)


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
    counted, w, terms = _pairwise_setup(ratings, weights, categories, ci, n_boot)
    twice = terms[:, 0] > 0
    counted, terms = _keep_rows(counted, twice), terms[twice]
    coef, pa, pe = _bp_from_sums(counted.total(terms)[None, :], w)
    interval = None
    if ci is not None:
        interval = _bootstrap_sums(_draws(counted, n_boot, seed), terms, lambda s: _bp_from_sums(s, w)[0], ci)
    return Agreement("brennan_prediger", float(coef[0]), counted.n_units, counted.n_raters, float(pa[0]), pe, interval)


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
    counted = _dense(_count(ratings, categories))
    w = _weight_matrix(weights, len(counted.categories))
    terms = _pairwise_terms(counted.rows, w)
    pa = _pa_from_sums(counted.total(terms)[None, :])
    interval = None
    if ci is not None:
        interval = _bootstrap_sums(_draws(counted, n_boot, seed), terms, _pa_from_sums, ci)
    return Agreement("percent_agreement", float(pa[0]), counted.n_units, counted.n_raters, float(pa[0]), None, interval)
