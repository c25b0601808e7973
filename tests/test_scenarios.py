"""Scenarios: changes applied in memory, before/after of verdicts and CVs, one error listing every problem."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_period
from test_gaps import district, primary_school

from balance_metrics import load_period
from balance_metrics.analysis.planning import plan_remediation
from balance_metrics.analysis.scenarios import apply_changes, apply_scenario
from balance_metrics.common.errors import DataValidationError


@pytest.fixture
def ds(tmp_path):
    tables = district(
        primary_school("A", 300),
        primary_school("B", 300, key_teachers=2),  # R2 0.67 below the floor: fails
        primary_school("C", 200),
    )
    return load_period(write_period(tmp_path / "2022Q4", tables))


def changes(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows)


def test_add_and_move_change_only_what_they_name(ds):
    result = apply_scenario(ds, changes(
        {"action": "add", "school_id": "B", "stage": "primary", "column": "key_teachers", "amount": 1},
        {"action": "move", "school_id": "A", "stage": "primary", "column": "students", "amount": 40, "to_school_id": "C"},
    ), "national-2017")
    sec = result.dataset.sections.set_index("school_id")
    assert (sec.at["A", "students"], sec.at["C", "students"], sec.at["B", "key_teachers"]) == (260, 240, 3)
    assert ds.sections.set_index("school_id").at["A", "students"] == 300  # the input is untouched
    v = result.verdicts.set_index("school_id")
    assert (v.at["B", "passed_before"], v.at["B", "passed_after"]) == (False, True)
    assert bool(v.at["B", "changed"]) and not bool(v.at["A", "changed"])
    assert result.summary().set_index("measure").loc["sections_passed"].tolist() == [2, 3]
    r1 = result.balance.set_index("indicator").loc["R1"]
    assert r1["cv_after"] != r1["cv_before"]  # moving pupils changes values


def test_every_problem_is_listed_once(ds):
    with pytest.raises(DataValidationError) as err:
        apply_changes(ds, changes(
            {"action": "move", "school_id": "A", "stage": "primary", "column": "students", "amount": 301, "to_school_id": "C"},
            {"action": "add", "school_id": "ZZ", "stage": "primary", "column": "students", "amount": 1},
            {"action": "add", "school_id": "A", "stage": "primary", "column": "pupils", "amount": 1},
            {"action": "close", "school_id": "A", "to_school_id": "QQ"},
        ), "what-if.csv")
    problems = err.value.problems
    assert problems["row"].tolist() == [1, 2, 3, 4]
    assert "has 300 of students" in problems.loc[0, "rule"]
    assert problems["value"].tolist()[1:] == ["ZZ", "pupils", "QQ"]
    assert set(problems["file"]) == {"what-if.csv"}


def test_close_merge_split_and_open(ds):
    closed = apply_changes(ds, changes({"action": "close", "school_id": "C", "to_school_id": "A"}))
    assert "C" not in set(closed.schools["school_id"])
    assert closed.sections.set_index("school_id").at["A", "students"] == 500
    assert closed.facilities.set_index("school_id").at["A", "teaching_aux_area_m2"] == 2100.0  # C's rooms given up

    merged = apply_changes(ds, changes({"action": "merge", "school_id": "C", "to_school_id": "A"}))
    assert merged.facilities.set_index("school_id").at["A", "teaching_aux_area_m2"] == 2100.0 + 1400.0

    split = apply_changes(ds, changes({"action": "split", "school_id": "A", "to_school_id": "A2", "amount": 0.25}))
    sec = split.sections.set_index("school_id")
    assert (sec.at["A", "students"], sec.at["A2", "students"]) == (225, 75)
    assert split.sections["teachers"].sum() == ds.sections["teachers"].sum()

    opened = apply_changes(ds, changes(
        {"action": "open", "school_id": "N", "school_name": "新校", "school_type": "primary", "area_type": "rural"},
        {"action": "add", "school_id": "N", "stage": "primary", "column": "students", "amount": 100},
        {"action": "move", "school_id": "A", "stage": "primary", "column": "teachers", "amount": 5, "to_school_id": "N"},
    ))
    assert opened.sections.set_index("school_id").at["N", "students"] == 100


def test_a_plan_is_a_scenario(ds, tmp_path):
    plan = plan_remediation(ds, "national-2017")
    assert plan.passed
    result = apply_scenario(ds, plan.items, "national-2017")
    assert result.passed
    pd.testing.assert_frame_equal(result.after.balance, plan.after.balance)
    toml = tmp_path / "s.toml"
    toml.write_text('[[change]]\naction = "add"\nschool_id = "B"\nstage = "primary"\ncolumn = "key_teachers"\namount = 1\n',
                    encoding="utf-8")
    from_file = apply_scenario(ds, toml, "national-2017", items=True)
    assert from_file.verdicts.set_index("school_id").at["B", "passed_after"]
    assert "RS" in set(from_file.items["id"])


def test_rotating_a_teacher_moves_every_attribute_they_carry(ds):
    result = apply_scenario(ds, changes(
        {"action": "rotate", "school_id": "A", "stage": "primary", "column": "key_teacher", "amount": 2, "to_school_id": "B"},
    ), "national-2017")
    before, after = ds.sections.set_index("school_id"), result.dataset.sections.set_index("school_id")
    for column in ("teachers", "teachers_above_degree", "key_teachers", "certified_teachers"):
        assert (after.at["A", column], after.at["B", column]) == (before.at["A", column] - 2, before.at["B", column] + 2)
        assert after[column].sum() == before[column].sum()
    assert after.at["B", "pe_arts_teachers"] == before.at["B", "pe_arts_teachers"]
    with pytest.raises(DataValidationError, match="unknown rotation kind"):
        apply_scenario(ds, changes({"action": "rotate", "school_id": "A", "stage": "primary", "column": "wizard",
                                    "amount": 1, "to_school_id": "B"}), "national-2017")


def test_scenario_cli_lists_every_problem_and_writes_before_after(tmp_path):
    from conftest import SAMPLE
    from test_cli import run_cli

    bad = tmp_path / "bad.csv"
    bad.write_text("action,school_id,stage,column,amount,to_school_id\n"
                   "move,BC-P01,primary,students,99999,BC-P02\nadd,NOPE,primary,students,1,\n", encoding="utf-8")
    result = run_cli("scenario", str(SAMPLE / "2022Q4"), str(bad), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "NOPE" in result.stderr and "99999" in result.stderr
    assert "Traceback" not in result.stderr
    good = tmp_path / "good.toml"
    good.write_text('[[change]]\naction = "rotate"\nschool_id = "BC-P04"\nstage = "primary"\ncolumn = "key_teacher"\n'
                    'amount = 5\nto_school_id = "BC-P15"\n', encoding="utf-8")
    result = run_cli("scenario", str(SAMPLE / "2022Q4"), str(good), "--standard", "beichen-2021", "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    verdicts = pd.read_csv(tmp_path / "o" / "verdicts.csv")
    row = verdicts.set_index(["school_id", "stage"]).loc[("BC-P15", "primary")]
    assert not row["passed_before"] and row["passed_after"]
