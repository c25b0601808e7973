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

import numpy as np
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


def _deltas(rows: pd.DataFrame, items: pd.DataFrame, standard: Standard) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each section × indicator row's gain from the plan's additions, as whole columns.

    Teachers go to the section named. A facility goes to the school and every
    section of it gains ``addition × share``; when a plan adds the same
    facility for two sections of one school, the larger addition serves both.

    Returns
    -------
    (float gains, exact section additions, exact school additions)
        The float gain of every row (``share`` as a float), and per row the exact
        (Fraction) section addition and school addition (× the exact share still
        to apply), for the rows a verdict needs exactly.
    """
    facility = {ind for ind in standard.indicator_ids if standard.indicators[ind].basis == "facility"}
    is_facility = items["indicator"].isin(facility)
    on_section = items[~is_facility].groupby(["school_id", "stage", "indicator"])["add"].agg(lambda a: sum(a, ZERO))
    on_school = items[is_facility].groupby(["school_id", "indicator"])["add"].agg(max)
    section_keys = pd.MultiIndex.from_frame(rows[["school_id", "stage", "indicator"]])
    school_keys = pd.MultiIndex.from_frame(rows[["school_id", "indicator"]])
    section_add = on_section.reindex(section_keys).to_numpy(object)
    school_add = on_school.reindex(school_keys).to_numpy(object)
    row_is_facility = rows["indicator"].isin(facility).to_numpy()
    section_add = np.where(~row_is_facility & pd.notna(section_add), section_add, ZERO)
    school_add = np.where(row_is_facility & pd.notna(school_add), school_add, ZERO)
    gains = section_add.astype(float) + school_add.astype(float) * rows["share"].to_numpy(float)
    return gains, section_add, school_add


def remediated_sections(
    evaluation: ResourceEvaluation, plan: str | pd.DataFrame = "cheapest", costs: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Every section × indicator after a plan's additions, judged again.

    Whole-column: gains, numerators and values in floating point; the verdicts
    are the engine's (:func:`~balance_metrics.engine.verdicts.judge_sections`),
    which re-checks the rows within rounding distance of a bound exactly, from
    the evaluation's exact numerators and shares and the plan's exact additions.

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
    gains, section_add, school_add = _deltas(rows, _plan_items(evaluation, plan, costs), std)
    scales = {ind: std.indicators[ind].scale for ind in std.indicator_ids}
    scale = rows["indicator"].map({k: float(v) for k, v in scales.items()}).to_numpy(float)
    students = rows["students"].to_numpy(float)
    numerators = rows["numerator"].to_numpy(float) + gains
    values = section_value(numerators, scale, students)
    magnitude = rows["magnitude"].to_numpy(float) if "magnitude" in rows else np.abs(rows["value"].to_numpy(float))
    indicators, counts = rows["indicator"].to_numpy(object), rows["students"].to_numpy(int)

    def exact_values(positions: np.ndarray) -> list[Fraction]:
        before = evaluation.exact_numerators(positions)
        shares = evaluation.exact_shares(positions)
        return [
            section_value(n + section_add[p] + school_add[p] * share, scales[indicators[p]], int(counts[p]))
            for n, share, p in zip(before, shares, positions)
        ]

    out = rows[["school_id", "school_name", "school_type", "area_type", "stage", "students", "indicator", "name", "unit"]].copy()
    out["added"] = gains
    out["numerator_before"] = rows["numerator"]
    out["numerator_after"] = numerators
    out["value_before"] = rows["value"]
    out["value_after"] = values
    out["threshold"], out["floor"], out["met_before"] = rows["threshold"], rows["floor"], rows["met"]
    judged, verdicts = judge_sections(
        out.assign(value=values, magnitude=magnitude + np.abs(gains) * scale / students), std, exact_values
    )
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
