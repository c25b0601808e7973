"""The Beichen plan's coverage targets P18–P28 (issue #12), one step off the boundary district."""

from __future__ import annotations

import pytest
from conftest import write_period
from whole_district import boundary_district, set_district, set_value

from balance_metrics import evaluate, load_period


def run(tmp_path, tables):
    return evaluate(load_period(write_period(tmp_path / "2022Q4", tables)), "beichen-2021")


def target(result, target_id):
    return result.plan_targets.set_index("target_id").loc[target_id]


def lines(result, target_id):
    return result.issue_list[result.issue_list["item_id"] == target_id]


def test_boundary_district_meets_every_coverage_target(tmp_path):
    result = run(tmp_path, boundary_district("beichen-2021"))
    targets = result.plan_targets.set_index("target_id")
    new = [f"P{i}" for i in range(18, 29)]
    assert set(new) <= set(targets.index)
    assert (targets.loc[new, "status"] == "pass").all(), targets.loc[new, ["measured", "status", "detail"]].to_string()
    assert targets.loc["P18", "measured"] == 100 and targets.loc["P24", "measured"] == 1
    assert (targets.loc[[t for t in new if t not in ("P18", "P24")], "measured"] == 0).all()


def test_retention_below_100_misses_p18(tmp_path):
    tables = boundary_district("beichen-2021")
    set_district(tables, "retention_graduates", 999)
    result = run(tmp_path, tables)
    assert target(result, "P18")["status"] == "fail" and target(result, "P18")["measured"] == pytest.approx(99.9)
    assert "本期为99.9%，目标≥100%" in lines(result, "P18")["description"].iloc[0]


@pytest.mark.parametrize(("target_id", "column", "value", "gap"), [
    ("P19", "teaching_aux_area_m2", 2249.0, 1.0),    # R4 4.498 < 4.5: 4.5 × 500 − 2249 = 1 m²
    ("P19", "teaching_aux_area_m2", 2250.0, 0.0),    # exactly 4.5 m² per pupil
    ("P20", "outdoor_sports_area_m2", 3700.0, 50.0),  # R5 7.4 < 7.5: 7.5 × 500 − 3700 = 50 m²
])
def test_every_school_meets_teaching_room_and_sports_area(tmp_path, target_id, column, value, gap):
    tables = boundary_district("beichen-2021")
    set_value(tables, "facilities", {"school_id": "P1"}, column, value)
    result = run(tmp_path, tables)
    row = target(result, target_id)
    assert row["measured"] == pytest.approx(gap) and row["unit"] == "m²"
    assert row["status"] == ("fail" if gap else "pass")
    if gap:  # RS still passes (6 of 7 met, the seventh above its floor): the plan is stricter
        assert result.items.set_index("id").loc["RS", "status"] == "pass"
        line = lines(result, target_id).iloc[0]
        assert line["school_name"] == "东风小学" and f"需补足{gap:g}m²" in line["description"]


@pytest.mark.parametrize(("target_id", "table", "key", "column", "value", "gap", "text"), [
    ("P21", "facilities", "J1", "multimedia_teaching_spaces", 23, 1, "已配备多媒体的室内教学场所数为23间，要求≥24间，差1间"),
    ("P22", "facilities", "P2", "broadband", "false", 1, "未实现高速宽带接入"),
    ("P23", "facilities", "J1", "wireless_full_coverage", "false", 1, "未实现无线网络全覆盖"),
    ("P25", "staff_training", "J1", "ict_sessions_last_term", 0, 1, "最近一学期校级教育信息化培训次数为0次，要求≥1次，差1次"),
    ("P26", "staff_training", "P1", "trained_within_3y", 27, 3, "近三年达到培训结业要求的教职工数为27人，要求≥30人，差3人"),
    ("P27", "schools", "J1", "school_cluster", "", 1, "未纳入学区"),
    ("P28", "schools", "P2", "partner_school_id", "", 1, "尚无结对帮扶学校"),
])
def test_one_school_short_misses_the_target(tmp_path, target_id, table, key, column, value, gap, text):
    tables = boundary_district("beichen-2021")
    set_value(tables, table, {"school_id": key}, column, value)
    result = run(tmp_path, tables)
    row = target(result, target_id)
    assert row["status"] == "fail" and row["measured"] == gap
    line = lines(result, target_id)
    assert len(line) == 1 and line["school_id"].iloc[0] == key and line["severity_label"].iloc[0] == "区定目标未完成"
    assert text in line["description"].iloc[0]
    assert result.readiness.passed  # plan targets never block recognition


def test_partner_needed_only_by_rural_or_weak_schools(tmp_path):
    tables = boundary_district("beichen-2021")
    set_value(tables, "schools", {"school_id": "P2"}, "partner_school_id", "")
    set_value(tables, "schools", {"school_id": "P2"}, "weak_school", "false")
    assert target(run(tmp_path / "a", tables), "P28")["status"] == "pass"  # urban/town, not weak: no partner needed
    set_value(tables, "schools", {"school_id": "J1"}, "area_type", "rural")
    assert target(run(tmp_path / "b", tables), "P28")["measured"] == 1  # rural J1 has no partner


def test_district_ict_training(tmp_path):
    tables = boundary_district("beichen-2021")
    set_district(tables, "ict_training_sessions_district", 0)
    assert target(run(tmp_path / "a", tables), "P24")["status"] == "fail"
    tables["district"] = tables["district"][tables["district"]["item"] != "ict_training_sessions_district"]
    assert target(run(tmp_path / "b", tables), "P24")["status"] == "data missing"


def test_unreported_column_is_data_missing_with_one_line(tmp_path):
    tables = boundary_district("beichen-2021")
    tables["facilities"] = tables["facilities"].drop(columns=["indoor_teaching_spaces", "multimedia_teaching_spaces"])
    tables["staff_training"] = tables["staff_training"].drop(columns=["trained_within_3y"])
    result = run(tmp_path, tables)
    for target_id in ("P21", "P26"):
        assert target(result, target_id)["status"] == "data missing"
        assert len(lines(result, target_id)) == 1 and lines(result, target_id)["school_name"].iloc[0] == "全区"
    assert "各校均未填报近三年达到培训结业要求的教职工数" in target(result, "P26")["detail"]


def test_one_school_without_data_leaves_the_target_open(tmp_path):
    tables = boundary_district("beichen-2021")
    set_value(tables, "staff_training", {"school_id": "J1"}, "ict_sessions_last_term", "")
    row = target(run(tmp_path, tables), "P25")
    assert row["status"] == "data missing" and row["measured"] == 0 and "北辰初中" in row["detail"]


def test_validation_rejects_impossible_coverage_inputs(tmp_path):
    from balance_metrics.common.errors import DataValidationError

    tables = boundary_district("beichen-2021")
    set_value(tables, "facilities", {"school_id": "P1"}, "multimedia_teaching_spaces", 21)  # 21 of 20
    set_value(tables, "staff_training", {"school_id": "P1"}, "trained_within_3y", 31)  # 31 of 30 staff
    set_value(tables, "schools", {"school_id": "P2"}, "partner_school_id", "X9")
    with pytest.raises(DataValidationError) as err:
        load_period(write_period(tmp_path / "2022Q4", tables))
    text = str(err.value)
    assert "multimedia_teaching_spaces" in text and "trained_within_3y" in text and "X9" in text


def _grouped(school_ids, owners, numeric, flags):
    """The plain path of ``_per_school``: pandas grouped sum / min, masked where a row lacks a value."""
    import pandas as pd

    grouped = numeric.groupby(owners)
    values = (grouped.min() if flags else grouped.sum()).mask(numeric.isna().groupby(owners).any())
    return pd.DataFrame(index=school_ids).join(values, how="left")


@pytest.mark.parametrize("flags", [False, True])
def test_owned_totals_match_grouped_sum_and_min(flags):
    import numpy as np
    import pandas as pd
    from hypothesis import given, settings, strategies as st

    from balance_metrics.evaluation.plan_coverage import _owned_totals

    school_ids = pd.Index(["a", "b", "c", "d"], name="school_id")
    value = st.sampled_from([0.0, 1.0, np.nan]) if flags else st.sampled_from([0.0, 1.0, 7.0, 2.0**52, -3.0, np.nan])
    owner = st.sampled_from(["a", "b", "c", "x", None])

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.tuples(owner, value, value), max_size=12))
    def check(rows):
        owners = pd.Series([r[0] for r in rows], dtype=object)
        numeric = pd.DataFrame({"u": [r[1] for r in rows], "v": [r[2] for r in rows]}, dtype="float64")
        fast = _owned_totals(school_ids, owners, numeric, flags)
        as_arrays = _owned_totals(school_ids, owners, {c: numeric[c].to_numpy(float) for c in numeric}, flags)
        assert (fast is None) == (as_arrays is None)
        if fast is None:  # sums that could round: left to the grouped path
            assert not flags and np.nansum(np.abs(numeric.to_numpy(float))) >= 2**53
            return
        expected = _grouped(school_ids, owners, numeric, flags)
        for column in ("u", "v"):
            np.testing.assert_array_equal(fast[column], expected[column].to_numpy(float))
            np.testing.assert_array_equal(as_arrays[column], expected[column].to_numpy(float))

    check()


def test_owned_totals_leave_fractions_and_odd_flags_to_pandas():
    import numpy as np
    import pandas as pd

    from balance_metrics.evaluation.plan_coverage import _owned_totals

    ids = pd.Index(["a"])
    owners = pd.Series(["a", "a"], dtype=object)
    assert _owned_totals(ids, owners, pd.DataFrame({"u": [0.1, 0.2]}), False) is None
    assert _owned_totals(ids, owners, pd.DataFrame({"u": [1.0, 2.0]}), True) is None
    assert _owned_totals(pd.Index(["a", "a"]), owners, pd.DataFrame({"u": [1.0, 2.0]}), False) is None
    np.testing.assert_array_equal(_owned_totals(ids, owners, pd.DataFrame({"u": [1.0, 2.0]}), False)["u"], [3.0])


def test_joined_by_position_matches_the_plain_join():
    """``_joined`` (reindex when each school id has one row of values) against a plain left join."""
    import numpy as np
    import pandas as pd
    from hypothesis import given, settings, strategies as st

    from balance_metrics.evaluation.plan_coverage import _joined

    ids = st.sampled_from(["a", "b", "c", "d"])

    @settings(max_examples=150, deadline=None)
    @given(st.lists(ids, max_size=6), st.lists(st.tuples(ids, st.sampled_from([0.0, 1.0, 2.5, np.nan]), st.sampled_from(["x", None])), max_size=6))
    def check(school_list, rows):
        school_ids = pd.Index(np.array(school_list, dtype=object), name="school_id")
        schools = {"school_id": school_ids.to_numpy(object), "school_name": np.array([f"名{s}" for s in school_list], dtype=object),
                   "_district": np.arange(len(school_list), dtype=np.int64)}
        values = pd.DataFrame({"n": [r[1] for r in rows], "t": pd.array([r[2] for r in rows], dtype="str")},
                              index=pd.Index([r[0] for r in rows], dtype="str", name="school_id"))
        got = _joined(schools, school_ids, values)
        plain = pd.DataFrame({"school_name": schools["school_name"], "_district": schools["_district"]}, index=school_ids).join(values, how="left")
        assert list(got["school_id"]) == list(plain.index)
        assert list(got["school_name"]) == list(plain["school_name"]) and list(got["_district"]) == list(plain["_district"])
        np.testing.assert_array_equal(got["n"], plain["n"].to_numpy(float))
        assert [None if pd.isna(v) else v for v in got["t"]] == [None if pd.isna(v) else v for v in plain["t"]]

    check()
