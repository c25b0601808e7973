"""The sample data tell the whole-evaluation story; the CLI writes every table."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE

from balance_metrics import evaluate, load_period


def period(label: str) -> Path:
    folder = SAMPLE / label
    if not (folder / "classes.csv").exists() and not list(folder.glob("*.xlsx")):
        pytest.skip("sample data not generated")
    return folder


@pytest.fixture(scope="module")
def q4() -> dict[str, object]:
    dataset = load_period(period("2022Q4"))
    return {"national": evaluate(dataset), "beichen": evaluate(dataset, "beichen-2021")}


def statuses(result) -> pd.Series:
    return result.items.set_index("id")["status"]


def failing_schools(result, item: str) -> set[str]:
    checks = result.checks
    return set(checks[(checks["item_id"] == item) & (checks["status"] == "fail")]["school_id"])


def test_2022q4_national_mix(q4):
    result = q4["national"]
    s = statuses(result)
    assert {"pass", "fail", "evidence missing"} <= set(s)
    assert s["G5"] == "fail" and {"BC-J01", "BC-J02"} <= failing_schools(result, "G5")
    assert s["G3"] == "fail" and failing_schools(result, "G3") == {"BC-J06", "BC-J07"}
    assert s["V5"] == "evidence missing" and s["G10"] == "evidence missing"  # pending documents
    assert s["G6"] == "pass" and s["S1"] == "pass"
    # Q9: junior 科学 below 85 % of tested pupils at level Ⅲ or above; 校际差异率 (variance share) well below 0.15
    q9 = result.checks[result.checks["item_id"] == "Q9"]
    assert s["Q9"] == "fail" and set(q9.loc[q9["status"] == "fail", "target"]) == {"科学"}
    assert (q9.loc[q9["part"] == "difference_rate", "measured"] < 0.1).all()
    assert not result.readiness.passed and "V5" == result.readiness.blocking["id"].iloc[0]


def test_2022q4_satisfaction(q4):
    table = q4["national"].satisfaction.set_index("group")
    assert 88 <= table.loc["overall", "rate_percent"] <= 92
    assert table["small_sample"].sum() == 1 and table.loc["deputies", "small_sample"]
    assert table.loc["party_deputies", "respondents"] == 36


def test_2022q4_beichen_only_failures(q4):
    national, beichen = statuses(q4["national"]), statuses(q4["beichen"])
    changed = {i for i in national.index if national[i] != beichen[i]}
    assert changed == {"G6", "Q1"}  # Q1: the plan keeps retention at 100 %; the sample's is 98.4 %
    assert failing_schools(q4["beichen"], "G6") == {"BC-P35"}
    targets = q4["beichen"].plan_targets["status"].value_counts()
    assert targets.get("pass", 0) >= 5 and targets.get("fail", 0) >= 5
    assert q4["national"].plan_targets.empty


def test_workbook_period_has_the_new_sheets():
    dataset = load_period(period("2021Q1"))
    assert {"classes", "finance", "district", "evidence", "survey", "quality"} <= set(dataset.tables)
    assert dataset.table("survey")["_source"].iloc[0].endswith("[满意度调查]")
    result = evaluate(dataset, "beichen-2021")
    assert (result.items.set_index("id").loc[["V1", "V2", "V3"], "status"] == "evidence missing").all()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "balance_metrics", *args], capture_output=True, text=True)


def test_cli_writes_every_table_and_the_issue_list(tmp_path):
    out = tmp_path / "out"
    proc = run_cli("evaluate", str(period("2022Q4")), "--standard", "beichen-2021", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "readiness: not ready" in proc.stdout and "问题清单" in proc.stdout and "plan targets:" in proc.stdout
    for name in ("items", "checks", "plan_targets", "satisfaction", "readiness", "summary", "问题清单"):
        assert (out / f"{name}.csv").read_bytes().startswith(b"\xef\xbb\xbf"), name
    issues = pd.read_csv(out / "问题清单.csv", encoding="utf-8-sig")
    assert list(issues.columns[:4]) == ["序号", "严重程度", "问题类别", "评估方面"]
    assert issues["严重程度"].is_monotonic_increasing
    sheets = pd.read_excel(out / "evaluation.xlsx", sheet_name=None, engine="openpyxl")
    assert {"评估项目", "区定目标", "问题清单", "各校指标", "差异系数"} <= set(sheets)


def test_cli_invalid_optional_table_exits_2(tmp_path):
    bad = tmp_path / "2022Q4"
    shutil.copytree(period("2022Q4"), bad)
    district = bad / "district.csv"
    text = district.read_text(encoding="utf-8")
    district.write_text(text.replace("quota_allocation_percent,2022,52", "quota_allocation_percent,2022,152"), encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("evaluate", str(bad), "--out", str(out))
    assert proc.returncode == 2
    assert "district.csv" in proc.stderr and "152" in proc.stderr and "between 0 and 100" in proc.stderr
    assert not out.exists()
