"""Chance-corrected agreement statistics (labnb.metrics.reliability) against published worked examples,
independent implementations (scikit-learn, statsmodels) on random data, and their invariances."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import labnb as lb
from labnb.metrics import (
    brennan_prediger,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
    reliability,
)
from labnb.metrics.reliability import (
    Agreement,
    ReliabilityError,
    _alpha_from_o,
    _alpha_many_values,
    _coincidences,
    _count,
    _unit_disagreement,
)

#: Fleiss (1971), "Measuring nominal scale agreement among many raters", Psychological Bulletin 76, Table 1:
#: 30 patients, 6 psychiatrists each, 5 categories (1 depression, 2 personality disorder, 3 schizophrenia,
#: 4 neurosis, 5 other); row i gives n_ij, how many of the 6 put patient i in category j.
FLEISS_1971_TABLE_1 = np.array(
    [
        [0, 0, 0, 6, 0],
        [0, 3, 0, 0, 3],
        [0, 1, 4, 0, 1],
        [0, 0, 0, 0, 6],
        [0, 3, 0, 3, 0],
        [2, 0, 4, 0, 0],
        [0, 0, 4, 0, 2],
        [2, 0, 3, 1, 0],
        [2, 0, 0, 4, 0],
        [0, 0, 0, 0, 6],
        [1, 0, 0, 5, 0],
        [1, 1, 0, 4, 0],
        [0, 3, 3, 0, 0],
        [1, 0, 0, 5, 0],
        [0, 2, 0, 3, 1],
        [0, 0, 5, 0, 1],
        [3, 0, 0, 1, 2],
        [5, 1, 0, 0, 0],
        [0, 2, 0, 4, 0],
        [1, 0, 2, 0, 3],
        [0, 0, 0, 0, 6],
        [0, 1, 0, 5, 0],
        [0, 2, 0, 1, 3],
        [2, 0, 0, 4, 0],
        [1, 0, 0, 4, 1],
        [0, 5, 0, 1, 0],
        [4, 0, 0, 0, 2],
        [0, 2, 0, 4, 0],
        [1, 0, 5, 0, 0],
        [0, 0, 0, 0, 6],
    ]
)


def _ratings_from_counts(counts: np.ndarray) -> np.ndarray:
    """Units x raters ratings (categories 1..q) with the given per-unit category counts."""
    return np.array([np.repeat(np.arange(1, counts.shape[1] + 1), row) for row in counts], dtype=float)


FLEISS = _ratings_from_counts(FLEISS_1971_TABLE_1)

#: Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the reliability data with missing
#: values: observers A-D (rows) x 12 units (columns), values 1-5, NaN where an observer did not code a unit.
#: Gwet's Handbook of Inter-Rater Reliability (4th ed., 2014) uses the same data (irrCAC's cac.raw4raters).
_ = np.nan
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
        [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
    ]
).T

#: Cohen (1960), "A coefficient of agreement for nominal scales", the worked example: 200 units, 3
#: categories; the proportions are (rows judge A, columns judge B)
#: [[.44, .07, .09], [.05, .20, .05], [.01, .03, .06]], so p_o = .70, p_c = .41 and kappa = .29 / .59 (.492).
COHEN_1960_COUNTS = np.array([[88, 14, 18], [10, 40, 10], [2, 6, 12]])


def _pairs_from_table(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = [], []
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            a += [i + 1] * int(table[i, j])
            b += [j + 1] * int(table[i, j])
    return np.array(a), np.array(b)


# -- published values --------------------------------------------------------------------------------


def test_fleiss_1971_table_1_kappa_and_per_category_kappas():
    """Fleiss (1971): kappa = .430 over all categories; per category .245, .245, .520, .471, .566 (the paper
    gives 3 decimals, so these are matched to its rounding). z and the per-category z are those the R package
    irr (kappam.fleiss, Gamer et al.) prints for these data: 17.652 and 5.192, 5.192, 11.031, 9.994, 12.009
    (Fleiss, Nee & Landis 1979 null variances)."""
    r = fleiss_kappa(FLEISS)
    assert round(r.coefficient, 3) == 0.430
    assert [round(k, 3) for k in r.extra["per_category"].values()] == [0.245, 0.245, 0.520, 0.471, 0.566]
    assert round(r.extra["z"], 3) == 17.652
    assert [round(z, 3) for z in r.extra["per_category_z"].values()] == [5.192, 5.192, 11.031, 9.994, 12.009]
    assert r.extra["p"] < 1e-60
    # exact values from the table: P_bar = 5/9 (sum of the P_i is 50/3 over 30 patients), p_3 = 30/180
    assert r.observed == pytest.approx(5 / 9, abs=1e-12)
    assert r.extra["per_category"][3.0] == pytest.approx(0.52, abs=1e-12)
    assert (r.n_units, r.n_raters) == (30, 6)


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_2011_reliability_data(level, published):
    """Krippendorff (2011), the 4 observers x 12 units example with missing values: alpha nominal .743,
    ordinal .815, interval .849, ratio .797 (published to 3 decimals, matched to that rounding)."""
    r = krippendorff_alpha(KRIPPENDORFF_2011, level=level)
    assert round(r.coefficient, 3) == published
    assert r.n_units == 11  # the 12th unit has one value and is not pairable


def test_krippendorff_2011_nominal_exact_disagreements():
    """Krippendorff (2011), the same data: n = 40 pairable values with n_c = 9, 13, 10, 5, 3; the off-diagonal
    coincidences add up to 8 (unit 2 gives 6 ordered pairs / 3, unit 6 12 / 3, unit 8 6 / 3), so nominal
    alpha = 1 - (n - 1) * 8 / (n^2 - sum n_c^2) = 1 - 312 / 1216 exactly."""
    r = krippendorff_alpha(KRIPPENDORFF_2011)
    o = r.extra["coincidences"]
    assert o.sum() == pytest.approx(40.0, abs=1e-12)
    n_c = o.sum(axis=1)
    assert n_c.tolist() == pytest.approx([9, 13, 10, 5, 3], abs=1e-12)
    off = o.sum() - np.trace(o)
    assert off == pytest.approx(8.0, abs=1e-12)
    assert r.coefficient == pytest.approx(1 - 312 / 1216, abs=1e-12)


def test_cohen_1960_example():
    """Cohen (1960): p_o = .70, p_c = .41, kappa = .29 / .59 = .4915... (printed as .49); exact to 1e-12."""
    a, b = _pairs_from_table(COHEN_1960_COUNTS)
    r = cohen_kappa(a, b)
    assert r.observed == pytest.approx(0.70, abs=1e-12)
    assert r.expected == pytest.approx(0.41, abs=1e-12)
    assert r.coefficient == pytest.approx(0.29 / 0.59, abs=1e-12)
    assert np.array_equal(r.extra["table"], COHEN_1960_COUNTS)


def test_weighted_kappa_by_hand_on_cohen_1960_table():
    """Linear weights on Cohen's (1960) table, worked by hand (not a published number): weight 1/2 for
    adjacent categories, so p_o = .70 + (.07 + .05 + .05 + .03) / 2 = .80; with marginals (.6, .3, .1) and
    (.5, .3, .2), p_e = .41 + (.18 + .15 + .06 + .03) / 2 = .62; kappa_w = .18 / .38."""
    a, b = _pairs_from_table(COHEN_1960_COUNTS)
    r = cohen_kappa(a, b, weights="linear")
    assert r.observed == pytest.approx(0.80, abs=1e-12)
    assert r.expected == pytest.approx(0.62, abs=1e-12)
    assert r.coefficient == pytest.approx(0.18 / 0.38, abs=1e-12)
    # the same as an explicit agreement-weight matrix
    w = [[1, 0.5, 0], [0.5, 1, 0.5], [0, 0.5, 1]]
    assert cohen_kappa(a, b, weights=w).coefficient == pytest.approx(0.18 / 0.38, abs=1e-12)


def test_gwet_handbook_example_ac1_ac2():
    """Gwet, Handbook of Inter-Rater Reliability (4th ed., 2014), the 4 raters x 12 units data (irrCAC's
    cac.raw4raters): the irrCAC documentation prints AC1 = 0.77544 with p_a = 0.81818, p_e = 0.19032 and,
    with quadratic weights, AC2 = 0.914 with p_a = 0.97538, p_e = 0.7137 (matched to those decimals).
    p_a = 9/11 exactly: 8 units agree fully, two have half their pairs agreeing, one none."""
    r = gwet_ac1(KRIPPENDORFF_2011)
    assert round(r.coefficient, 5) == 0.77544
    assert r.observed == pytest.approx(9 / 11, abs=1e-12)
    assert round(r.expected, 5) == 0.19032
    r2 = gwet_ac1(KRIPPENDORFF_2011, weights="quadratic")
    assert round(r2.coefficient, 3) == 0.914
    assert round(r2.observed, 5) == 0.97538
    assert round(r2.expected, 4) == 0.7137
    assert r2.method == "gwet_ac2"


def test_brennan_prediger_and_percent_agreement_on_gwet_example():
    """On the same data p_a = 9/11 and q = 5, so BP = (9/11 - 1/5) / (4/5) = 17/22 (Brennan & Prediger 1981)."""
    bp = brennan_prediger(KRIPPENDORFF_2011)
    assert bp.coefficient == pytest.approx(17 / 22, abs=1e-12)
    assert bp.expected == pytest.approx(0.2, abs=1e-12)
    assert percent_agreement(KRIPPENDORFF_2011).coefficient == pytest.approx(9 / 11, abs=1e-12)


# -- independent implementations on random data ------------------------------------------------------


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_matches_scikit_learn(weights):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.integers(0, 5, size=200)
        b = np.where(rng.random(200) < 0.6, a, rng.integers(0, 5, size=200))
        ours = cohen_kappa(a, b, weights=weights).coefficient
        assert ours == pytest.approx(metrics.cohen_kappa_score(a, b, weights=weights), abs=1e-9)


def test_fleiss_matches_statsmodels():
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(2)
    for _ in range(20):
        truth = rng.integers(0, 4, size=(150, 1))
        ratings = np.where(rng.random((150, 7)) < 0.5, truth, rng.integers(0, 4, size=(150, 7)))
        table, _cats = inter_rater.aggregate_raters(ratings)
        expected = inter_rater.fleiss_kappa(table, method="fleiss")
        assert fleiss_kappa(ratings.astype(float)).coefficient == pytest.approx(expected, abs=1e-9)


def test_two_rater_krippendorff_nominal_is_close_to_scott_pi():
    """For 2 raters and N units without missing values nominal alpha is Scott's pi with a small-sample
    correction: alpha = 1 - (2N - 1) / (2N) * (1 - pi) (Krippendorff 2011)."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 3, size=60)
    b = np.where(rng.random(60) < 0.7, a, rng.integers(0, 3, size=60))
    alpha = krippendorff_alpha(np.column_stack([a, b]).astype(float)).coefficient
    p_o = np.mean(a == b)
    pooled = np.bincount(np.concatenate([a, b]), minlength=3) / 120
    pi = (p_o - (pooled**2).sum()) / (1 - (pooled**2).sum())
    assert alpha == pytest.approx(1 - (1 - pi) * (2 * 60 - 1) / (2 * 60), abs=1e-12)


# -- inputs ------------------------------------------------------------------------------------------


def test_long_dataframe_and_string_codes_give_the_same_coefficients():
    names = {1.0: "one", 2.0: "two", 3.0: "three", 4.0: "four", 5.0: "five"}
    rows = [
        {"unit": f"u{u}", "rater": "ABCD"[r], "value": names[KRIPPENDORFF_2011[u, r]]}
        for u in range(12)
        for r in range(4)
        if not np.isnan(KRIPPENDORFF_2011[u, r])
    ]
    long = pd.DataFrame(rows)
    order = ["one", "two", "three", "four", "five"]
    assert krippendorff_alpha(long, categories=order).coefficient == pytest.approx(
        krippendorff_alpha(KRIPPENDORFF_2011).coefficient, abs=1e-12
    )
    assert krippendorff_alpha(long, "ordinal", categories=order).coefficient == pytest.approx(
        krippendorff_alpha(KRIPPENDORFF_2011, "ordinal").coefficient, abs=1e-12
    )
    assert gwet_ac1(long).coefficient == pytest.approx(gwet_ac1(KRIPPENDORFF_2011).coefficient, abs=1e-12)
    wide_objects = np.where(np.isnan(KRIPPENDORFF_2011), None, KRIPPENDORFF_2011.astype(object))
    assert fleiss_kappa(wide_objects).coefficient == pytest.approx(
        fleiss_kappa(KRIPPENDORFF_2011).coefficient, abs=1e-12
    )
    assert fleiss_kappa(pd.DataFrame(FLEISS)).coefficient == pytest.approx(0.4302445, abs=1e-7)


def test_callable_distance_equals_the_named_level():
    interval = krippendorff_alpha(KRIPPENDORFF_2011, "interval").coefficient
    assert krippendorff_alpha(KRIPPENDORFF_2011, lambda c, k: (c - k) ** 2).coefficient == pytest.approx(interval)
    scalar_only = krippendorff_alpha(KRIPPENDORFF_2011, lambda c, k: float(abs(c - k) ** 2))
    assert scalar_only.coefficient == pytest.approx(interval)


def test_coincidences_stay_values_by_values_on_many_units():
    rng = np.random.default_rng(4)
    codes = rng.integers(-1, 50, size=(100_000, 4)).astype(float)
    codes[codes < 0] = np.nan
    o = _coincidences(_count(codes, None))
    assert o.shape == (50, 50)
    m = (~np.isnan(codes)).sum(axis=1)
    assert o.sum() == pytest.approx(float(m[m >= 2].sum()))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fleiss_kappa(np.array([[1.0], [2.0]])), "at least 2 raters"),
        (lambda: fleiss_kappa(np.array([[1.0, np.nan], [np.nan, 2.0]])), "no unit was rated by 2"),
        (lambda: krippendorff_alpha(KRIPPENDORFF_2011, level="cardinal"), "unknown level"),
        (lambda: cohen_kappa([1, 2, 3], [1, 2, 2], weights=np.eye(2)), "must be 3 x 3"),
        (lambda: cohen_kappa([1, 2, 3], [1, 2, 2], weights=1 - np.eye(3)), "diagonal must be 1"),
        (lambda: cohen_kappa([1.0, np.nan, 3.0], [1.0, 2.0, 2.0]), "NaN or None"),
        (lambda: cohen_kappa([1, 2], [1, 2, 3]), "equal length"),
        (lambda: cohen_kappa([1, 2], [1, 3], categories=[1, 2]), "not among the categories"),
        (lambda: gwet_ac1([[1, 1], [1, 1]]), "single category"),
        (lambda: gwet_ac1(KRIPPENDORFF_2011, weights="cubic"), "unknown weights"),
        (lambda: krippendorff_alpha([["a", "b"], ["a", "a"]], "interval"), "needs numeric values"),
        (lambda: percent_agreement(KRIPPENDORFF_2011, ci=95), "between 0 and 1"),
        (
            lambda: fleiss_kappa(pd.DataFrame({"unit": [1, 1], "rater": ["a", "a"], "value": [1, 2]})),
            "more than once",
        ),
    ],
)
def test_bad_input_is_refused_clearly(call, message):
    with pytest.raises(ReliabilityError, match=message):
        call()


# -- properties --------------------------------------------------------------------------------------

ALL = [
    fleiss_kappa,
    krippendorff_alpha,
    lambda r: krippendorff_alpha(r, "ordinal"),
    lambda r: krippendorff_alpha(r, "interval"),
    gwet_ac1,
    lambda r: gwet_ac1(r, weights="quadratic"),
    brennan_prediger,
    percent_agreement,
]


@pytest.mark.parametrize("coefficient", ALL)
def test_permuting_raters_or_units_changes_nothing(coefficient):
    rng = np.random.default_rng(5)
    base = coefficient(KRIPPENDORFF_2011).coefficient
    for _ in range(5):
        shuffled = KRIPPENDORFF_2011[rng.permutation(12)][:, rng.permutation(4)]
        assert coefficient(shuffled).coefficient == pytest.approx(base, abs=1e-12)


def test_cohen_is_symmetric_and_ignores_unit_order():
    a, b = _pairs_from_table(COHEN_1960_COUNTS)
    perm = np.random.default_rng(6).permutation(len(a))
    k = cohen_kappa(a, b, weights="quadratic").coefficient
    assert cohen_kappa(b, a, weights="quadratic").coefficient == pytest.approx(k, abs=1e-12)
    assert cohen_kappa(a[perm], b[perm], weights="quadratic").coefficient == pytest.approx(k, abs=1e-12)


@pytest.mark.parametrize("coefficient", ALL)
def test_perfect_agreement_is_one(coefficient):
    truth = np.array([1, 2, 3, 1, 2, 3, 3, 2], dtype=float)
    ratings = np.tile(truth[:, None], (1, 5))
    ratings[0, 1] = ratings[5, 3] = np.nan
    assert coefficient(ratings).coefficient == pytest.approx(1.0, abs=1e-12)
    assert cohen_kappa(truth, truth).coefficient == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda **kw: cohen_kappa(*_pairs_from_table(COHEN_1960_COUNTS), weights="linear", **kw),
        lambda **kw: fleiss_kappa(FLEISS, **kw),
        lambda **kw: krippendorff_alpha(KRIPPENDORFF_2011, "ordinal", **kw),
        lambda **kw: gwet_ac1(KRIPPENDORFF_2011, **kw),
        lambda **kw: brennan_prediger(KRIPPENDORFF_2011, **kw),
        lambda **kw: percent_agreement(FLEISS, **kw),
    ],
)
def test_bootstrap_ci_is_reproducible_and_contains_the_estimate(call):
    first = call(ci=0.95, n_boot=300, seed=7)
    again = call(ci=0.95, n_boot=300, seed=7)
    other = call(ci=0.95, n_boot=300, seed=8)
    assert first.ci == again.ci
    assert first.ci != other.ci
    assert first.ci is not None
    lo, hi = first.ci
    assert lo <= first.coefficient <= hi
    assert lo < hi
    assert call().ci is None


def test_bootstrap_of_many_units_is_quick():
    rng = np.random.default_rng(9)
    truth = rng.integers(0, 4, size=(20_000, 1))
    ratings = np.where(rng.random((20_000, 5)) < 0.7, truth, rng.integers(0, 4, size=(20_000, 5))).astype(float)
    r = fleiss_kappa(ratings, ci=0.95, n_boot=200)
    assert r.ci is not None
    assert r.ci[0] < r.coefficient < r.ci[1]
    assert r.ci[1] - r.ci[0] < 0.02


def test_result_reads_well_and_is_reachable_from_the_package():
    r = lb.metrics.fleiss_kappa(FLEISS)
    assert isinstance(r, Agreement)
    text = repr(r)
    assert text.startswith("Agreement(fleiss_kappa=0.4302")
    assert "n_units=30" in text
    assert "n_raters=6" in text
    assert float(r) == r.coefficient
    with pytest.raises(AttributeError):
        r.coefficient = 1.0  # type: ignore[misc]


# -- fast paths and closed forms ---------------------------------------------------------------------


def _alpha_by_definition(ratings: np.ndarray, level: str) -> float:
    """Krippendorff's alpha straight from its definition (Krippendorff 2011), pair by pair: D_o over the
    ordered pairs of ratings within each unit (weighted 1 / (m_u - 1)), D_e over all ordered pairs of the
    pairable values. O(values^2): for test data only."""
    units = [row[~np.isnan(row)] for row in ratings]
    units = [u for u in units if len(u) >= 2]
    pooled = np.concatenate(units)
    n = len(pooled)
    uniq, counts = np.unique(pooled, return_counts=True)
    cum = np.cumsum(counts)

    def delta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if level == "nominal":
            return (a != b).astype(float)
        if level == "interval":
            return (a - b) ** 2
        if level == "ratio":
            return ((a - b) / (a + b)) ** 2
        ia, ib = np.searchsorted(uniq, a), np.searchsorted(uniq, b)  # ordinal
        lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
        between = cum[hi] - cum[lo] + counts[lo]
        return (between - (counts[ia] + counts[ib]) / 2.0) ** 2

    d_o = sum(delta(u[:, None], u[None, :]).sum() / (len(u) - 1) for u in units) / n
    d_e = delta(pooled[:, None], pooled[None, :]).sum() / (n * (n - 1))
    return 1.0 - d_o / d_e


def _continuous(units: int, raters: int, seed: int, missing: float = 0.2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ratings = np.exp(rng.normal(size=(units, 1)) + 0.4 * rng.normal(size=(units, raters)))  # positive: ratio
    ratings[rng.random(ratings.shape) < missing] = np.nan
    return ratings


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_with_many_values_equals_the_definition(level):
    """Past 2,048 distinct values the coincidences are sparse and D_o, D_e come from closed forms
    (interval, ordinal, nominal) or blocks (ratio); with few values from the dense matrix. Both equal alpha
    computed pair by pair from the definition; the continuous data have ~2,800 distinct values."""
    many = _continuous(900, 4, seed=10)
    few = np.round(many * 2.0) + 1.0  # a handful of whole-number values
    for data in (many, few):
        r = krippendorff_alpha(data, level)
        assert r.coefficient == pytest.approx(_alpha_by_definition(data, level), abs=1e-12)
    assert sparse.issparse(krippendorff_alpha(many, level).extra["coincidences"])
    assert isinstance(krippendorff_alpha(few, level).extra["coincidences"], np.ndarray)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("data", ["krippendorff_2011", "random"])
def test_closed_forms_equal_the_matrix_form(level, data):
    """The forms used with many values (no values x values matrix) against D_o = sum o_ck delta_ck / n and
    D_e = sum n_c n_k delta_ck / (n (n - 1)) over the dense coincidence matrix, to 1e-12: on Krippendorff's
    (2011) reliability data and on random ratings with missing values."""
    if data == "random":
        rng = np.random.default_rng(11)
        ratings = rng.integers(1, 8, size=(300, 6)).astype(float)
        ratings[rng.random(ratings.shape) < 0.3] = np.nan
    else:
        ratings = KRIPPENDORFF_2011
    counted = _count(ratings, None)
    dense = _coincidences(counted)
    matrix = _alpha_from_o(dense[None], level, counted.categories)
    closed = _alpha_many_values(counted, level, sparse.csr_matrix(dense))
    for a, b in zip(matrix, closed, strict=True):
        assert float(b[0]) == pytest.approx(float(a[0]), abs=1e-12, rel=1e-12)


def test_per_unit_disagreements_from_value_pairs_equal_the_matrix():
    """The bootstrap's per-unit share of n D_o for ratio and callable distances with many values comes from
    the pairs of values within each unit; with few values from the v x v distances: the same numbers."""
    counted = _count(KRIPPENDORFF_2011, None)
    x = counted.categories.astype(float)
    for level in ("ratio", lambda c, k: np.abs(c - k) ** 1.5):
        delta = (
            np.abs(x[:, None] - x[None, :]) ** 1.5
            if callable(level)
            else ((x[:, None] - x[None, :]) / (x[:, None] + x[None, :])) ** 2
        )
        by_pairs = _unit_disagreement(counted, level, x, None)
        by_matrix = _unit_disagreement(counted, level, x, delta)
        assert by_pairs == pytest.approx(by_matrix, abs=1e-12)


def test_a_million_distinct_continuous_values_fit_in_memory():
    """250,000 units x 4 raters of continuous ratings: 1,000,000 distinct values, so a values x values
    matrix would take 8 TB (and the krippendorff package's units x values x values array far more). Alpha
    stays within O(units x raters) memory, the coincidences sparse, and equals the population value: a
    unit's true value ~ N(0, 1) plus rater noise ~ N(0, 0.5^2) gives interval alpha 1 / 1.25 = 0.8."""
    rng = np.random.default_rng(12)
    ratings = rng.normal(size=(250_000, 1)) + 0.5 * rng.normal(size=(250_000, 4))
    assert len(np.unique(ratings)) == 1_000_000
    tracemalloc.start()
    try:
        r = krippendorff_alpha(ratings, "interval")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1e9
    assert r.coefficient == pytest.approx(0.8, abs=0.005)
    o = r.extra["coincidences"]
    assert sparse.issparse(o)
    assert o.shape == (1_000_000, 1_000_000)
    assert o.nnz <= 250_000 * 12
    assert o.sum() == pytest.approx(1_000_000)
    # interval alpha is unchanged by a change of unit and origin; ordinal alpha by any increasing transform
    assert krippendorff_alpha(3.0 * ratings + 7.0, "interval").coefficient == pytest.approx(r.coefficient, abs=1e-9)
    ordinal = krippendorff_alpha(ratings, "ordinal").coefficient
    assert krippendorff_alpha(np.exp(ratings), "ordinal").coefficient == pytest.approx(ordinal, abs=1e-12)
    assert 0.7 < ordinal < 0.85


def _alpha_at(level):
    def coefficient(ratings, **kw):
        return krippendorff_alpha(ratings, level, **kw)

    return coefficient


COEFFICIENTS_WITH_CI = [
    fleiss_kappa,
    gwet_ac1,
    lambda r, **kw: gwet_ac1(r, weights="quadratic", **kw),
    brennan_prediger,
    percent_agreement,
    *[_alpha_at(level) for level in ("nominal", "ordinal", "interval", "ratio", lambda c, k: np.abs(c - k))],
]


@pytest.mark.parametrize("coefficient", COEFFICIENTS_WITH_CI)
@pytest.mark.parametrize(("raters", "categories"), [(5, 5), (12, 7)])
def test_whole_number_ratings_counted_without_codes_give_what_coded_ratings_give(coefficient, raters, categories):
    """A float array of whole numbers is counted without coding: 5 raters x 5 categories by grouping the
    units by their multiset of ratings, 12 x 7 (13^7 possible multisets, too many) by one bincount per
    block of units. The same ratings as Python objects go through codes unit by unit. Coefficient, unit and
    rater counts and the seeded bootstrap interval agree."""
    rng = np.random.default_rng(13)
    truth = rng.integers(1, categories + 1, size=2000)
    noise = rng.integers(1, categories + 1, size=(2000, raters))
    ratings = np.where(rng.random((2000, raters)) < 0.6, truth[:, None], noise).astype(float)
    ratings[rng.random(ratings.shape) < 0.2] = np.nan
    objects = np.where(np.isnan(ratings), None, ratings.astype(object))
    assert (_count(ratings, None).unit_rows is not None) == (raters == 5)  # grouped by multiset
    assert _count(objects, None).unit_rows is None
    fast = coefficient(ratings, ci=0.9, n_boot=200, seed=3)
    slow = coefficient(objects, ci=0.9, n_boot=200, seed=3)
    assert fast.coefficient == pytest.approx(slow.coefficient, abs=1e-12)
    assert (fast.n_units, fast.n_raters) == (slow.n_units, slow.n_raters)
    assert fast.ci == pytest.approx(slow.ci, abs=1e-12)
    assert fast.ci[0] < fast.coefficient < fast.ci[1]


@pytest.mark.parametrize("level", ["ordinal", "interval", "ratio", lambda c, k: np.abs(c - k)])
def test_bootstrap_with_many_values_is_seeded_and_covers_the_estimate(level):
    """(Not nominal: with every value distinct its alpha is 0 and a resample's repeated units are its only
    agreement, so the interval sits beside the estimate; that is the data, not the code.)"""
    ratings = _continuous(700, 4, seed=14)
    first = krippendorff_alpha(ratings, level, ci=0.95, n_boot=200, seed=1)
    assert sparse.issparse(first.extra["coincidences"])
    assert krippendorff_alpha(ratings, level, ci=0.95, n_boot=200, seed=1).ci == first.ci
    assert krippendorff_alpha(ratings, level, ci=0.95, n_boot=200, seed=2).ci != first.ci
    lo, hi = first.ci
    assert lo < first.coefficient < hi
    assert hi - lo < 0.2


def test_ordinal_bootstrap_equals_resampling_units_one_by_one():
    """The ordinal bootstrap recomputes mid-ranks per resample from sums; resampling the units explicitly
    with the same draws and computing alpha each time gives the same interval."""
    n_boot, seed = 60, 5
    ratings = KRIPPENDORFF_2011[(~np.isnan(KRIPPENDORFF_2011)).sum(axis=1) >= 2]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(ratings), size=(n_boot, len(ratings)))
    reps = np.array([krippendorff_alpha(ratings[i], "ordinal").coefficient for i in idx])
    reps = reps[np.isfinite(reps)]
    expected = tuple(np.quantile(reps, [0.05, 0.95]))
    got = krippendorff_alpha(ratings, "ordinal", ci=0.9, n_boot=n_boot, seed=seed).ci
    assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("coefficient", COEFFICIENTS_WITH_CI)
def test_sparse_counts_and_coincidences_give_what_dense_ones_give(coefficient, monkeypatch):
    """Past 8 M units x categories cells the counts are kept sparse, past 2,048 values the coincidences
    too (with closed forms and per-unit value pairs instead of the dense matrix). With both thresholds set
    to 0 every path is sparse: coefficients and seeded intervals equal the dense ones."""
    rng = np.random.default_rng(15)
    truth = rng.integers(1, 7, size=400)
    ratings = np.where(rng.random((400, 4)) < 0.6, truth[:, None], rng.integers(1, 7, size=(400, 4))).astype(object)
    ratings[rng.random(ratings.shape) < 0.2] = None
    dense = coefficient(ratings, ci=0.9, n_boot=100, seed=4)
    monkeypatch.setattr(reliability, "_DENSE_CELLS", 0)
    monkeypatch.setattr(reliability, "_DENSE_VALUES", 0)
    assert sparse.issparse(_count(ratings, None).rows)
    thin = coefficient(ratings, ci=0.9, n_boot=100, seed=4)
    assert thin.coefficient == pytest.approx(dense.coefficient, abs=1e-12)
    assert thin.ci == pytest.approx(dense.ci, abs=1e-12)
    # (ordinal disagreements are in squared ranks, so compared relative)
    assert (thin.observed, thin.expected) == pytest.approx((dense.observed, dense.expected), rel=1e-12, abs=1e-12)
