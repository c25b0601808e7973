"""The fast paths of the item tables agree with their plain versions: codes from
runs of equal texts == pandas.factorize, one text taken n times == the text
repeated, Ratios.mapped == a dict lookup of Fractions, check_frame with one text
for all == with that text per row, and the item summary is the same whether each
item's checks come as one block (the fast path) or interleaved (the fallback)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from balance_metrics import load_period
from balance_metrics.evaluation.checks import FAIL, PASS, check_frame, coded_texts, repeat_text
from balance_metrics.evaluation.evaluate import build_context, evidence_references
from balance_metrics.evaluation.item_checks import STATUSES, few_codes, run_codes, status_codes
from balance_metrics.evaluation.item_texts import value_text, value_texts
from balance_metrics.evaluation.items import _stacked, item_specs, run_items_whole, summarise_items, with_later_notes
from balance_metrics.evaluation.ratios import Ratios
from balance_metrics.standard.loader import load_standard

texts = st.sampled_from(["", "a", "b", "学校1", "S0000001"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(texts, st.integers(1, 4)), max_size=30))
def test_run_codes_are_factorize_codes(runs):
    values = np.array([v for v, k in runs for _ in range(k)], dtype=object)
    codes, k = run_codes(values)
    want, uniques = pd.factorize(values)
    assert codes.tolist() == want.tolist() and k == len(uniques)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["pass", "fail", "", "a", "b", "c", "d", "e", "f"]), max_size=30), st.integers(1, 8))
def test_few_codes_are_factorize_codes(values, limit):
    values = np.array(values, dtype=object)
    codes, k = few_codes(values, limit)
    want, uniques = pd.factorize(values)
    assert codes.tolist() == want.tolist() and k == len(uniques)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=20))
def test_taken_texts_are_the_texts(codes):
    choices = ["pass", "fail", "", "未达标"]
    plain = pd.Series(np.array([choices[c] for c in codes], dtype=object))
    fast = pd.Series(coded_texts(np.array(codes, dtype=np.int64), choices))
    pd.testing.assert_series_equal(fast, plain)
    pd.testing.assert_series_equal(pd.Series(repeat_text("项", len(codes))), pd.Series(np.full(len(codes), "项", dtype=object)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["primary", "junior", "nine_year", "other"]), st.none(), st.just(math.nan)), max_size=20),
       st.sampled_from([1, 10**30]))
def test_mapped_is_a_lookup_of_each_key(keys, scale):
    mapping = {"primary": Fraction(45, 1) * scale, "junior": Fraction(1, 3), "nine_year": Fraction(-7, 2)}
    got = Ratios.mapped(np.array(keys, dtype=object), mapping)
    for k, key in enumerate(keys):
        want = mapping.get(key) if isinstance(key, str) else None
        assert bool(got.missing[k]) == (want is None)
        if want is not None:
            assert Fraction(int(got.num[k]), int(got.den[k])) == want


def test_check_frame_one_text_for_all_is_that_text_per_row():
    n = 5
    measured = Ratios.of(np.array([1.0, 2.0, math.nan, 4.0, 5.0]))
    texts = {k: np.full(n, v, dtype=object) for k, v in
             {"school_id": "S1", "school_name": "学校", "stage": "primary", "target": "", "note": "说明"}.items()}
    one = check_frame("X1", "part", "名称", np.zeros(n, dtype=np.int64), measured, Fraction(3), ">=", "人",
                      school_id="S1", school_name="学校", stage="primary", target="", note="说明")
    per_row = check_frame("X1", np.full(n, "part", dtype=object), np.full(n, "名称", dtype=object), np.zeros(n, dtype=object),
                          measured, Fraction(3), ">=", np.full(n, "人", dtype=object), **texts)
    per_row["district_id"] = per_row["district_id"].astype(np.int64)
    pd.testing.assert_frame_equal(one, per_row)
    str_columns = {k: pd.Series(v).array if k in ("school_id", "note") else pd.Series(v) for k, v in texts.items()}
    typed = check_frame("X1", "part", "名称", np.zeros(n, dtype=np.int64), measured, Fraction(3), ">=", "人", **str_columns)
    pd.testing.assert_frame_equal(typed, one)
    assert one["status"].tolist() == [FAIL, FAIL, "evidence missing", PASS, PASS]
    given = check_frame("X1", "part", "名称", np.zeros(n, dtype=np.int64), measured, Fraction(3), ">=", "人",
                        status=np.array(["", None, "not applicable", math.nan, "fail"], dtype=object))
    assert given["status"].tolist() == [FAIL, FAIL, "not applicable", PASS, FAIL]
    assert given["shortfall"].tolist()[:2] == [2.0, 1.0] and math.isnan(given["shortfall"][2]) and given["shortfall"][4] == 0.0


@pytest.fixture(scope="module")
def sample_whole():
    std = load_standard("beichen-2021")
    dataset = load_period(SAMPLE / "2022Q4")
    ctx = build_context(dataset, std, ids=np.array([""], dtype=object))
    specs = item_specs(std)
    checks, where, later = run_items_whole(ctx, specs)
    return std, specs, with_later_notes(checks, later, ctx.resources), where, evidence_references(dataset)


def test_summary_of_interleaved_items_equals_that_of_blocks(sample_whole):
    std, specs, checks, where, references = sample_whole
    ids = np.array([""], dtype=object)
    blocks = summarise_items(std, specs, checks, references, ids, where)
    # every item's rows in their own order, the items dealt out in turn (no item one block)
    item = checks["item_id"].to_numpy(object)
    rank = pd.Series(np.arange(len(checks))).groupby(item).cumcount().to_numpy()
    order = np.lexsort((pd.factorize(item)[0], rank))
    shuffled = checks.iloc[order].reset_index(drop=True)
    assert not (shuffled["item_id"].to_numpy(object)[1:] != shuffled["item_id"].to_numpy(object)[:-1]).sum() < len(specs)
    pd.testing.assert_frame_equal(summarise_items(std, specs, shuffled, references, ids, where[order]), blocks)
    pd.testing.assert_frame_equal(summarise_items(std, specs, shuffled, references, ids), blocks)


def test_value_texts_of_repeated_values_are_each_rows_text(sample_whole):
    checks = sample_whole[2]
    repeated = pd.concat([checks] * 5, ignore_index=True)  # every value 5 times: the distinct-combination path
    repeated.loc[::7, "measured"] = np.nan
    assert value_texts(repeated).tolist() == [value_text(r) for _, r in repeated.iterrows()]
    assert value_texts(checks.iloc[:0]).tolist() == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["pass", "fail", "", "a"]), st.text(max_size=3), st.none()), min_size=1, max_size=12),
       st.integers(1, 400), st.integers(0, 2**32 - 1), st.integers(1, 8))
def test_few_codes_of_long_columns_are_factorize_codes(choices, repeat, seed, limit):
    """Long columns (past the sample that tells many texts at a glance), few or many texts."""
    rng = np.random.default_rng(seed)
    values = np.array(choices, dtype=object)[rng.integers(0, len(choices), len(choices) * repeat + 1025)]
    codes, k = few_codes(values, limit)
    want, uniques = pd.factorize(values)
    assert codes.tolist() == want.tolist() and k == len(uniques)
    codes, k = run_codes(np.sort(values.astype(str)).astype(object))
    want, uniques = pd.factorize(np.sort(values.astype(str)).astype(object))
    assert codes.tolist() == want.tolist() and k == len(uniques)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-2**60, 2**60), st.integers(0, 2**60), st.booleans()), max_size=20))
def test_floats_are_each_fraction_rounded(rows):
    """Ratios.floats: int64 parts (exact below 2**53: one division in place) or not, the
    missing rows NaN whatever they hold (a zero denominator included)."""
    num = np.array([n for n, _, _ in rows], dtype=np.int64)
    den = np.array([d for _, d, _ in rows], dtype=np.int64)
    missing = np.array([m or d == 0 for _, d, m in rows], dtype=bool)
    for scale in (1, 2**-20):  # also small enough for the int64 fast path
        small = (num * scale).astype(np.int64) if scale != 1 else num
        small_den = np.where(missing, den, np.maximum((den * scale).astype(np.int64), 1))
        want = [math.nan if m else float(Fraction(int(n), int(d))) for n, d, m in zip(small, small_den, missing)]
        got = Ratios(small, small_den, missing).floats()
        assert [g if not math.isnan(g) else "nan" for g in got.tolist()] == [w if not math.isnan(w) else "nan" for w in want]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["pass", "fail", "evidence missing", "data missing", "not applicable", "", "其他"]),
                          st.none(), st.just(math.nan)), max_size=40))
def test_status_codes_are_the_known_status_positions(values):
    status = np.array(values, dtype=object)
    plain = [STATUSES.index(v) if isinstance(v, str) and v in STATUSES else len(STATUSES) for v in values]
    codes = status_codes(status)
    assert codes.dtype == np.int8 and codes.tolist() == plain


def test_evidence_references_from_the_context_are_those_written_afresh():
    # evaluate reuses the document texts its evidence rules wrote
    std = load_standard("beichen-2021")
    dataset = load_period(SAMPLE / "2022Q4")
    ctx = build_context(dataset, std, ids=np.array([""], dtype=object))
    run_items_whole(ctx, item_specs(std))
    reused, fresh = evidence_references(dataset, ctx), evidence_references(dataset)
    assert len(fresh) > 5
    pd.testing.assert_series_equal(reused, fresh)
    assert evidence_references(dataset, build_context(dataset, std, ids=np.array([""], dtype=object))).equals(fresh)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["str", "float64", "object", "int64"]), st.lists(st.integers(0, 3), max_size=5)),
                min_size=1, max_size=5))
def test_stacked_columns_equal_pd_concat(pieces):
    def series(kind: str, values: list[int]) -> pd.Series:
        if kind in ("str", "object"):
            return pd.Series([f"学校{v}" for v in values], dtype=kind)
        return pd.Series(values, dtype=kind)

    parts = [series(kind, values) for kind, values in pieces]
    expected = pd.concat(parts, ignore_index=True)
    got = pd.DataFrame({"x": _stacked(parts)})["x"]  # as run_items_whole uses it
    pd.testing.assert_series_equal(got, expected, check_names=False)
