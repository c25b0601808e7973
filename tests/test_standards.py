"""Standards as data: listing, inheritance, overrides changing verdicts."""

from __future__ import annotations

from fractions import Fraction

import pytest

from balance_metrics import StandardError, evaluate_resources, list_standards, load_period, load_standard


def test_builtin_standards_listed():
    names = list_standards()["name"].tolist()
    assert {"national-2017", "tianjin-2021", "beichen-2021"} <= set(names)


def test_local_standards_extend_national():
    beichen = load_standard("beichen-2021")
    assert beichen.chain == ("national-2017", "tianjin-2021", "beichen-2021")
    assert beichen.threshold("R6", "junior") == 2500
    assert beichen.cv_limit("primary") == Fraction(1, 2)


def test_override_file_changes_a_verdict(district_dir, tmp_path):
    dataset = load_period(district_dir)
    base = evaluate_resources(dataset).verdicts.set_index(["school_id", "stage"])
    assert base.loc[("P1", "primary"), "passed"]
    override = tmp_path / "strict.toml"
    override.write_text(
        'name = "strict"\nextends = "beichen-2021"\nversion = "1"\n'
        '[indicators.R1.thresholds]\nprimary = "7.0"\n'
        '[indicators.R2.thresholds]\nprimary = "2.0"\n',
        encoding="utf-8",
    )
    strict = evaluate_resources(dataset, override)
    verdict = strict.verdicts.set_index(["school_id", "stage"]).loc[("P1", "primary")]
    assert not verdict["passed"]
    assert strict.standard.threshold("R3", "primary") == Fraction(9, 10)  # untouched keys survive


def test_override_changes_cv_limit(district_dir, tmp_path):
    override = tmp_path / "cv.toml"
    override.write_text('extends = "national-2017"\n[balance.cv_limits]\nprimary = "0.01"\n', encoding="utf-8")
    result = evaluate_resources(load_period(district_dir), override)
    assert not result.balance[result.balance.stage == "primary"]["passed"].any()


def test_rounding_before_compare_is_configurable(district_dir, tmp_path):
    dataset = load_period(district_dir)
    cv = evaluate_resources(dataset).balance.set_index(["stage", "indicator"]).loc[("primary", "R2"), "cv"]
    limit = f"{cv:.2f}"
    assert float(limit) < cv  # the CV rounds down onto the limit
    unrounded, rounded = tmp_path / "unrounded.toml", tmp_path / "rounded.toml"
    unrounded.write_text(f'extends = "national-2017"\n[balance.cv_limits]\nprimary = "{limit}"\n', encoding="utf-8")
    rounded.write_text(f'extends = "{unrounded}"\n[balance]\ncompare_decimals = 2\n', encoding="utf-8")
    key = ("primary", "R2")
    assert not evaluate_resources(dataset, unrounded).balance.set_index(["stage", "indicator"]).loc[key, "passed"]
    assert evaluate_resources(dataset, rounded).balance.set_index(["stage", "indicator"]).loc[key, "passed"]


def test_unknown_standard_and_cycles(tmp_path):
    with pytest.raises(StandardError, match="unknown standard"):
        load_standard("atlantis-2030")
    loop = tmp_path / "loop.toml"
    loop.write_text(f'extends = "{loop}"\n', encoding="utf-8")
    with pytest.raises(StandardError, match="extends itself"):
        load_standard(loop)


def test_bad_threshold_rejected(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "national-2017"\n[indicators.R1.thresholds]\nprimary = "four"\n', encoding="utf-8")
    with pytest.raises(StandardError, match="expected a number"):
        load_standard(bad)


# -- the standard checked whole at load -------------------------------------------


def _problems(path):
    with pytest.raises(StandardError) as caught:
        load_standard(path)
    return caught.value.problems


def test_bad_standard_lists_every_problem_at_once(tmp_path):
    bad = tmp_path / "local.toml"
    bad.write_text(
        'name = "local"\nextends = "beichen-2021"\nversion = "1"\n'
        '[indicators.R1.thresholds]\nprimary = "four"\n'
        '[items.G9.minimums]\nteachers_happy_percent = "100"\n'
        '[plan_targets.P99]\nname = "新目标"\nmeasure = "district_value"\nitem = "fitness_pass_percent"\n'
        'requirement = "90"\ncomparison = ">="\nunit = "%"\n'
        '[section_rule]\nfloor_factor = "ninety"\n',
        encoding="utf-8",
    )
    problems = _problems(bad)
    by_key = problems.set_index("key")
    assert set(by_key.index) == {
        "indicators.R1.thresholds.primary", "items.G9.minimums", "plan_targets.P99.deadline", "section_rule.floor_factor",
    }
    assert (problems["file"] == str(bad)).all()
    assert by_key.loc["indicators.R1.thresholds.primary", "value"] == "'four'"
    assert "expected a number" in by_key.loc["indicators.R1.thresholds.primary", "rule"]
    assert "unknown district item teachers_happy_percent" in by_key.loc["items.G9.minimums", "rule"]
    assert by_key.loc["plan_targets.P99.deadline", "rule"] == "missing"
    message = str(pytest.raises(StandardError, load_standard, bad).value)
    assert message.startswith(f"4 problem(s) in standard {bad}")


def test_problem_names_the_file_that_set_the_key(tmp_path):
    middle = tmp_path / "middle.toml"
    middle.write_text('extends = "national-2017"\n[balance.cv_limits]\njunior = "low"\n', encoding="utf-8")
    top = tmp_path / "top.toml"
    top.write_text(f'extends = "{middle}"\n[remediation.indicators.R9]\nresource = "teacher"\n', encoding="utf-8")
    problems = _problems(top).set_index("key")
    assert problems.loc["balance.cv_limits.junior", "file"] == str(middle)
    assert problems.loc["remediation.indicators.R9", "file"] == str(top)
    assert "unknown indicator" in problems.loc["remediation.indicators.R9", "rule"]


def test_item_rule_parameters_checked(tmp_path):
    bad = tmp_path / "items.toml"
    bad.write_text(
        'extends = "national-2017"\n'
        '[items.G4.limits]\ncastle = 100\n'
        '[items.S1]\ndecide_on = "mood"\nrequired_groups = ["students", "aliens"]\n'
        '[items.Q9]\nrule = "astrology"\n'
        '[monitoring]\ndeadline = "next year"\n',
        encoding="utf-8",
    )
    problems = _problems(bad).set_index("key")
    assert set(problems.index) == {"items.G4.limits", "items.S1.decide_on", "items.S1.required_groups", "items.Q9.rule",
                                   "monitoring.deadline"}
    assert "unknown school type castle" in problems.loc["items.G4.limits", "rule"]


def test_standard_typed_at_load():
    beichen = load_standard("beichen-2021")
    assert beichen.floor("R4", "primary") == Fraction(45, 10) * Fraction(85, 100)
    assert beichen.items["G7"].params["min_yuan_per_student"] == "10000"
    assert list(beichen.items)[:3] == ["RS", "RC", "G1"] and list(beichen.items)[-1] == "V7"
    assert beichen.plan_targets["P11"].requirement == 2343
    assert str(beichen.plan_targets["P11"].deadline.date()) == "2022-12-31"
    assert beichen.survey.min_percent == 85 and beichen.survey.confidence == Fraction(95, 100)
    assert beichen.remediation.unit_costs["teacher"] == 200000
    assert beichen.monitoring.deadline.year == 2022
    assert load_standard("national-2017").plan_targets == {}


def test_evaluation_implements_exactly_the_rules_the_standard_declares():
    from balance_metrics.evaluation.items import RULES
    from balance_metrics.evaluation.plan_targets import MEASURES
    from balance_metrics.standard.checking import ITEM_RULE_PARAMS, PLAN_MEASURE_PARAMS

    assert set(RULES) == set(ITEM_RULE_PARAMS)
    assert set(MEASURES) == set(PLAN_MEASURE_PARAMS)
