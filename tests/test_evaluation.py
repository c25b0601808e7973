"""The whole evaluation: readiness and vetoes, missing data, plan targets, the 问题清单."""

from __future__ import annotations

import math

import pytest
from conftest import write_period
from whole_district import boundary_district, district_rows, evidence_rows, set_district, set_value

from balance_metrics import Evaluation, evaluate, load_period
from balance_metrics.evaluation.checks import STATUS_LABELS
from balance_metrics.evaluation.issue_list import ISSUE_LABELS

PLAN_COLUMNS = ["target_id", "name", "scope", "measured", "requirement", "unit", "comparison", "deadline", "status"]


def run(tmp_path, tables, standard="national-2017") -> Evaluation:
    return evaluate(load_period(write_period(tmp_path / "2022Q4", tables)), standard)


@pytest.mark.parametrize("veto, status, expected", [("V3", "not_met", "fail"), ("V5", "pending", "evidence missing")])
def test_a_veto_blocks_readiness_when_everything_else_passes(tmp_path, veto, status, expected):
    tables = boundary_district()
    tables["evidence"] = evidence_rows({veto: status})
    result = run(tmp_path, tables)
    items = result.items.set_index("id")
    assert items.loc[veto, "status"] == expected
    others = items.drop(index=veto)["status"]
    assert set(others) <= {"pass", "not applicable"}
    assert not result.readiness.passed and result.readiness.verdict == "not ready"
    assert result.readiness.blocking["id"].tolist() == [veto]
    assert bool(result.readiness.blocking["veto"].iloc[0])
    line = result.issue_list.iloc[0]
    assert line["item_id"] == veto and line["school_name"] == "全区"
    assert line["severity_label"] == ("一票否决" if status == "not_met" else "缺少佐证或数据")


def test_items_without_data_are_evidence_missing_never_pass(district_dir):
    result = evaluate(load_period(district_dir))  # core tables only
    items = result.items.set_index("id")
    from_core = {"RS", "RC", "G3", "G4", "G5", "G6", "G7", "G12"}  # computed from schools / sections / facilities
    lacking = items.drop(index=list(from_core))
    assert set(lacking["status"]) == {"evidence missing"}, lacking["status"].to_string()
    assert not result.readiness.passed
    assert set(lacking.index) <= set(result.readiness.blocking["id"])
    assert result.plan_targets.empty and list(result.plan_targets.columns)[:9] == PLAN_COLUMNS
    beichen = evaluate(load_period(district_dir), "beichen-2021")
    missing = beichen.plan_targets.set_index("target_id")
    # district figures and budgets are absent; room and key-teacher targets come from the core tables
    assert (missing.drop(index=["P01", "P07", "P08", "P19", "P20"])["status"] == "data missing").all()
    assert missing.loc["P11", "status"] == "data missing" and math.isnan(missing.loc["P11", "measured"])


def test_items_table_has_every_item_with_official_names(tmp_path):
    result = run(tmp_path, boundary_district())
    ids = result.items["id"].tolist()
    assert ids[:2] == ["RS", "RC"] and ids[2:17] == [f"G{i}" for i in range(1, 16)]
    assert ids[17:26] == [f"Q{i}" for i in range(1, 10)] and ids[26] == "S1" and ids[27:] == [f"V{i}" for i in range(1, 8)]
    items = result.items.set_index("id")
    assert items.loc["G5", "name"] == "小学、初中所有班级学生数分别不超过45人、50人"
    assert items.loc["G5", "scope"] == "school" and items.loc["G8", "scope"] == "district"
    assert set(result.items["status_label"]) <= set(STATUS_LABELS.values())


def test_issue_list_is_ordered_by_severity_and_in_chinese(tmp_path):
    tables = boundary_district("beichen-2021")
    tables["evidence"] = evidence_rows({"V2": "not_met", "G10": "pending"})
    set_value(tables, "facilities", {"school_id": "J1"}, "music_rooms", 1)
    set_district(tables, "places_added_primary", 2000)
    result = run(tmp_path, tables, "beichen-2021")
    issues = result.issue_list
    assert issues["severity"].is_monotonic_increasing and issues["no"].tolist() == list(range(1, len(issues) + 1))
    assert issues["item_id"].tolist() == ["V2", "G3", "G10", "P08", "P11"]
    g3 = issues.set_index("item_id").loc["G3"]
    assert g3["school_name"] == "北辰初中"
    assert "音乐专用教室数为1间，要求≥2间，差1间（13个班，按每12个班1间需2间）" in g3["description"]
    assert (g3["measured"], g3["requirement"], g3["shortfall"]) == (1, 2, 1)
    assert g3["responsible"].startswith("区教育局")  # the plan's 责任单位 for task 3
    p11 = issues.set_index("item_id").loc["P11"]
    assert "本期为2000个，目标≥2343个（期限2022-12-31），差343个" in p11["description"]


def test_plan_targets_measured_for_progress(tmp_path):
    tables = boundary_district("beichen-2021")
    set_value(tables, "sections", {"school_id": "P1"}, "key_teachers", 4)  # 500 pupils need 5
    set_value(tables, "finance", {"school_id": "P1"}, "training_funds_yuan", 29_999)  # 1 元 short of 5 %
    set_value(tables, "staff_training", {"school_id": "P1"}, "district_trained", 9)  # 30 staff: 10 needed
    set_value(tables, "facilities", {"school_id": "P1"}, "labour_rooms", 0)
    set_district(tables, "sports_area_added_junior_m2", 18999)
    set_value(tables, "district", {"item": "education_budget_per_student_yuan", "year": 2022}, "value", 28000)
    result = run(tmp_path, tables, "beichen-2021")
    targets = result.plan_targets.set_index("target_id")
    assert list(result.plan_targets.columns)[:9] == PLAN_COLUMNS
    expected = {"P01": 1, "P02": 1, "P04": 1, "P07": 1, "P16": 18999}
    for target, measured in expected.items():
        assert targets.loc[target, "measured"] == pytest.approx(measured), target
        assert targets.loc[target, "status"] == "fail", target
    # per pupil 28 500 (2021) -> 28 000 (2022): −1.754 %
    assert targets.loc["P10", "measured"] == pytest.approx(100 * (28000 - 28500) / 28500)
    assert targets.loc["P09", "measured"] == pytest.approx(0) and targets.loc["P09", "status"] == "pass"
    assert (targets.loc["P16", "requirement"], targets.loc["P16", "comparison"], targets.loc["P16", "unit"]) == (19000, ">=", "m²")
    assert targets.loc["P16", "deadline"] == "2022-12-31"
    assert set(targets["status"]) <= {"pass", "fail", "data missing"}
    # Q4 (training funds) blocks recognition; the plan targets themselves never do
    blocking = set(result.readiness.blocking["id"])
    assert "Q4" in blocking and not blocking & set(targets.index)


def test_plan_targets_do_not_block_readiness(tmp_path):
    tables = boundary_district("beichen-2021")
    set_district(tables, "places_added_primary", 100)
    result = run(tmp_path, tables, "beichen-2021")
    assert result.plan_targets.set_index("target_id").loc["P11", "status"] == "fail"
    assert result.readiness.passed


def test_budget_needs_two_years(tmp_path):
    tables = boundary_district("beichen-2021")
    rows = district_rows()
    tables["district"] = rows[~((rows["item"] == "education_budget_total_wan") & (rows["year"] < 2022))]
    result = run(tmp_path, tables, "beichen-2021")
    assert result.plan_targets.set_index("target_id").loc["P09", "status"] == "data missing"


def test_tables_for_export(tmp_path):
    result = run(tmp_path, boundary_district("beichen-2021"), "beichen-2021")
    tables = result.tables()
    assert {"summary", "sections", "verdicts", "balance", "items", "checks", "plan_targets", "satisfaction", "readiness", "问题清单"} <= set(tables)
    assert all(len(name) <= 31 for name in tables)  # usable as XLSX sheet names
    assert list(tables["问题清单"].columns) == list(ISSUE_LABELS.values())
    summary = tables["summary"].iloc[0]
    assert summary["verdict"] == "ready" and summary["items_pass"] == 32 and summary["items_not_applicable"] == 2


def test_issue_lines_show_floors_at_display_precision():
    """A value just above a 3.825 floor must not print as equal to it."""
    from balance_metrics.evaluation.checks import fmt

    assert fmt(3.825, "m²/生", 3) == "3.825m²/生"
    assert fmt(3.8270, "m²/生", 3) == "3.827m²/生"
    assert fmt(4.5, "m²/生", 3) == "4.5m²/生"
    assert fmt(3.825, "m²/生") == "3.83m²/生"  # the unit's default two decimals
