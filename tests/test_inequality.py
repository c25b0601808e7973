"""The equity battery (analysis/inequality): PySAL agreement, hand-computed
weighted cases, and "a school counted twice equals one school with double weight"."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from balance_metrics import evaluate_resources, load_period
from balance_metrics.analysis.inequality import (
    federal_range_ratio,
    gini,
    mcloone,
    range_,
    restricted_range,
    theil_decomposition,
    theil_t,
    verstegen,
    weighted_percentile,
)
from balance_metrics.analysis.inequality.battery import equity

inequality = pytest.importorskip("inequality")  # PySAL, test-only dependency
from inequality.gini import Gini  # noqa: E402
from inequality.theil import Theil, TheilD  # noqa: E402

values_st = st.lists(st.floats(min_value=0.5, max_value=1000, allow_nan=False), min_size=2, max_size=12)


# -- unweighted: PySAL ------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(values_st)
def test_unweighted_gini_and_theil_match_pysal(xs):
    x = np.array(xs)
    assert gini(x) == pytest.approx(Gini(x).g, rel=1e-9, abs=1e-12)
    assert theil_t(x) == pytest.approx(Theil(x).T, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(values_st, st.data())
def test_unweighted_theil_decomposition_matches_pysal(xs, data):
    x = np.array(xs)
    groups = np.array(data.draw(st.lists(st.sampled_from(["urban", "town", "rural"]), min_size=len(xs), max_size=len(xs))))
    ours = theil_decomposition(x, groups)
    codes = np.unique(groups, return_inverse=True)[1]
    theirs = TheilD(x, codes)
    assert ours.between == pytest.approx(float(np.ravel(theirs.bg)[0]), rel=1e-9, abs=1e-12)
    assert ours.within == pytest.approx(float(np.ravel(theirs.wg)[0]), rel=1e-9, abs=1e-12)
    assert ours.between + ours.within == pytest.approx(ours.total, rel=1e-12, abs=1e-12)


# -- weighted: hand-computed --------------------------------------------------------

def test_weighted_measures_by_hand():
    # 3 sections: values 1, 2, 4 with 10, 20, 10 pupils -> pupils 1×10, 2×20, 4×10.
    x, p = [1.0, 2.0, 4.0], [10, 20, 10]
    assert range_(x, p) == 3.0
    # P5 = 1 (10/40 ≥ 5 %), P95 = 4, median = 2 (30/40 ≥ 50 % at 2).
    assert restricted_range(x, p) == 3.0
    assert federal_range_ratio(x, p) == 3.0
    # McLoone: pupils at or below 2: (10·1 + 20·2) / (2 · 30) = 50/60.
    assert mcloone(x, p) == pytest.approx(50 / 60)
    # Verstegen: pupils at or above 2: (20·2 + 10·4) / (2 · 30) = 80/60.
    assert verstegen(x, p) == pytest.approx(80 / 60)
    # Gini: mean 90/40 = 2.25; Σ PiPj|Xi−Xj| = 2(10·20·1 + 10·10·3 + 20·10·2) = 1800.
    assert gini(x, p) == pytest.approx(1800 / (2 * 40**2 * 2.25))
    # Theil T: Σ (Pi/P)(Xi/μ) ln(Xi/μ).
    mu = 2.25
    expected = sum(pi / 40 * (xi / mu) * math.log(xi / mu) for xi, pi in zip(x, p))
    assert theil_t(x, p) == pytest.approx(expected)


def test_weighted_theil_decomposition_by_hand():
    x, p, g = [1.0, 3.0, 2.0, 2.0], [1, 1, 2, 2], ["a", "a", "b", "b"]
    d = theil_decomposition(x, g, p)
    # Both groups have mean 2 = the overall mean: between is 0, all of T is within a.
    assert d.between == pytest.approx(0.0, abs=1e-15)
    share_a = 4 / 12
    assert d.within == pytest.approx(share_a * theil_t([1.0, 3.0]))
    assert d.total == pytest.approx(theil_t(x, p))


def test_equal_values_are_perfectly_equal():
    x, p = [3.0, 3.0, 3.0], [5, 50, 500]
    assert (range_(x, p), gini(x, p), theil_t(x, p)) == (0.0, 0.0, 0.0)
    assert (mcloone(x, p), verstegen(x, p), federal_range_ratio(x, p)) == (1.0, 1.0, 0.0)


@settings(max_examples=80, deadline=None)
@given(values_st, st.data())
def test_a_school_counted_twice_equals_one_with_double_weight(xs, data):
    n = len(xs)
    p = np.array(data.draw(st.lists(st.integers(1, 3000), min_size=n, max_size=n)), dtype=float)
    x = np.array(xs)
    k = data.draw(st.integers(0, n - 1))
    twice_x, twice_p = np.append(x, x[k]), np.append(p, p[k])
    double_p = p.copy()
    double_p[k] *= 2
    groups = np.array(["a", "b"] * n)[:n]
    twice_groups = np.append(groups, groups[k])
    for measure in (range_, restricted_range, federal_range_ratio, mcloone, verstegen, gini, theil_t):
        assert measure(twice_x, twice_p) == pytest.approx(measure(x, double_p), rel=1e-9, abs=1e-12), measure.__name__
    a, b = theil_decomposition(twice_x, twice_groups, twice_p), theil_decomposition(x, groups, double_p)
    assert (a.between, a.within) == pytest.approx((b.between, b.within), rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(values_st, st.data())
def test_gini_equals_the_pairwise_definition(xs, data):
    p = np.array(data.draw(st.lists(st.integers(0, 500), min_size=len(xs), max_size=len(xs))), dtype=float)
    if p.sum() == 0:
        p[0] = 1
    x = np.array(xs)
    pairwise = (np.outer(p, p) * np.abs(x[:, None] - x[None, :])).sum() / (2 * p.sum() ** 2 * np.dot(p, x) / p.sum())
    assert gini(x, p) == pytest.approx(pairwise, rel=1e-9, abs=1e-12)


def test_percentile_is_inverted_cdf_of_pupils():
    x, p = [5.0, 1.0, 3.0], [3, 27, 70]
    pupils = np.repeat(x, np.array(p))
    for q in (0.05, 0.27, 0.28, 0.5, 0.95):
        assert weighted_percentile(x, p, q) == np.quantile(pupils, q, method="inverted_cdf")


# -- the battery on the sample --------------------------------------------------------

def test_battery_on_the_sample():
    res = evaluate_resources(load_period(SAMPLE / "2022Q4"), "beichen-2021")
    table = equity(res)
    assert len(table) == 14
    assert list(table[["stage", "indicator"]].iloc[0]) == ["primary", "R1"]
    balance = res.balance.set_index(["stage", "indicator"])
    for row in table.to_dict("records"):
        # The CV column is the evaluation's 差异系数, the mean its district value.
        assert row["cv"] == pytest.approx(balance.at[(row["stage"], row["indicator"]), "cv"])
        assert row["mean"] == pytest.approx(balance.at[(row["stage"], row["indicator"]), "district_value"])
        assert row["theil_between"] + row["theil_within"] == pytest.approx(row["theil_t"])
        assert 0 <= row["mcloone"] <= 1 <= row["verstegen"]
    flat = equity(res, weighted=False, by="school_type")
    r2 = res.sections.query("stage == 'primary' and indicator == 'R2'")
    assert flat.iloc[1]["gini"] == pytest.approx(Gini(r2["value"].to_numpy()).g)
    with pytest.raises(ValueError, match="cannot group by 'nope'"):
        equity(res, by="nope")
