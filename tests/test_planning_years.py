"""The planner over several years: yearly caps from the standard, the rotation's
key-teacher share (plan item 8), and infeasibility that names the blocking constraint."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_period
from test_gaps import district, primary_school

from balance_metrics import load_period, load_standard
from balance_metrics.analysis.planning import planning_actions, plan_remediation

STD = load_standard("national-2017")
COST = {a.name: float(a.unit_cost) for a in planning_actions(STD).values()}
ALL = list(COST)


def only(*names: str) -> list[str]:
    return [n for n in ALL if n not in names]


def capped_standard(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "caps.toml"
    path.write_text(f'extends = "national-2017"\nname = "caps"\n{body}', encoding="utf-8")
    return path


CAPS = '[planning.annual_caps.hiring]\nlimit = "1"\n[planning.annual_caps.capital]\nlimit = "100000"\n'


@pytest.fixture(scope="module")
def needs_three_key_teachers(tmp_path_factory) -> Path:
    # A: no key teacher (R2 0 < floor 0.85): 3 hires bring it to 1.0. B: R2 2.0.
    tables = district(primary_school("A", 300, key_teachers=0), primary_school("B", 300))
    return write_period(tmp_path_factory.mktemp("key") / "2022Q4", tables)


def test_yearly_hiring_cap_spreads_the_hires_over_the_years(tmp_path, needs_three_key_teachers):
    ds = load_period(needs_three_key_teachers)
    std = capped_standard(tmp_path, CAPS)
    plan = plan_remediation(ds, std, exclude_actions=only("hire_key_teacher"), deadline=2024)
    hires = plan.items[plan.items["column"] == "key_teachers"]
    assert plan.passed and plan.cost == 3 * COST["hire_key_teacher"]
    assert hires.groupby("year")["amount"].sum().to_dict() == {2022: 1.0, 2023: 1.0, 2024: 1.0}
    # Every row of an action carries its year; the cost is in the year it is spent.
    assert set(plan.items["year"]) == {2022, 2023, 2024}
    assert plan.items.groupby("year")["cost"].sum().to_dict() == {y: COST["hire_key_teacher"] for y in (2022, 2023, 2024)}
    schedule = plan.schedule()
    assert schedule[["year", "action", "amount", "cost"]].values.tolist() == [
        [y, "hire_key_teacher", 1.0, COST["hire_key_teacher"]] for y in (2022, 2023, 2024)
    ]


def test_without_caps_everything_happens_in_the_first_year(needs_three_key_teachers):
    ds = load_period(needs_three_key_teachers)
    plan = plan_remediation(ds, "national-2017", exclude_actions=only("hire_key_teacher"), deadline=2024)
    assert plan.passed and set(plan.items["year"]) == {2022}
    assert plan.items.loc[plan.items["column"] == "key_teachers", "amount"].sum() == 3


def test_yearly_capital_cap_counts_cost(tmp_path):
    # A: 4 multimedia rooms for 300 pupils (R7 1.33 < floor 1.955): needs 2 more rooms, 80 000 元 each.
    tables = district(primary_school("A", 300, multimedia_classrooms=4), primary_school("B", 300))
    ds = load_period(write_period(tmp_path / "2022Q4", tables))
    std = capped_standard(tmp_path, CAPS)
    plan = plan_remediation(ds, std, exclude_actions=only("equip_multimedia_room"), deadline=2023)
    assert plan.passed
    assert plan.items.groupby("year")["amount"].sum().to_dict() == {2022: 1.0, 2023: 1.0}
    assert (plan.items.groupby("year")["cost"].sum() <= 100_000).all()


def test_a_cap_that_blocks_every_plan_is_named(tmp_path, needs_three_key_teachers):
    ds = load_period(needs_three_key_teachers)
    std = capped_standard(tmp_path, CAPS)
    plan = plan_remediation(ds, std, exclude_actions=only("hire_key_teacher"), deadline=2023)
    assert plan.status == "infeasible" and not plan.passed and plan.items.empty
    blocking = plan.blocking.set_index("constraint")
    # Lifting the hiring cap, bringing back an excluded action or a longer deadline each allow a plan;
    # the capital cap and the other exclusions do not.
    named = set(blocking.index[blocking["kind"] != "section"])
    assert "planning.annual_caps.hiring" in named and "deadline" in named
    assert "planning.annual_caps.capital" not in named
    assert "年度招聘专任教师" in blocking.at["planning.annual_caps.hiring", "detail"]
    assert "不超过1人/年" in blocking.at["planning.annual_caps.hiring", "detail"]
    assert ("section", "A") in set(zip(plan.blocking["kind"], plan.blocking["school_id"]))
    assert "planning.annual_caps.hiring" in plan.message


def key_share_district(tmp_path: Path) -> Path:
    """A lacks degree teachers (R1 3.33 < floor 3.57); X has 30. Both hold exactly 3 key teachers
    (R2 1.0): giving one away drops either below the R2 floor, so no key teacher can rotate."""
    tables = district(
        primary_school("A", 300, teachers_above_degree=10, key_teachers=3),
        primary_school("X", 300, teachers_above_degree=30, key_teachers=3),
    )
    return write_period(tmp_path / "2022Q4", tables)


def test_key_teacher_share_of_rotation_binds(tmp_path):
    ds = load_period(key_share_district(tmp_path))
    free = capped_standard(tmp_path, '[planning.rotation.min_share]\nkey_teachers = "0"\n')
    without_rule = plan_remediation(ds, free)
    # Without the 20 % rule one teacher with the required degree (not a key teacher) rotates X -> A.
    assert without_rule.passed and without_rule.cost == COST["rotate_degree_teacher"]
    moved = without_rule.items[without_rule.items["amount"] > 0]
    assert set(moved["school_id"]) == {"A"} and moved.loc[moved["column"] == "teachers_above_degree", "amount"].sum() == 1
    assert "key_teachers" not in set(moved["column"])
    # With it (national-2017: key teachers ≥ 20 % of those rotated) a degree-teacher move needs a
    # key-teacher move, which neither school can give: the plan hires instead.
    plan = plan_remediation(ds, "national-2017")
    assert plan.passed and plan.cost == COST["hire_degree_teacher"]
    assert not plan.items["action"].str.startswith("rotate").any()


def test_key_teacher_share_holds_per_year(tmp_path):
    # Give X spare key teachers: rotation is back, with ≥ 20 % key teachers each year.
    tables = district(
        primary_school("A", 300, teachers_above_degree=10, key_teachers=3),
        primary_school("X", 300, teachers_above_degree=30, key_teachers=9),
    )
    ds = load_period(write_period(tmp_path / "2022Q4", tables))
    plan = plan_remediation(ds, "national-2017", deadline=2023)
    assert plan.passed and plan.items["action"].str.startswith("rotate").all()
    received = plan.items[plan.items["amount"] > 0]
    per_year = received.pivot_table(index="year", columns="column", values="amount", aggfunc="sum").fillna(0)
    assert (per_year["key_teachers"] >= 0.2 * per_year["teachers"]).all()


def test_prefer_rural_is_a_second_stage_with_the_cost_held(tmp_path):
    # R2: U and R at 1.0, X at 4.0 (CV 0.71 > 0.5). Two key teachers rotating out of X pass the CV
    # whichever of U and R receives them (1+1, 2+0 or 0+2; one is not enough): equal cost.
    tables = district(
        primary_school("U", 300, "urban", key_teachers=3),
        primary_school("R", 300, "rural", key_teachers=3),
        primary_school("X", 300, "urban", key_teachers=12),
    )
    ds = load_period(write_period(tmp_path / "2022Q4", tables))
    cheapest = plan_remediation(ds, "national-2017", gap=0)
    rural = plan_remediation(ds, "national-2017", prefer_rural=True, gap=0)
    assert cheapest.passed and rural.passed
    assert rural.cost == cheapest.cost == 2 * COST["rotate_key_teacher"]
    received = rural.items[(rural.items["amount"] > 0) & (rural.items["column"] == "key_teachers")]
    assert received.groupby("school_id")["amount"].sum().to_dict() == {"R": 2.0}


def test_the_yearly_rotation_cap_is_named_when_it_blocks(tmp_path):
    # R2: A 0 (floor 0.85), X 3.67. With rotation alone A needs 3 key teachers (1.0 : 2.67, CV 0.45);
    # each school gives up at most 2 teachers a year (10 % of 20): one year is too short.
    tables = district(
        primary_school("A", 300, key_teachers=0, teachers=20, certified_teachers=20),
        primary_school("X", 300, key_teachers=11, teachers=20, certified_teachers=20),
    )
    ds = load_period(write_period(tmp_path / "2022Q4", tables))
    rotation_only = [n for n in ALL if not n.startswith("rotate_")]
    plan = plan_remediation(ds, "national-2017", exclude_actions=rotation_only)
    assert plan.status == "infeasible"
    named = set(plan.blocking["constraint"])
    assert {"planning.rotation.max_out_share_per_year", "deadline"} <= named
    assert "每校每年交流轮岗教师不超过其教师数的10%" in plan.message
    two_years = plan_remediation(ds, "national-2017", exclude_actions=rotation_only, deadline=2023)
    assert two_years.passed and two_years.cost == 3 * COST["rotate_key_teacher"]
    moved = two_years.items[(two_years.items["column"] == "key_teachers") & (two_years.items["amount"] > 0)]
    assert moved.groupby("year")["amount"].sum().to_dict() == {2022: 2.0, 2023: 1.0}


def test_cli_writes_the_year_and_names_the_blocking_cap(tmp_path, needs_three_key_teachers):
    import pandas as pd
    from test_cli import run_cli

    std = capped_standard(tmp_path, CAPS)
    common = ["--standard", str(std), "--exclude-actions", *only("hire_key_teacher")]
    ok = run_cli("plan", str(needs_three_key_teachers), *common, "--deadline", "2024", "--out", str(tmp_path / "ok"))
    assert ok.returncode == 0, ok.stderr
    plan = pd.read_csv(tmp_path / "ok" / "plan.csv")
    assert plan.loc[plan["column"] == "key_teachers"].groupby("year")["amount"].sum().to_dict() == {2022: 1, 2023: 1, 2024: 1}
    blocked = run_cli("plan", str(needs_three_key_teachers), *common, "--deadline", "2023", "--out", str(tmp_path / "no"))
    assert blocked.returncode == 1, blocked.stderr
    assert "年度招聘专任教师" in blocked.stdout and "[planning.annual_caps.hiring]" in blocked.stdout
    sheet = pd.read_excel(tmp_path / "no" / "plan.xlsx", sheet_name="阻碍达标的约束", engine="openpyxl")
    assert "planning.annual_caps.hiring" in set(sheet["约束"]) and "年度上限" in set(sheet["类别"])


def test_a_later_stage_without_a_solution_keeps_the_plan_found(monkeypatch, tmp_path, needs_three_key_teachers):
    # If a lexicographic stage ends with nothing (its start refused, no time), the cost stage's
    # plan is kept (SCIP keeps it across freeTransform; PlanningModel.fixed if it did not):
    # simulate it by letting only the first solve of the model run and refusing the start.
    from pyscipopt import Model

    from balance_metrics.analysis.planning import model as planning_model

    calls = []

    class FirstSolveOnly(Model):
        def optimize(self):
            calls.append(len(calls))
            if len(calls) == 1:
                super().optimize()

        def addSol(self, solution, free=True):  # the start is refused
            self.freeSol(solution)
            return False

    ds = load_period(needs_three_key_teachers)
    std = capped_standard(tmp_path, CAPS)  # hiring capped: the years are a real choice, the last stage runs
    monkeypatch.setattr(planning_model, "Model", FirstSolveOnly)
    kept = plan_remediation(ds, std, exclude_actions=only("hire_key_teacher"), deadline=2024)
    assert len(calls) == 2  # the cost stage, then the earliest-years stage that found nothing
    assert kept.passed and kept.cost == 3 * COST["hire_key_teacher"]
    assert kept.items.loc[kept.items["column"] == "key_teachers"].groupby("year")["amount"].sum().le(1).all()
