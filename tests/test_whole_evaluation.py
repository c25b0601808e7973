"""The whole-column evaluation: exact rationals, column formatting and the check
builder agree with the one-value-at-a-time definitions (Fraction, fmt, check_row,
describe); one call over many districts gives each district its own tables."""

from __future__ import annotations

import math
from pathlib import Path
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from balance_metrics import evaluate, load_period
from balance_metrics.evaluation.checks import FAIL, MISSING, PASS, check_frame, check_row, fmt, fmt_many, requirement_text, requirement_texts
from balance_metrics.evaluation.issue_list import describe, describe_many
from balance_metrics.evaluation.item_texts import value_text, value_texts
from balance_metrics.evaluation.ratios import Ratios
from balance_metrics.standard.loader import exact

# Decimals as bureaus write them (0–3 places), with planted values on and next to
# the requirement 95 (percent) so that boundaries are hit.
decimals = st.one_of(
    st.integers(0, 10**7).map(lambda n: n / 10),
    st.integers(0, 10**6).map(lambda n: n / 1000),
    st.sampled_from([0.0, 95.0, 94.999, 95.001, 0.1, 0.3, 4.5, 3.825]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(decimals, decimals, decimals), min_size=1, max_size=20), st.sampled_from([">=", "<=", "<", ">"]))
def test_ratios_agree_with_fraction_arithmetic(rows, comparison):
    a, b, c = (list(column) for column in zip(*rows))
    share = Ratios.of(a) * 100 / Ratios.of(b)  # e.g. training ÷ public funds × 100
    expected = [exact(x) * 100 / exact(y) if y else None for x, y in zip(a, b)]
    assert share.missing.tolist() == [e is None for e in expected]
    assert [f for f, e in zip(share.floats(), expected) if e is not None] == [float(e) for e in expected if e is not None]
    ops = {">=": Fraction.__ge__, "<=": Fraction.__le__, "<": Fraction.__lt__, ">": Fraction.__gt__}
    judged = share.compare(Ratios.of(c), comparison)
    assert judged.tolist() == [e is not None and ops[comparison](e, exact(z)) for e, z in zip(expected, c)]
    gap = (Ratios.of(c) - Ratios.of(a)).clip0().floats()
    assert gap.tolist() == [float(max(Fraction(0), exact(z) - exact(x))) for x, z in zip(a, c)]


def test_ratios_read_data_as_written_decimals():
    # 4.5 × 0.85 is 3.8249999… in binary floating point; exactly 3.825 here.
    floor = Ratios.of([4.5]) * Ratios.const(exact("0.85"), 1)
    assert floor.compare(Ratios.of([3.825]), "<=").tolist() == [True]
    assert floor.compare(Ratios.of([3.825]), ">=").tolist() == [True]
    assert (Ratios.of([1.955]) - Ratios.of([1.954])).floats().tolist() == [float(Fraction(1, 1000))]
    assert Ratios.of([np.nan, 2.0]).missing.tolist() == [True, False]
    # Products beyond int64 switch to Python integers and stay exact.
    big = Ratios.of([123456789012.345]) * Ratios.of([987654321098.765]) / Ratios.of([3.0])
    assert big.floats().tolist() == [float(exact("123456789012.345") * exact("987654321098.765") / 3)]
    assert big.compare(Ratios.const(exact("123456789012.345") * exact("987654321098.765") / 3, 1), ">=").tolist() == [True]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e7, 1e7, allow_nan=False), decimals, st.just(math.nan)), min_size=1, max_size=30),
       st.sampled_from(["", "%", "人", "元", "元/生·年", "m²", "人/百生", "间", "万元"]), st.sampled_from([None, 0, 3]))
def test_fmt_many_is_fmt_of_each_value(values, unit, digits):
    assert fmt_many(values, unit, digits).tolist() == [fmt(v, unit, digits) for v in values]


def test_a_value_rounding_to_zero_is_written_without_a_sign():
    # pandas.factorize takes -0.0 for 0.0; both writers must agree on "0" (found by hypothesis).
    assert fmt_many([0.0, -0.0, -0.0001], "", 2).tolist() == ["0", "0", "0"]
    assert [fmt(v, "", 2) for v in (0.0, -0.0, -0.0001)] == ["0", "0", "0"]
    assert fmt(-0.0, "元") == "0元" and fmt(-0.3, "%") == "-0.3%"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(decimals, st.just(math.nan)), decimals), min_size=1, max_size=15),
       st.sampled_from([">=", "<=", "<", ">"]))
def test_check_frame_judges_like_check_row(rows, comparison):
    measured = np.array([m for m, _ in rows], dtype=float)
    requirement = np.array([r for _, r in rows], dtype=float)
    frame = check_frame("X1", "part", "名称", np.zeros(len(rows), dtype=np.int64), Ratios.of(measured), Ratios.of(requirement),
                        comparison, "%", note="说明")
    for got, (m, r) in zip(frame.to_dict("records"), rows):
        want = check_row("X1", "part", "名称", None if math.isnan(m) else exact(m), exact(r), comparison, "%", note="说明")
        assert got["status"] == want["status"]
        for column in ("measured", "requirement", "shortfall"):
            assert got[column] == want[column] or (math.isnan(got[column]) and math.isnan(want[column]))
    assert set(frame["status"]) <= {PASS, FAIL, MISSING}


@pytest.fixture(scope="module")
def sample_checks():
    return evaluate(load_period(SAMPLE / "2022Q4"), "beichen-2021").checks


def test_column_wording_equals_row_wording(sample_checks):
    checks = sample_checks
    assert value_texts(checks).tolist() == [value_text(r) for _, r in checks.iterrows()]
    assert describe_many(checks).tolist() == [describe(r) for _, r in checks.iterrows()]
    texts = requirement_texts(checks["comparison"], checks["requirement"], checks["unit"]).tolist()
    assert texts == [requirement_text(c, r, u) for c, r, u in zip(checks["comparison"], checks["requirement"], checks["unit"])]


def test_province_views_are_the_rows_of_the_whole_tables(tmp_path):
    from test_districts import two_districts

    folder, _ = two_districts(tmp_path)
    together = evaluate(load_period(folder))
    whole = together.whole
    assert list(together.districts) == ["120113", "120114"]
    for district_id in together.districts:
        mine = together.district(district_id)
        rows = whole.items[whole.items["district_id"] == district_id].drop(columns="district_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine.items, rows)
        assert mine is together.district(district_id)  # built once
        issues = whole.issue_list[whole.issue_list["district_id"] == district_id]
        assert issues["no"].tolist() == list(range(1, len(issues) + 1))
    tables = together.tables()
    assert tables["checks"]["district_id"].tolist() == sorted(tables["checks"]["district_id"])
    assert len(tables["items"]) == 2 * len(together.district("120113").items)
    assert together.passed == all(e.passed for e in together.districts.values())


@pytest.mark.parametrize("standard", ["national-2017", "beichen-2021"])
def test_generated_province_each_district_equals_it_alone(tmp_path, standard):
    """Seeded synthetic districts (benchmarks/national.py: combined schools, campuses,
    teaching points, special schools): every table of each district evaluated with
    the others equals the same district evaluated alone."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from national import make_national, write

    tables = make_national(300, seed=3)
    province = load_period(write(tables, tmp_path / "province" / "2022Q4"))
    together = evaluate(province, standard)
    ids = list(together.districts)
    assert len(ids) >= 3
    school_district = tables["schools"].set_index("school_id")["district_id"]
    for district_id in ids:
        mine = {}
        for name, frame in tables.items():
            key = frame["district_id"] if "district_id" in frame else frame["school_id"].map(school_district)
            mine[name] = frame[(key == district_id).to_numpy(bool)].drop(columns=["district_id", "district_name"], errors="ignore")
        alone = evaluate(load_period(write(mine, tmp_path / district_id / "2022Q4")), standard)
        view = together.district(district_id)
        for name, table in alone.tables().items():
            if name == "summary":
                continue
            got = view.tables()[name].drop(columns=["district_id", "district_name"], errors="ignore")
            pd.testing.assert_frame_equal(got.reset_index(drop=True), table.reset_index(drop=True), check_dtype=False, obj=f"{district_id} {name}")
        pd.testing.assert_frame_equal(view.summary(), alone.summary())


def test_ratios_concat_keeps_every_part_exact():
    from balance_metrics.evaluation.ratios import Ratios

    big = Ratios(np.array([10**30], dtype=object), np.array([3], dtype=object), np.array([False]))
    small = Ratios.whole(np.array([1, 2]), missing=np.array([False, True]))
    both = Ratios.concat([small, big])
    assert both.num.tolist() == [*small.num.tolist(), 10**30] and both.den.tolist() == [*small.den.tolist(), 3]
    assert both.num[2] == 10**30 and both.take(np.array([0])).floats().tolist() == [1.0]
    assert both.missing.tolist() == [False, True, False]


@pytest.mark.parametrize("standard", ["national-2017", "beichen-2021"])
def test_sentences_are_written_when_asked_for(tmp_path, standard):
    """evaluate computes every status, count and 问题清单 line of every district;
    the sentences come when asked for — one district's alone, or all at once —
    and agree with each other."""
    import sys

    from balance_metrics.evaluation.items import WORDED_COLUMNS

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from national import make_national, write

    dataset = load_period(write(make_national(300, seed=5), tmp_path / "province" / "2022Q4"))
    lazy = evaluate(dataset, standard)
    whole = lazy.whole
    ids = list(lazy.districts)
    ranking = lazy.summary()
    one = lazy.district(ids[1])  # that district's sentences only
    assert not whole.worded
    rs = (whole.base_checks["item_id"] == "RS").to_numpy(bool)
    assert rs.any() and (whole.base_checks["note"][rs] == "").all()  # the RS notes: written when read

    eager = evaluate(dataset, standard)
    eager.whole.write_texts()
    assert eager.whole.worded
    pd.testing.assert_frame_equal(ranking, eager.summary())
    both = eager.district(ids[1])
    for name in ("items", "issue_list", "checks", "plan_targets"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(both, name), obj=name)
    pd.testing.assert_frame_equal(one.readiness.blocking, both.readiness.blocking)
    assert (one.checks.loc[one.checks["item_id"] == "RS", "note"] != "").any()
    pd.testing.assert_frame_equal(whole.checks.drop(columns="note"), whole.base_checks.drop(columns="note"))
    assert (whole.checks["note"].to_numpy(object)[~rs] == whole.base_checks["note"].to_numpy(object)[~rs]).all()
    # The statuses are the item table without its sentences, the lines the 问题清单 without its descriptions.
    pd.testing.assert_frame_equal(whole.statuses, eager.whole.items.drop(columns=list(WORDED_COLUMNS)))
    pd.testing.assert_frame_equal(whole.issue_lines, eager.whole.issue_list.drop(columns="description"))
    assert whole.issue_counts().tolist() == [len(eager.district(d).issue_list) for d in ids]
    assert whole.blocking_counts().tolist() == [len(eager.district(d).readiness.blocking) for d in ids]
    assert whole.issue_counts().sum() > 0 and whole.blocking_counts().sum() > 0
    assert [e.passed for e in lazy.districts.values()] == ranking.set_index("district_id").loc[ids, "passed"].tolist()
    assert whole.worded  # every district's Evaluation: all the sentences written at once
    assert evaluate(dataset, standard, district=[ids[0]]).whole.worded  # one district: written with it
