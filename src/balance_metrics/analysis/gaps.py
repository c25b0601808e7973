"""What each section and the district lack, and the cheapest way to pass.

A section's gap on an indicator is the resource it must gain to reach a target
value (the threshold, or the 85 % floor)::

    gap = target × students / scale − numerator        (≥ 0)

in the indicator's natural unit: teachers (R1–R3), m² (R4, R5), 元 (R6),
multimedia rooms (R7). Teachers belong to a section, so the addition is the gap
rounded up to whole persons. Facilities (R4–R7) belong to the whole school and
a combined school's totals are shared out by weighted enrolment (STANDARD.md
§4), so for the section to gain ``gap`` the school must add ``gap ÷ share``
(rounded up to whole rooms, 0.01 m² or 1 元); that addition also raises the
school's other sections.

Which resource closes which gap, the rounding step and the unit costs are
assumptions held in the standard's ``[remediation]`` tables, never here.

Arithmetic is exact (:class:`fractions.Fraction`) on the evaluation's numbers
read through their shortest decimal form, so that a section brought exactly to
its threshold is judged as meeting it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from math import ceil
from typing import Any

import pandas as pd

from balance_metrics.engine.indicators import numerator_for
from balance_metrics.common.errors import StandardError
from balance_metrics.engine.resources import ResourceEvaluation
from balance_metrics.standard.loader import Standard, exact

ZERO = Fraction(0)

RESOURCE_GAP_COLUMNS = [
    "school_id", "school_name", "school_type", "area_type", "ownership", "stage", "students", "share",
    "section_passed", "indicator", "name", "resource", "unit", "basis", "numerator", "value", "threshold",
    "floor", "above_floor", "gap_threshold", "gap_floor", "add_threshold", "add_floor", "unit_cost",
    "cost_threshold", "cost_floor",
]
REMEDIATION_COLUMNS = [
    "school_id", "school_name", "school_type", "area_type", "stage", "students", "failed_indicators",
    "plan", "at_floor", "total_cost", "cost_all_threshold", "plans_considered", "description",
]
ITEM_COLUMNS = [
    "school_id", "school_name", "stage", "indicator", "resource", "unit", "basis", "target", "gap", "add",
    "unit_cost", "cost",
]
DISTRICT_GAP_COLUMNS = [
    "stage", "indicator", "name", "resource", "unit", "threshold", "sections", "sections_short",
    "sections_below_floor", "students_short", "gap_threshold", "gap_floor", "add_threshold", "add_floor",
    "cost_threshold", "gap_threshold_failing", "sections_failing",
]


@dataclass(frozen=True)
class Remedy:
    """How one indicator's gap is closed, from the standard's ``[remediation]``.

    Attributes
    ----------
    indicator : str
        R1..R7.
    basis : {"section", "facility"}
        Teachers are added to the section; facilities to the whole school.
    resource : str
        Key of the unit cost (``remediation.unit_costs``), e.g. ``"teacher"``.
    label, action, unit : str
        Chinese resource name, verb and unit (人, m², 元, 间) for descriptions.
    step : Fraction
        Amounts are rounded up to a multiple of it (1 person, 0.01 m², …).
    unit_cost : Fraction
        元 per unit of the resource ([C] assumption).
    """

    indicator: str
    basis: str
    resource: str
    label: str
    action: str
    unit: str
    step: Fraction
    unit_cost: Fraction

    def addition(self, gap: Fraction, share: Fraction) -> Fraction:
        """Resource the school adds so that the section gains ``gap`` (unit: :attr:`unit`)."""
        if gap <= 0:
            return ZERO
        # A facility added to a combined school is shared out like its totals.
        needed = gap / share if self.basis == "facility" else gap
        return ceil(needed / self.step) * self.step


def remedies(standard: Standard, costs: Mapping[str, Any] | None = None) -> dict[str, Remedy]:
    """The remediation spec of every indicator.

    Parameters
    ----------
    standard : Standard
    costs : mapping, optional
        Resource -> unit cost in 元 (e.g. ``{"teacher": 250000}``), overriding
        ``remediation.unit_costs`` of the standard.

    Raises
    ------
    StandardError
        The standard lacks a ``[remediation]`` entry, or ``costs`` names an
        unknown resource.
    """
    remediation = standard.remediation
    unknown = set(costs or {}) - set(remediation.unit_costs)
    if unknown:
        raise StandardError(f"unknown resource(s) in costs: {sorted(unknown)}; known: {sorted(remediation.unit_costs)}")
    unit_costs = {**remediation.unit_costs, **{k: exact(v) for k, v in (costs or {}).items()}}
    result = {}
    for ind in standard.indicator_ids:
        rule = remediation.indicators.get(ind)
        if rule is None:
            raise StandardError(f"standard {standard.name}: no remediation resource or unit cost for {ind}")
        result[ind] = Remedy(
            indicator=ind,
            basis=standard.indicators[ind].basis,
            resource=rule.resource,
            label=rule.label,
            action=rule.action,
            unit=rule.unit,
            step=rule.step,
            unit_cost=unit_costs[rule.resource],
        )
    return result


def _gap(target: Fraction, students: int, scale: Fraction, numerator: Fraction) -> Fraction:
    """Resource a section must gain to reach ``target`` (0 when it already does)."""
    return max(ZERO, numerator_for(target, scale, students) - numerator)


def _exact_records(evaluation: ResourceEvaluation, costs: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Every section × indicator row with exact gaps, additions and costs.

    Columns ``*_x`` hold Fractions; the evaluation's own met/above_floor flags
    decide whether a gap exists, so this agrees with its verdicts even under a
    rounding override.
    """
    std = evaluation.standard
    spec = remedies(std, costs)
    passed = evaluation.verdicts.set_index(["school_id", "stage"])["passed"]
    records = []
    numerators, shares = evaluation.exact_numerators(), evaluation.exact_shares()
    for row, numerator, share in zip(evaluation.sections.to_dict("records"), numerators, shares):
        ind, stage, students = row["indicator"], row["stage"], int(row["students"])
        remedy = spec[ind]
        scale = exact(std.indicator(ind)["scale"])
        gaps = {
            "threshold": ZERO if row["met"] else _gap(std.threshold(ind, stage), students, scale, numerator),
            "floor": ZERO if row["above_floor"] else _gap(std.floor(ind, stage), students, scale, numerator),
        }
        record = dict(row)
        record.update(
            section_passed=bool(passed[(row["school_id"], stage)]),
            resource=remedy.label,
            unit=remedy.unit,
            basis=remedy.basis,
            unit_cost=float(remedy.unit_cost),
            numerator_x=numerator,
            share_x=share,
        )
        for target, gap in gaps.items():
            add = remedy.addition(gap, share)
            record |= {
                f"gap_{target}_x": gap,
                f"add_{target}_x": add,
                f"cost_{target}_x": add * remedy.unit_cost,
                f"gap_{target}": float(gap),
                f"add_{target}": float(add),
                f"cost_{target}": float(add * remedy.unit_cost),
            }
        records.append(record)
    return records


def _exact_rows(evaluation: ResourceEvaluation, costs: Mapping[str, Any] | None) -> pd.DataFrame:
    """:func:`_exact_records` as a DataFrame."""
    return pd.DataFrame(_exact_records(evaluation, costs))


Section = list[dict[str, Any]]


def _by_section(records: list[dict[str, Any]], failing_only: bool = False) -> dict[tuple[str, str], Section]:
    """Records grouped by (school_id, stage), in evaluation order."""
    sections: dict[tuple[str, str], Section] = {}
    for record in records:
        if failing_only and record["section_passed"]:
            continue
        sections.setdefault((record["school_id"], record["stage"]), []).append(record)
    return sections


def resource_gaps(evaluation: ResourceEvaluation, costs: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """What each section lacks on every indicator it does not meet.

    Parameters
    ----------
    evaluation : ResourceEvaluation
        From :func:`balance_metrics.evaluate_resources`.
    costs : mapping, optional
        Resource -> unit cost (元) overriding the standard's ``[remediation]``.

    Returns
    -------
    DataFrame
        One row per section × indicator not met: the section's attributes,
        ``section_passed``, indicator, name, ``resource`` (Chinese label),
        ``unit`` (人, m², 元, 间), ``basis``, numerator, value, threshold, floor,
        above_floor, and

        - ``gap_threshold`` / ``gap_floor``: resource the section must gain to
          reach the threshold / the 85 % floor, unrounded
          (target × students ÷ scale − numerator, ≥ 0; in ``unit``);
        - ``add_threshold`` / ``add_floor``: what the school must add, rounded
          up to the resource's step (whole teachers and rooms); for facilities
          gap ÷ share, since the addition is shared with the school's other
          sections;
        - ``unit_cost`` (元 per unit), ``cost_threshold`` / ``cost_floor`` (元).
    """
    rows = _exact_rows(evaluation, costs)
    if rows.empty:
        return pd.DataFrame(columns=RESOURCE_GAP_COLUMNS)
    return rows.loc[~rows["met"], RESOURCE_GAP_COLUMNS].reset_index(drop=True)


def _plan_cost(short: Section, at_floor: tuple[str, ...]) -> Fraction:
    """Cost (元) of raising ``at_floor`` indicators to the floor and the rest to the threshold."""
    return sum((r["cost_floor_x" if r["indicator"] in at_floor else "cost_threshold_x"] for r in short), ZERO)


def _best_plan(section: Section, standard: Standard) -> tuple[tuple[str, ...], int]:
    """The indicators to leave between floor and threshold in the cheapest
    passing plan, and how many plans were compared.

    At most ``n − min_indicators_met`` indicators may stay below their
    threshold; every choice of them among the unmet ones is a plan. Ties go to
    the plan leaving fewer indicators at the floor (more margin).
    """
    short = [r for r in section if not r["met"]]
    slack = len(section) - standard.min_indicators_met
    plans = [
        chosen
        for size in range(0, min(slack, len(short)) + 1)
        for chosen in combinations([r["indicator"] for r in short], size)
    ]
    best = min(plans, key=lambda plan: (_plan_cost(short, plan), len(plan), plan))
    return best, len(plans)


def _items(section: Section, at_floor: tuple[str, ...]) -> list[dict[str, Any]]:
    """The non-zero additions of one section's plan."""
    items = []
    for row in section:
        target = "floor" if row["indicator"] in at_floor else "threshold"
        if row["met"] or row[f"add_{target}_x"] == 0:
            continue
        items.append(
            {
                "school_id": row["school_id"],
                "school_name": row["school_name"],
                "stage": row["stage"],
                "indicator": row["indicator"],
                "resource": row["resource"],
                "unit": row["unit"],
                "basis": row["basis"],
                "target": target,
                "gap": float(row[f"gap_{target}_x"]),
                "add": float(row[f"add_{target}_x"]),
                "add_x": row[f"add_{target}_x"],
                "unit_cost": row["unit_cost"],
                "cost": float(row[f"cost_{target}_x"]),
            }
        )
    return items


def _amount_text(amount: Fraction) -> str:
    if amount.denominator == 1:
        return f"{int(amount):,}"
    return f"{float(amount):,.2f}".rstrip("0").rstrip(".")


def _describe(items: list[dict[str, Any]], remedy: Mapping[str, Remedy], floor_factor: Fraction) -> str:
    """One Chinese line, e.g. ``增加县级及以上骨干教师2人；补充网络多媒体教室1间``."""
    parts = []
    for item in items:
        r = remedy[item["indicator"]]
        text = f"{r.action}{r.label}{_amount_text(item['add_x'])}{r.unit}"
        if item["target"] == "floor":
            text += f"（{item['indicator']}达到{float(floor_factor) * 100:g}%底线即可）"
        parts.append(text)
    return "；".join(parts)


def cheapest_remediation(evaluation: ResourceEvaluation, costs: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The least-cost additions that make each failing section pass.

    A section passes when at least ``min_indicators_met`` indicators reach
    their threshold and every indicator reaches its floor (STANDARD.md §2).
    The additions of different indicators are independent, so a plan is a
    choice of at most ``n − min_indicators_met`` unmet indicators to raise only
    to their floor while every other unmet indicator goes to its threshold;
    all such plans are enumerated and the cheapest (unit costs from the
    standard's ``[remediation.unit_costs]`` or ``costs``) is kept.

    Parameters
    ----------
    evaluation : ResourceEvaluation
    costs : mapping, optional
        Resource -> unit cost (元), e.g. ``{"teacher": 250000}``.

    Returns
    -------
    DataFrame
        One row per failing section: school_id, school_name, school_type,
        area_type, stage, students, failed_indicators, ``plan`` (dict indicator
        -> amount the school adds, in the indicator's unit, see
        :func:`resource_gaps`), ``at_floor`` (indicators the plan leaves between
        floor and threshold, comma-separated), ``total_cost`` (元),
        ``cost_all_threshold`` (元, every unmet indicator to its threshold),
        ``plans_considered`` and ``description`` (Chinese, one line).

    Notes
    -----
    Each section is planned on its own. When both sections of a combined
    school add the same facility, one addition of the larger amount serves
    both, so summing ``total_cost`` over sections overstates such schools.
    """
    records = _exact_records(evaluation, costs)
    spec = remedies(evaluation.standard, costs)
    out = []
    for (school_id, stage), section in _by_section(records, failing_only=True).items():
        at_floor, considered = _best_plan(section, evaluation.standard)
        items = _items(section, at_floor)
        first = section[0]
        out.append(
            {
                "school_id": school_id,
                "school_name": first["school_name"],
                "school_type": first["school_type"],
                "area_type": first["area_type"],
                "stage": stage,
                "students": int(first["students"]),
                "failed_indicators": ",".join(r["indicator"] for r in section if not r["met"]),
                "plan": {item["indicator"]: item["add"] for item in items},
                "at_floor": ",".join(at_floor),
                "total_cost": float(sum((i["add_x"] * spec[i["indicator"]].unit_cost for i in items), ZERO)),
                "cost_all_threshold": float(sum((r["cost_threshold_x"] for r in section), ZERO)),
                "plans_considered": considered,
                "description": _describe(items, spec, evaluation.standard.floor_factor),
            }
        )
    return pd.DataFrame(out, columns=REMEDIATION_COLUMNS)


def remediation_items(
    evaluation: ResourceEvaluation, plan: str = "cheapest", costs: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """The additions of a plan, one row per section × indicator.

    Parameters
    ----------
    evaluation : ResourceEvaluation
    plan : {"cheapest", "threshold"}
        ``"cheapest"``: :func:`cheapest_remediation` for every failing section;
        ``"threshold"``: every section (passing or not) brought to the
        threshold of every indicator it misses.
    costs : mapping, optional
        Unit-cost overrides (元), see :func:`remedies`.

    Returns
    -------
    DataFrame
        school_id, school_name, stage, indicator, resource, unit, basis,
        target ("threshold" or "floor"), gap (section's shortfall, unit),
        add (what the school adds, unit), unit_cost (元/unit), cost (元).
    """
    records = _exact_records(evaluation, costs)
    items: list[dict[str, Any]] = []
    if plan == "cheapest":
        for section in _by_section(records, failing_only=True).values():
            items += _items(section, _best_plan(section, evaluation.standard)[0])
    elif plan == "threshold":
        for section in _by_section(records).values():
            items += _items(section, ())
    else:
        raise ValueError(f"plan must be 'cheapest' or 'threshold', got {plan!r}")
    return pd.DataFrame(items, columns=[*ITEM_COLUMNS, "add_x"]).drop(columns="add_x")


def _by_stage_indicator(rows: pd.DataFrame, standard: Standard) -> list[tuple[tuple[str, str], pd.DataFrame]]:
    """Rows split by stage × indicator, in the standard's order, empty parts left out."""
    if rows.empty:
        return []
    groups = dict(tuple(rows.groupby(["stage", "indicator"], sort=False)))
    return [((s, i), groups[(s, i)]) for s in standard.stages for i in standard.indicator_ids if (s, i) in groups]


def district_gaps(evaluation: ResourceEvaluation, costs: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Per stage × indicator, the totals of what the sections lack.

    ``gap_threshold`` is the resource that brings every section of the stage up
    to the threshold (e.g. the m² of teaching rooms for every primary section to
    reach 4.5 m² per student) — the sense of the Beichen plan's "gap of
    28 000 m²" (STANDARD.md §8).

    Parameters
    ----------
    evaluation : ResourceEvaluation
    costs : mapping, optional
        Unit-cost overrides (元).

    Returns
    -------
    DataFrame
        stage, indicator, name, resource, unit, threshold, sections,
        sections_short (below threshold), sections_below_floor,
        students_short, gap_threshold and gap_floor (Σ section gaps, unit),
        add_threshold and add_floor (Σ school additions, rounded up, unit),
        cost_threshold (元), gap_threshold_failing and sections_failing (only
        sections that fail the per-section rule).

    Notes
    -----
    ``add_*`` sums each section's school-level addition; a combined school
    short on the same facility in both stages is counted in each.
    """
    parts = _by_stage_indicator(_exact_rows(evaluation, costs), evaluation.standard)
    out = []
    for (stage, ind), part in parts:
        short = part[~part["met"]]
        failing = short[~short["section_passed"]]
        out.append(
            {
                "stage": stage,
                "indicator": ind,
                "name": part["name"].iloc[0],
                "resource": part["resource"].iloc[0],
                "unit": part["unit"].iloc[0],
                "threshold": float(evaluation.standard.threshold(ind, stage)),
                "sections": len(part),
                "sections_short": len(short),
                "sections_below_floor": int((~part["above_floor"]).sum()),
                "students_short": int(short["students"].sum()),
                **{
                    col: float(sum(part[f"{col}_x"], ZERO))
                    for col in ("gap_threshold", "gap_floor", "add_threshold", "add_floor", "cost_threshold")
                },
                "gap_threshold_failing": float(sum(failing["gap_threshold_x"], ZERO)),
                "sections_failing": len(failing),
            }
        )
    return pd.DataFrame(out, columns=DISTRICT_GAP_COLUMNS)
