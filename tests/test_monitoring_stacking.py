"""The panel's long indicator table built from wide pieces (:mod:`.stacking`) is the
table the plain path gives: each period's ``ResourceEvaluation.sections`` with its
period, stacked with :func:`stack` (values, dtypes, order, index)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st
from test_districts import two_districts

from balance_metrics import evaluate_resources, load_period
from balance_metrics.analysis.monitoring.pieces import with_period
from balance_metrics.analysis.monitoring.stacking import INDICATOR_COLUMNS, LongStack, WideIndicators, stack


def plain(resources, period: str) -> pd.DataFrame:
    return with_period(resources.sections, period, INDICATOR_COLUMNS)


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory):
    """The sample period (one district) and a two-district period, evaluated."""
    province, _ = two_districts(tmp_path_factory.mktemp("stacking"), "2022Q4")
    one = evaluate_resources(load_period(SAMPLE / "2022Q4"), "beichen-2021")
    many = evaluate_resources(load_period(province), "national-2017")
    return one, many


def test_wide_piece_gives_the_periods_long_table(evaluations):
    for resources in evaluations:
        wide = WideIndicators.of(resources, "2022Q4")
        pd.testing.assert_frame_equal(wide.long(), plain(resources, "2022Q4"), check_exact=True)


@pytest.mark.parametrize("expected", [1, 3, 4, 9])
def test_long_stack_equals_stacking_the_long_tables(evaluations, expected):
    """Periods of different sizes, more or fewer than announced (the columns grow,
    or are cut to size), an empty period, and a long table among wide pieces."""
    _, many = evaluations
    parts = [(many.select("120113"), "2021Q4"), (many, "2022Q1"), (many.select("120114"), "2022Q2")]
    out = LongStack(expected)
    for resources, period in parts:
        out.add(WideIndicators.of(resources, period))
    out.add(plain(many, "2022Q3").iloc[:0])
    out.add(plain(many.select("120113"), "2022Q4"))
    want = stack([plain(r, p) for r, p in parts] + [plain(many.select("120113"), "2022Q4")], INDICATOR_COLUMNS)
    pd.testing.assert_frame_equal(out.frame(), want, check_exact=True)


def test_periods_with_other_columns_are_stacked_like_the_plain_path(evaluations):
    """A one-district period after a many-district one: no shared columns buffer, pd.concat as before."""
    one, many = evaluations
    out = LongStack(2)
    out.add(WideIndicators.of(many, "2022Q1"))
    out.add(WideIndicators.of(one, "2022Q2"))
    want = stack([plain(many, "2022Q1"), plain(one, "2022Q2")], INDICATOR_COLUMNS)
    pd.testing.assert_frame_equal(out.frame(), want, check_exact=True)


def test_no_rows_gives_the_empty_table():
    out = LongStack(2)
    pd.testing.assert_frame_equal(out.frame(), stack([], INDICATOR_COLUMNS))


@st.composite
def wide_pieces(draw):
    """Synthetic wide pieces: k indicators, n sections each (n may equal k or be 1), text with gaps."""
    k = draw(st.integers(1, 4))
    texts = st.one_of(st.sampled_from(["a", "b", "学校"]), st.just(np.nan))
    pieces = []
    for p in range(draw(st.integers(1, 4))):
        n = draw(st.integers(0, 6))
        school = pd.array(np.array(draw(st.lists(texts, min_size=n, max_size=n)), dtype=object), dtype="str")
        sections = {"school_id": school, "students": np.arange(n, dtype=np.int64) * 7, "share": np.linspace(0, 1, n)}
        labels = {"indicator": [f"R{j}" for j in range(k)], "name": [f"n{j}" for j in range(k)], "unit": ["u"] * k}
        fields = {"value": np.arange(n * k, dtype=float).reshape(k, n) / 3, "met": np.arange(n * k).reshape(k, n) % 2 == 0}
        pieces.append(WideIndicators(f"2022Q{p + 1}", sections, labels, fields))
    return pieces, draw(st.integers(1, 6))


def long_by_pandas(piece: WideIndicators) -> pd.DataFrame:
    """The long table the slow way: row i × k + j is section i, indicator j."""
    k, n = len(piece.labels["indicator"]), len(piece.sections["students"])
    section, indicator = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
    columns = {"period": pd.array(np.array([piece.period] * (n * k), dtype=object), dtype="str")}
    for name, values in piece.sections.items():
        columns[name] = pd.Series(values).iloc[section].reset_index(drop=True).array
    for name, texts in piece.labels.items():
        columns[name] = pd.array(np.array(texts, dtype=object)[indicator], dtype="str")
    for name, values in piece.fields.items():
        columns[name] = values[indicator, section]
    frame = pd.DataFrame(columns)
    return frame[[c for c in INDICATOR_COLUMNS if c in frame.columns]]


@settings(max_examples=60, deadline=None)
@given(wide_pieces())
def test_long_stack_equals_the_pandas_way(drawn):
    pieces, expected = drawn
    out = LongStack(expected)
    for piece in pieces:
        out.add(piece)
    pd.testing.assert_frame_equal(out.frame(), stack([long_by_pandas(p) for p in pieces], INDICATOR_COLUMNS),
                                  check_exact=True)
