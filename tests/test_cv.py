"""The pupil-weighted 差异系数: worked example E1 and invariants (STANDARD.md §3, §9)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balance_metrics import pupil_weighted_cv

E1_STUDENTS = [45, 37, 89, 76, 55]
E1_BOOKS = [279, 137, 935, 160, 402]
E1_VALUES = [b / p for b, p in zip(E1_BOOKS, E1_STUDENTS)]


def test_e1_pupil_weighted_cv():
    cv = pupil_weighted_cv(E1_VALUES, E1_STUDENTS)
    assert cv == pytest.approx(0.51526, abs=1e-5)
    # The two wrong answers circulating in the wild.
    assert abs(cv - 0.48877) > 1e-3
    assert abs(cv - 0.54646) > 1e-3


def test_e1_wrong_formulas_really_give_the_wrong_numbers():
    values = np.array(E1_VALUES)
    assert values.std(ddof=0) / values.mean() == pytest.approx(0.48877, abs=1e-5)
    assert values.std(ddof=1) / values.mean() == pytest.approx(0.54646, abs=1e-5)


def test_e1_district_value_is_ratio_of_totals():
    mean = np.dot(E1_STUDENTS, E1_VALUES) / sum(E1_STUDENTS)
    assert mean == pytest.approx(1913 / 302)
    assert mean * pupil_weighted_cv(E1_VALUES, E1_STUDENTS) == pytest.approx(3.26386, abs=1e-5)


@pytest.mark.parametrize(
    "values, weights, message",
    [([], [], "empty"), ([1.0, 2.0], [1.0], "equal length"), ([1.0], [-1.0], "negative"),
     ([1.0, 2.0], [0.0, 0.0], "zero"), ([math.nan], [1.0], "finite")],
)
def test_bad_input_raises(values, weights, message):
    with pytest.raises(ValueError, match=message):
        pupil_weighted_cv(values, weights)


def test_zero_mean_gives_nan():
    assert math.isnan(pupil_weighted_cv([0.0, 0.0], [10, 20]))


values_st = st.floats(min_value=0.01, max_value=1e4, allow_nan=False)
weights_st = st.integers(min_value=1, max_value=3000)
sections_st = st.lists(st.tuples(values_st, weights_st), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(sections_st, st.floats(min_value=1e-3, max_value=1e3))
def test_scaling_values_leaves_cv_unchanged(sections, factor):
    values, weights = zip(*sections)
    scaled = [v * factor for v in values]
    assert pupil_weighted_cv(scaled, weights) == pytest.approx(pupil_weighted_cv(values, weights), rel=1e-9, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(sections_st, st.data())
def test_splitting_a_section_leaves_cv_unchanged(sections, data):
    values, weights = map(list, zip(*sections))
    i = data.draw(st.integers(0, len(values) - 1))
    part = data.draw(st.integers(0, weights[i]))
    split_values = values + [values[i]]
    split_weights = weights[:i] + [weights[i] - part] + weights[i + 1:] + [part]
    assert pupil_weighted_cv(split_values, split_weights) == pytest.approx(
        pupil_weighted_cv(values, weights), rel=1e-9, abs=1e-12
    )


@settings(max_examples=100, deadline=None)
@given(values_st, st.lists(weights_st, min_size=1, max_size=30))
def test_equal_values_give_zero(value, weights):
    assert pupil_weighted_cv([value] * len(weights), weights) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(sections_st, st.randoms(use_true_random=False))
def test_row_order_does_not_matter(sections, rnd):
    shuffled = list(sections)
    rnd.shuffle(shuffled)
    a = pupil_weighted_cv(*zip(*sections))
    b = pupil_weighted_cv(*zip(*shuffled))
    assert a == pytest.approx(b, rel=1e-12, abs=1e-12)
