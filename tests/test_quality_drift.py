"""lb.metrics.drift between two sets of metric values: no drift between two draws of one distribution, a
clear one when a set is darker, with KS and Wasserstein equal to scipy's and PSI to its formula."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import labnb as lb
from labnb.metrics.quality.drift import psi


def _sets(shift: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    a = pd.DataFrame({"asset": range(500), "brightness": rng.normal(0.5, 0.1, 500), "entropy": rng.normal(7, 0.3, 500)})
    b = pd.DataFrame({"asset": range(400), "brightness": rng.normal(0.5 - shift, 0.1, 400),
                      "entropy": rng.normal(7, 0.3, 400)})  # fmt: skip
    return a, b


def test_a_darker_set_drifts_in_brightness_only() -> None:
    a, b = _sets(0.15)
    d = lb.metrics.drift(a, b)
    assert list(d.index) == ["brightness", "entropy"]  # the id column is left out
    assert d.loc["brightness", "ks_p"] < 1e-10
    assert d.loc["entropy", "ks_p"] > 0.01
    assert d.loc["brightness", "psi"] > 0.25 > d.loc["entropy", "psi"]
    assert d.loc["brightness", "ks"] == pytest.approx(stats.ks_2samp(a.brightness, b.brightness).statistic)
    assert d.loc["brightness", "wasserstein"] == pytest.approx(stats.wasserstein_distance(a.brightness, b.brightness))
    assert d.loc["brightness", "wasserstein"] == pytest.approx(0.15, abs=0.03)
    assert (d.n_a == 500).all()


def test_psi_is_its_formula_and_zero_for_the_same_sample() -> None:
    a, b = _sets(0.05)
    x, y = a.brightness.to_numpy(), b.brightness.to_numpy()
    edges = np.quantile(x, np.linspace(0, 1, 11))
    p = np.histogram(np.clip(x, edges[0], edges[-1]), edges)[0] / len(x)
    q = np.histogram(np.clip(y, edges[0], edges[-1]), edges)[0] / len(y)
    p, q = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    assert psi(x, y) == pytest.approx(float(np.sum((q - p) * np.log(q / p))), rel=0.05)
    assert psi(x, x) == pytest.approx(0.0, abs=1e-12)


def test_bad_input_names_the_metric() -> None:
    a, b = _sets(0.0)
    with pytest.raises(lb.LabnbError, match="'sharpness' is not a column of both"):
        lb.metrics.drift(a, b, ["sharpness"])
    with pytest.raises(lb.LabnbError, match="two or more"):
        lb.metrics.drift(a.head(1), b, ["brightness"])
