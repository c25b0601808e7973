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
