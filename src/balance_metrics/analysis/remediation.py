"""After remediation: every section and each district value and 差异系数 once a plan's
additions are made (the scenario side of :mod:`balance_metrics.analysis.gaps`).

Exact: the sections' numerators and shares come from the evaluation itself
(:meth:`~balance_metrics.engine.resources.ResourceEvaluation.exact_numerators`),
the additions are exact, and the section rule and district rule are the
engine's own (:func:`~balance_metrics.engine.verdicts.judge_sections`,
:func:`~balance_metrics.engine.balance.district_balance`).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import pandas as pd

from balance_metrics.analysis.gaps import ZERO, _by_stage_indicator, remediation_items
from balance_metrics.engine.balance import district_balance
from balance_metrics.engine.indicators import section_value
from balance_metrics.engine.resources import ResourceEvaluation
from balance_metrics.engine.verdicts import judge_sections
from balance_metrics.standard.loader import Standard, exact

SCENARIO_COLUMNS = [
    "stage", "indicator", "name", "plan", "sections", "students", "added", "district_value_before",
    "district_value_after", "cv_before", "cv_after", "limit", "passed_before", "passed_after",
    "sections_met_before", "sections_met_after", "sections_passed_before", "sections_passed_after",
]


def _plan_items(
    evaluation: ResourceEvaluation, plan: str | pd.DataFrame, costs: Mapping[str, Any] | None
) -> pd.DataFrame:
    """school_id, stage, indicator, add (Fraction) from a plan name or frame."""
    if isinstance(plan, str):
        items = remediation_items(evaluation, plan, costs)
    elif "plan" in plan.columns:  # rows of cheapest_remediation, perhaps a subset
        items = pd.DataFrame(
            [
                {"school_id": r["school_id"], "stage": r["stage"], "indicator": ind, "add": amount}
                for r in plan.to_dict("records")
                for ind, amount in r["plan"].items()
            ],
            columns=["school_id", "stage", "indicator", "add"],
        )
    else:
        missing = {"school_id", "stage", "indicator", "add"} - set(plan.columns)
        if missing:
            raise ValueError(f"a plan frame needs columns school_id, stage, indicator, add; lacks {sorted(missing)}")
        items = plan
    items = items[["school_id", "stage", "indicator", "add"]].copy()
    # Amounts are whole units or 0.01 m²: their shortest decimal form is exact.
    items["add"] = items["add"].map(exact)
    return items


def _deltas(rows: pd.DataFrame, items: pd.DataFrame, standard: Standard, shares: list[Fraction]) -> list[Fraction]:
    """Each section × indicator row's gain from the plan's additions.

    Teachers go to the section named. A facility goes to the school and every
    section of it gains ``addition × share``; when a plan adds the same
    facility for two sections of one school, the larger addition serves both.
    """
    section_add: dict[tuple[str, str, str], Fraction] = {}
    school_add: dict[tuple[str, str], Fraction] = {}
    for item in items.to_dict("records"):
        if standard.indicator(item["indicator"])["basis"] == "facility":
            key = (item["school_id"], item["indicator"])
            school_add[key] = max(school_add.get(key, ZERO), item["add"])
        else:
            key3 = (item["school_id"], item["stage"], item["indicator"])
            section_add[key3] = section_add.get(key3, ZERO) + item["add"]
    deltas = []
    for row, share in zip(rows.to_dict("records"), shares):
        if standard.indicator(row["indicator"])["basis"] == "facility":
            deltas.append(school_add.get((row["school_id"], row["indicator"]), ZERO) * share)
        else:
            deltas.append(section_add.get((row["school_id"], row["stage"], row["indicator"]), ZERO))
    return deltas


def remediated_sections(
    evaluation: ResourceEvaluation, plan: str | pd.DataFrame = "cheapest", costs: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Every section × indicator after a plan's additions, judged again.

    Parameters
    ----------
    evaluation : ResourceEvaluation
    plan : {"cheapest", "threshold"} or DataFrame
        A plan name (see :func:`remediation_items`), rows of
        :func:`cheapest_remediation` (e.g. only the schools to be fixed), or a
        frame with school_id, stage, indicator, add (school-level amount in the
        indicator's unit).
    costs : mapping, optional
        Unit-cost overrides (元), used when ``plan`` is a name.

    Returns
    -------
    DataFrame
        school_id, school_name, school_type, area_type, stage, students,
        indicator, name, unit, added (section's gain, unit of the numerator),
        numerator_before, numerator_after, value_before, value_after,
        threshold, floor, met_before, met_after, above_floor_after,
        passed_before and passed_after (the section's verdict).
    """
    std = evaluation.standard
    rows = evaluation.sections.reset_index(drop=True)
    deltas = _deltas(rows, _plan_items(evaluation, plan, costs), std, evaluation.exact_shares())
    numerators = [n + d for n, d in zip(evaluation.exact_numerators(), deltas)]
    values = [
        section_value(n, exact(std.indicator(ind)["scale"]), int(s))
        for n, ind, s in zip(numerators, rows["indicator"], rows["students"])
    ]
    out = rows[["school_id", "school_name", "school_type", "area_type", "stage", "students", "indicator", "name", "unit"]].copy()
    out["added"] = [float(d) for d in deltas]
    out["numerator_before"] = rows["numerator"]
    out["numerator_after"] = [float(n) for n in numerators]
    out["value_before"] = rows["value"]
    out["value_after"] = [float(v) for v in values]
    out["threshold"], out["floor"], out["met_before"] = rows["threshold"], rows["floor"], rows["met"]
    judged, verdicts = judge_sections(out.assign(value=out["value_after"], value_exact=values), std)
    out["met_after"], out["above_floor_after"] = judged["met"].to_numpy(), judged["above_floor"].to_numpy()
    before = evaluation.verdicts.set_index(["school_id", "stage"])["passed"]
    keys = pd.MultiIndex.from_frame(out[["school_id", "stage"]])
    out["passed_before"] = before.reindex(keys).to_numpy(bool)
    out["passed_after"] = verdicts.set_index(["school_id", "stage"])["passed"].reindex(keys).to_numpy(bool)
    return out


def balance_after_remediation(
    evaluation: ResourceEvaluation, plan: str | pd.DataFrame = "cheapest", costs: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Scenario: each stage × indicator's district value and 差异系数 after a plan.

    Parameters
    ----------
    evaluation : ResourceEvaluation
    plan : {"cheapest", "threshold"} or DataFrame
        See :func:`remediated_sections`.
    costs : mapping, optional
        Unit-cost overrides (元).

    Returns
    -------
    DataFrame
        stage, indicator, name, plan, sections, students, added (Σ section
        gains, unit of the numerator), district_value_before/after (ratio of
        totals), cv_before/after (pupil-weighted), limit, passed_before/after,
        sections_met_before/after (indicator at threshold) and
        sections_passed_before/after (per-section rule, whole stage).
    """
    std = evaluation.standard
    after = remediated_sections(evaluation, plan, costs)
    # The district rule itself (ratio of totals, pupil-weighted CV, limit and
    # rounding) is balance.district_balance, applied to the remediated rows.
    judged = after.rename(
        columns={"numerator_after": "numerator", "value_after": "value", "met_after": "met", "above_floor_after": "above_floor"}
    )
    now = district_balance(judged, std).set_index(["stage", "indicator"])
    before = evaluation.balance.set_index(["stage", "indicator"])
    out = []
    for (stage, ind), part in _by_stage_indicator(after, std):
        key = (stage, ind)
        out.append(
            {
                "stage": stage,
                "indicator": ind,
                "name": part["name"].iloc[0],
                "plan": plan if isinstance(plan, str) else "custom",
                "sections": len(part),
                "students": int(part["students"].sum()),
                "added": float(part["added"].sum()),
                "district_value_before": before.at[key, "district_value"],
                "district_value_after": now.at[key, "district_value"],
                "cv_before": before.at[key, "cv"],
                "cv_after": now.at[key, "cv"],
                "limit": now.at[key, "limit"],
                "passed_before": bool(before.at[key, "passed"]),
                "passed_after": bool(now.at[key, "passed"]),
                "sections_met_before": int(part["met_before"].sum()),
                "sections_met_after": int(part["met_after"].sum()),
                "sections_passed_before": int(part["passed_before"].sum()),
                "sections_passed_after": int(part["passed_after"].sum()),
            }
        )
    return pd.DataFrame(out, columns=SCENARIO_COLUMNS)
