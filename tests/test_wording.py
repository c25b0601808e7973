"""Whole-column wording (evaluation.wording) writes exactly what the one-value
definitions write: fmt_values == fmt, join_groups == join_by_group; the 问题清单
is the same whether the check table's text columns are str or categorical."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from balance_metrics import evaluate, load_period
from balance_metrics.common.grouped import join_by_group, join_rows_by_group
from balance_metrics.evaluation.checks import fmt
from balance_metrics.evaluation.issue_list import describe, describe_many, issue_list
from balance_metrics.evaluation.wording import codes_of, dense, fmt_values, join_groups

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**6, 10**7).map(lambda n: n / 1000),
    st.sampled_from([0.0, -0.0, -0.0001, -0.04, 0.5, 2.5, 1.005, 3.825, 95.0, 1e20, math.inf, -math.inf, math.nan]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(values, min_size=1, max_size=30),
       st.sampled_from(["", "%", "人", "元", "元/生·年", "m²", "人/百生", "间", "万元", "m²/生"]),
       st.sampled_from([None, 0, 1, 3]), st.sampled_from(["", "R5名称"]))
def test_fmt_values_is_fmt_of_each_value(numbers, unit, digits, prefix):
    assert fmt_values(numbers, unit, digits, prefix).tolist() == [prefix + fmt(v, unit, digits) for v in numbers]


def test_signs_of_zero_and_infinity_as_fmt_writes_them():
    assert fmt_values([-0.0001, -0.0002, -0.0003, -math.inf, 2400.0], "元").tolist() == ["0元", "0元", "0元", "inf元", "2,400元"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=30))
def test_join_groups_is_join_by_group(codes):
    codes = np.array(codes, dtype=np.int64)
    texts = np.array([f"t{i}" if i % 5 else f"t\x00{i}" for i in range(len(codes))], dtype=object)  # some hold the group end
    plain = ["；".join(t for c, t in zip(codes.tolist(), texts) if c == g) for g in range(8)]  # group by group
    assert join_groups(codes, texts, 8).tolist() == plain
    assert join_by_group(codes, texts, 8, sep="；").tolist() == plain
    ordered = np.sort(codes)  # the sorted path (no argsort)
    assert join_by_group(ordered, texts, 8, sep="、").tolist() == ["、".join(t for c, t in zip(ordered.tolist(), texts) if c == g) for g in range(8)]


def test_codes_of_categorical_drops_unused_categories():
    codes, uniques = codes_of(pd.Series(pd.Categorical(["b", "a", "b"], categories=["z", "a", "b"])))
    assert codes.tolist() == [1, 0, 1] and uniques.tolist() == ["a", "b"]


def test_issue_list_same_with_categorical_check_columns():
    result = evaluate(load_period(SAMPLE / "2022Q4"), "beichen-2021")
    checks = result.checks.assign(district_id="")
    items = result.items.assign(district_id="")
    targets = result.plan_targets.assign(district_id="")
    plan_checks = result.plan_checks.assign(district_id="")
    plain = issue_list(items, checks, targets, plan_checks)
    texts = [c for c in checks.columns if checks[c].dtype.kind not in "fiub"]
    categorical = checks.astype({c: "category" for c in texts})
    pd.testing.assert_frame_equal(issue_list(items, categorical, targets, plan_checks), plain)
    assert describe_many(categorical).tolist() == [describe(r) for _, r in checks.iterrows()]
    assert len(plain) == len(result.issue_list) > 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["", "a", "学校", "b\x00"]), st.sampled_from(["1", "", "二"])), max_size=20))
def test_join_rows_by_group_joins_each_rows_concatenation(rows):
    codes = np.array([c for c, _, _ in rows], dtype=np.int64)
    first = np.array([a for _, a, _ in rows], dtype=object)
    second = np.array([b for _, _, b in rows], dtype=object)
    plain = ["；".join(f"{a}（{b}）" for c, a, b in rows if c == g) for g in range(6)]
    assert join_rows_by_group(codes, [first, "（", second, "）"], 6, "；").tolist() == plain
    # a text first (taken as it is, never a column of copies), the fallback path included (b\x00)
    assert join_rows_by_group(codes, ["【", first, "】"], 6, "、").tolist() == ["、".join(f"【{a}】" for c, a, _ in rows if c == g) for g in range(6)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=40),
       st.sampled_from([3, 2**21, 2**40]))
def test_dense_numbers_each_combination_in_order_of_first_appearance(rows, size):
    # sizes up to 2**40 per column: the mixed-radix key of three columns overflows int64
    # unless it is renumbered on the way
    columns = [np.array([r[j] for r in rows], dtype=np.int64) for j in range(3)]
    codes, k = dense(*((c, size) for c in columns))
    seen: dict[tuple[int, ...], int] = {}
    expected = [seen.setdefault(tuple(int(c[i]) for c in columns), len(seen)) for i in range(len(rows))]
    assert codes.tolist() == expected
    assert k == len(seen)
