"""Rules fixed to follow the method and the Beichen plan (issue #12): a stage whose
indicator total is zero, 100 % retention in Beichen, Q9's defaults, G14/G15 evidence,
the 党代表 survey group and G13's scope wording."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_period
from whole_district import boundary_district, evidence_rows, set_district, set_value

from balance_metrics import evaluate, load_period, load_standard
from balance_metrics.contract.schema import SURVEY_GROUPS


def run(tmp_path, tables, standard="national-2017"):
    return evaluate(load_period(write_period(tmp_path / "2022Q4", tables)), standard)


def item(result, item_id):
    return result.items.set_index("id").loc[item_id]


def checks(result, item_id, **where):
    found = result.checks[result.checks["item_id"] == item_id]
    for key, value in where.items():
        found = found[found[key] == value]
    return found


# -- a stage whose indicator total is zero ------------------------------------


def test_zero_key_teachers_in_every_junior_section_fails_the_cv_with_a_reason(tmp_path):
    tables = boundary_district()
    set_value(tables, "sections", {"school_id": "J1"}, "key_teachers", 0)
    result = run(tmp_path, tables)  # used to raise ValueError from Fraction(nan)
    cv = checks(result, "RC", stage="junior", target="R2").iloc[0]
    assert cv["status"] == "fail" and pd.isna(cv["measured"])
    assert "全区合计为0" in cv["note"]
    assert item(result, "RC")["status"] == "fail"
    # the other stage and indicators are still judged
    assert (checks(result, "RC", stage="primary")["status"] == "pass").all()
    line = result.issue_list[(result.issue_list["item_id"] == "RC")].iloc[0]
    assert "无法计算" in line["description"] and "全区合计为0" in line["description"]


# -- Q1: Beichen keeps 100 % retention ----------------------------------------


@pytest.mark.parametrize("graduates, national, beichen", [(1000, "pass", "pass"), (999, "pass", "fail"), (950, "pass", "fail")])
def test_beichen_requires_full_retention(tmp_path, graduates, national, beichen):
    tables = boundary_district()
    set_district(tables, "retention_graduates", graduates)
    assert item(run(tmp_path / "n", tables), "Q1")["status"] == national
    assert item(run(tmp_path / "b", tables, "beichen-2021"), "Q1")["status"] == beichen
    assert load_standard("beichen-2021").get("items.Q1.min_percent") == "100"


# -- Q9: defaults and their sources --------------------------------------------


def test_q9_defaults_are_85_percent_and_the_variance_share():
    q9 = load_standard("national-2017").get("items.Q9")
    assert q9["min_level3_percent"] == "85" and q9["difference_rate"] == "variance_share"
    assert "九龙坡" in q9["min_level3_percent_source"]
    assert "方差" in q9["difference_rate_source"]
    assert "[C]" in q9["min_level3_percent_source"] and "[C]" in q9["difference_rate_source"]


def test_difference_rate_is_the_between_school_variance_share_by_default(tmp_path):
    # P1 400, P2 600 (30 pupils each, SD 90): B = 100², W = 90² -> 10000 / 18100 = 0.5525
    tables = boundary_district()
    set_value(tables, "quality", {"school_id": "P1"}, "mean_score", 480.0)
    set_value(tables, "quality", {"school_id": "P2"}, "mean_score", 520.0)
    result = run(tmp_path / "a", tables)
    rate = checks(result, "Q9", part="difference_rate", stage="primary").iloc[0]
    assert rate["measured"] == pytest.approx(400 / (400 + 8100))  # 0.047: passes
    assert item(result, "Q9")["status"] == "pass"
    override = tmp_path / "cv.toml"
    override.write_text('extends = "national-2017"\n[items.Q9]\ndifference_rate = "cv"\n', encoding="utf-8")
    cv = run(tmp_path / "b", tables, override)
    assert checks(cv, "Q9", part="difference_rate", stage="primary").iloc[0]["measured"] == pytest.approx(20 / 500)


# -- G14 and G15 need their evidence too ---------------------------------------


@pytest.mark.parametrize("item_id", ["G14", "G15"])
@pytest.mark.parametrize("status, expected", [(None, "evidence missing"), ("pending", "evidence missing"), ("not_met", "fail"), ("met", "pass")])
def test_g14_g15_are_not_passed_on_percentages_alone(tmp_path, item_id, status, expected):
    tables = boundary_district()
    evidence = evidence_rows()
    evidence = evidence[~evidence["item_id"].isin(["G14", "G15"])]
    extra = [("G14" if item_id == "G15" else "G15", "met", "另一项佐证", "督导室", "2022-12-20", "")]
    if status is not None:
        extra.append((item_id, status, f"{item_id}佐证", "督导室" if status != "pending" else "", "2022-12-20" if status != "pending" else "", ""))
    tables["evidence"] = pd.concat([evidence, pd.DataFrame(extra, columns=evidence.columns)], ignore_index=True)
    result = run(tmp_path, tables)
    assert item(result, item_id)["status"] == expected
    percent = checks(result, item_id, status="pass")
    assert len(percent[percent["unit"] == "%"]) == 1  # the percentage itself still passes
    requirement = item(result, item_id)["requirement"]
    assert "佐证材料" in requirement


def test_g14_evidence_names_what_it_proves():
    std = load_standard("national-2017")
    assert "农村初中" in std.get("items.G14.evidence_part")
    assert "留守儿童" in std.get("items.G15.evidence_part")


# -- 党代表 and G13's wording ----------------------------------------------------


def test_party_deputies_are_a_survey_group_required_in_beichen(tmp_path):
    assert SURVEY_GROUPS["party_deputies"] == "党代表"
    tables = boundary_district()
    result = run(tmp_path / "b", tables, "beichen-2021")  # no 党代表 answered
    assert item(result, "S1")["status"] == "evidence missing"
    group = checks(result, "S1", target="党代表").iloc[0]
    assert group["status"] == "evidence missing"
    national = run(tmp_path / "n", tables)
    assert item(national, "S1")["status"] == "pass"
    extra = pd.DataFrame([(f"D{i}", "party_deputies", "", "true", "") for i in range(10)], columns=tables["survey"].columns)
    tables["survey"] = pd.concat([tables["survey"], extra], ignore_index=True)
    result = run(tmp_path / "c", tables, "beichen-2021")
    assert item(result, "S1")["status"] == "pass"
    row = result.satisfaction.set_index("group").loc["party_deputies"]
    assert row["respondents"] == 10 and row["group_name"] == "党代表"


def test_g13_scope_in_beichen_is_every_public_school():
    national = load_standard("national-2017").get("items.G13.name")
    beichen = load_standard("beichen-2021").get("items.G13.name")
    assert national.startswith("城镇公办")
    assert beichen.startswith("公办小学、初中") and "城镇" not in beichen
