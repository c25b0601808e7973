"""analysis.remediation is whole-column but exact at the thresholds: against a
plain-Fraction oracle (one row at a time) on plans planted on the bounds."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from conftest import SAMPLE

from balance_metrics import evaluate_resources, load_period, load_standard
from balance_metrics.analysis.gaps import remediation_items
from balance_metrics.analysis.remediation import remediated_sections
from balance_metrics.standard.loader import exact


def oracle(evaluation, items) -> list[tuple[bool, bool]]:
    """(met, above floor) of every row after the plan, each computed in Fractions."""
    std = evaluation.standard
    rows = evaluation.sections.reset_index(drop=True)
    section_add, school_add = {}, {}
    for item in items.to_dict("records"):
        add = exact(item["add"])
        if std.indicators[item["indicator"]].basis == "facility":
            key = (item["school_id"], item["indicator"])
            school_add[key] = max(school_add.get(key, Fraction(0)), add)
        else:
            key = (item["school_id"], item["stage"], item["indicator"])
            section_add[key] = section_add.get(key, Fraction(0)) + add
    result = []
    for row, n, share in zip(rows.to_dict("records"), evaluation.exact_numerators(), evaluation.exact_shares()):
        ind, stage = row["indicator"], row["stage"]
        if std.indicators[ind].basis == "facility":
            n += school_add.get((row["school_id"], ind), Fraction(0)) * share
        else:
            n += section_add.get((row["school_id"], stage, ind), Fraction(0))
        value = n * std.indicators[ind].scale / int(row["students"])
        result.append((value >= std.threshold(ind, stage), value >= std.floor(ind, stage)))
    return result


@pytest.mark.parametrize("seed", range(6))
def test_whole_column_verdicts_equal_fraction_oracle_on_planted_bounds(district_dir, seed):
    evaluation = evaluate_resources(load_period(district_dir))
    # The threshold plan lands sections on their thresholds; nudge some amounts one step either way.
    items = remediation_items(evaluation, "threshold")[["school_id", "stage", "indicator", "add"]]
    rng = np.random.default_rng(seed)
    nudge = rng.choice([-0.01, 0.0, 0.0, 0.01], size=len(items))
    items = items.assign(add=[round(a + d, 2) for a, d in zip(items["add"], nudge)])
    after = remediated_sections(evaluation, items)
    assert list(zip(after["met_after"], after["above_floor_after"])) == oracle(evaluation, items)


def test_sample_threshold_plan_is_exact():
    evaluation = evaluate_resources(load_period(SAMPLE / "2022Q4"), load_standard("beichen-2021"))
    items = remediation_items(evaluation, "threshold")[["school_id", "stage", "indicator", "add"]]
    after = remediated_sections(evaluation, items)
    assert after["met_after"].all()
    assert list(zip(after["met_after"], after["above_floor_after"])) == oracle(evaluation, items)
