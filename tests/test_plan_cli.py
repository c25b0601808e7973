"""Done-when test of the planner: ``balance-metrics plan --write-after`` on the sample."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE
from test_cli import run_cli

from balance_metrics import evaluate_resources, load_period, load_standard
from balance_metrics.analysis.planning import planning_actions
from balance_metrics.standard.loader import exact

STANDARD = "beichen-2021"


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> tuple[Path, Path, subprocess_result]:  # type: ignore[name-defined]
    root = tmp_path_factory.mktemp("plan")
    result = run_cli("plan", str(SAMPLE / "2022Q4"), "--standard", STANDARD, "--out", str(root / "out"),
                     "--write-after", str(root / "after"))
    return root / "out", root / "after" / "2022Q4", result


subprocess_result = object


def _exact(value) -> Fraction:
    return exact(float(value))


def test_after_folder_passes_every_rule(planned):
    out, after, result = planned
    assert result.returncode == 0, result.stderr
    evaluation = evaluate_resources(load_period(after), STANDARD)
    assert evaluation.verdicts["passed"].all()
    assert (evaluation.balance["cv"] <= evaluation.balance["limit"]).all() and evaluation.balance["passed"].all()
    # The CLI's own re-evaluation of the folder says the same.
    check = run_cli("evaluate", str(after), "--standard", STANDARD, "--out", str(out.parent / "eval"))
    assert check.returncode == 0 and "45/45 sections pass, 7/7 CVs" in check.stdout and "20/20 sections pass" in check.stdout


def test_folders_differ_exactly_by_the_plan(planned):
    out, after, _ = planned
    plan = pd.read_csv(out / "plan.csv", keep_default_na=False)
    sheets = pd.read_excel(out / "plan.xlsx", sheet_name=None, engine="openpyxl")
    assert set(sheets) >= {"达标路径", "汇总", "差异系数", "实施后差异系数"}
    # The workbook speaks Chinese (labels from reporting.labels); plan.csv keeps the canonical names
    # because it is also a scenario file.
    sheet = sheets["达标路径"]
    assert {"年度", "学校代码", "措施", "数据列", "数量", "费用（元）"} <= set(sheet.columns)
    assert sheet["费用（元）"].sum() == pytest.approx(plan["cost"].sum())
    assert set(sheet["年度"]) == set(plan["year"]) == {2022}
    before, later = load_period(SAMPLE / "2022Q4"), load_period(after)
    for table, keys in (("sections", ["school_id", "stage"]), ("facilities", ["school_id"])):
        b = before.tables[table].set_index(keys)
        a = later.tables[table].set_index(keys)
        numeric = [c for c in b.columns if not c.startswith("_") and pd.api.types.is_numeric_dtype(b[c])]
        diff = {}
        for column in numeric:
            for key in b.index:
                delta = _exact(a.at[key, column]) - _exact(b.at[key, column]) if pd.notna(b.at[key, column]) else 0
                if delta:
                    diff[(key if isinstance(key, tuple) else (key,), column)] = delta
        rows = plan[plan["table"] == table]
        expected = {}
        for r in rows.itertuples():
            key = (r.school_id, r.stage) if table == "sections" else (r.school_id,)
            expected[(key, r.column)] = expected.get((key, r.column), 0) + _exact(r.amount)
        assert diff == {k: v for k, v in expected.items() if v}, table
    # Nothing else changed.
    for name in ("schools", "classes", "finance"):
        pd.testing.assert_frame_equal(
            before.tables[name].drop(columns=["_source", "_row"]).reset_index(drop=True),
            later.tables[name].drop(columns=["_source", "_row"]).reset_index(drop=True),
        )


def test_moves_net_to_zero_and_cost_is_priced_by_the_table(planned):
    out, _, _ = planned
    plan = pd.read_csv(out / "plan.csv", keep_default_na=False)
    moves = plan[plan["move_id"] != ""]
    assert not moves.empty  # rotation is the cheap lever on the sample's R2
    assert moves.groupby(["district_id", "stage", "column"])["amount"].sum().eq(0).all()
    assert moves.groupby(["move_id", "column"])["amount"].sum().eq(0).all()
    std = load_standard(STANDARD)
    costs = {k: _exact(v["cost"]) for k, v in std.get("remediation.unit_costs").items()}
    actions = planning_actions(std)
    expected = Fraction(0)
    for r in plan.itertuples():
        action = actions[r.action]
        if r.column != action.primary:
            continue
        if r.move_id:
            expected += costs["rotation"] * max(_exact(r.amount), 0)
        else:
            expected += costs[action.resource] * _exact(r.amount)
    assert _exact(plan["cost"].sum()) == expected
    # Rotation conserves teachers in every stage.
    teachers = moves[moves["column"] == "teachers"]
    assert teachers["amount"].sum() == 0


def test_bad_option_is_one_clear_error(tmp_path):
    result = run_cli("plan", str(SAMPLE / "2022Q4"), "--standard", STANDARD, "--out", str(tmp_path),
                     "--exclude-schools", "NOPE", "--exclude-actions", "fly")
    assert result.returncode == 2
    assert "NOPE" in result.stderr and "fly" in result.stderr and "Traceback" not in result.stderr
