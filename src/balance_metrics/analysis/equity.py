"""Equity measures beyond the 差异系数: group gaps and pupil-weighted inequality.

Every measure treats the pupils as the population: a section with value X_i
and P_i students counts as P_i pupils who each have X_i (as the
pupil-weighted CV of STANDARD.md §3 does). Group and district values are
ratios of totals, never means of section ratios.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd

from balance_metrics.analysis.inequality.base import ratio, weighted_percentile
from balance_metrics.analysis.inequality.gini import gini
from balance_metrics.engine.resources import ResourceEvaluation
from balance_metrics.contract.schema import AREA_TYPES, OWNERSHIPS, SCHOOL_TYPES
from balance_metrics.engine.indicators import section_value
from balance_metrics.standard.loader import Standard, exact

GROUP_LABELS: dict[str, dict[str, str]] = {
    "area_type": AREA_TYPES,
    "ownership": OWNERSHIPS,
    "school_type": SCHOOL_TYPES,
}
GROUP_COLUMNS = [
    "stage", "indicator", "name", "by", "group", "group_label", "sections", "students", "group_value",
    "district_value", "ratio_to_district", "max_min_ratio", "highest_group", "lowest_group",
]
INEQUALITY_COLUMNS = [
    "stage", "indicator", "name", "unit", "sections", "students", "district_value", "min_value", "min_school",
    "max_value", "max_school", "max_min_ratio", "p10", "p90", "p90_p10", "gini", "cv",
]


# The measures themselves live in :mod:`balance_metrics.analysis.inequality`.
pupil_weighted_gini = gini
_ratio = ratio


def _group_order(by: str, present: Sequence[str]) -> list[str]:
    """Groups in the natural reporting order (城区, 镇区, 乡村 …), unknown ones last."""
    known = [g for g in GROUP_LABELS.get(by, {}) if g in present]
    return known + sorted(set(present) - set(known))


def _stage_indicators(evaluation: ResourceEvaluation) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """(stage, indicator, rows) for every stage × indicator that has sections."""
    std: Standard = evaluation.standard
    rows = evaluation.sections
    for stage in std.stages:
        for ind in std.indicator_ids:
            part = rows[(rows["stage"] == stage) & (rows["indicator"] == ind)]
            if not part.empty:
                yield stage, ind, part


def group_gaps(evaluation: ResourceEvaluation, by: str = "area_type") -> pd.DataFrame:
    """Each group's value of every indicator, and the gap between groups.

    For a group g of sections (e.g. the 乡村 sections of a stage), the group
    value is ``V_g = Σ_{i∈g} numerator_i × scale / Σ_{i∈g} P_i`` — the ratio
    of the group's totals, in the indicator's unit.

    Parameters
    ----------
    evaluation : ResourceEvaluation
    by : {"area_type", "ownership", "school_type"} or another column of
        ``evaluation.sections``
        The grouping: 城区/镇区/乡村, 公办/民办 or 办学类型.

    Returns
    -------
    DataFrame
        One row per stage × indicator × group: stage, indicator, name, by,
        group (code), group_label (Chinese), sections, students, group_value,
        district_value (the stage's ratio of totals), ratio_to_district
        (V_g ÷ district value), and for the whole stage × indicator
        max_min_ratio (highest V_g ÷ lowest V_g; the urban–rural gap when
        grouping by area_type; ``inf`` if the lowest is 0), highest_group and
        lowest_group (Chinese labels).
    """
    if by not in evaluation.sections.columns:
        raise ValueError(f"cannot group by {by!r}: not a column of the evaluated sections")
    labels = GROUP_LABELS.get(by, {})
    out = []
    for stage, ind, part in _stage_indicators(evaluation):
        scale = float(exact(evaluation.standard.indicator(ind)["scale"]))
        district = section_value(part["numerator"].sum(), scale, part["students"].sum())
        groups = []
        for group in _group_order(by, list(part[by].unique())):
            members = part[part[by] == group]
            value = section_value(members["numerator"].sum(), scale, members["students"].sum())
            groups.append(
                {
                    "stage": stage,
                    "indicator": ind,
                    "name": part["name"].iloc[0],
                    "by": by,
                    "group": group,
                    "group_label": labels.get(group, str(group)),
                    "sections": len(members),
                    "students": int(members["students"].sum()),
                    "group_value": value,
                    "district_value": district,
                    "ratio_to_district": _ratio(value, district),
                }
            )
        highest = max(groups, key=lambda g: g["group_value"])
        lowest = min(groups, key=lambda g: g["group_value"])
        spread = {
            "max_min_ratio": _ratio(highest["group_value"], lowest["group_value"]),
            "highest_group": highest["group_label"],
            "lowest_group": lowest["group_label"],
        }
        out += [g | spread for g in groups]
    return pd.DataFrame(out, columns=GROUP_COLUMNS)


def inequality_measures(evaluation: ResourceEvaluation) -> pd.DataFrame:
    """Pupil-weighted inequality of every indicator, per stage.

    Parameters
    ----------
    evaluation : ResourceEvaluation

    Returns
    -------
    DataFrame
        One row per stage × indicator: stage, indicator, name, unit, sections,
        students, district_value (ratio of totals, unit), min_value and
        max_value (lowest and highest section value, unit) with min_school and
        max_school (school names), max_min_ratio, p10 and p90 (pupil-weighted
        10th and 90th percentiles, see :func:`weighted_percentile`), p90_p10
        (their ratio), gini (:func:`pupil_weighted_gini`) and cv (the
        pupil-weighted 差异系数 of the evaluation). Ratios are ``inf`` when the
        denominator is 0.
    """
    cvs = evaluation.balance.set_index(["stage", "indicator"])["cv"]
    out = []
    for stage, ind, part in _stage_indicators(evaluation):
        values, students = part["value"].to_numpy(float), part["students"].to_numpy(float)
        scale = float(exact(evaluation.standard.indicator(ind)["scale"]))
        low, high = part.loc[part["value"].idxmin()], part.loc[part["value"].idxmax()]
        p10 = weighted_percentile(values, students, 0.1)
        p90 = weighted_percentile(values, students, 0.9)
        out.append(
            {
                "stage": stage,
                "indicator": ind,
                "name": part["name"].iloc[0],
                "unit": part["unit"].iloc[0],
                "sections": len(part),
                "students": int(students.sum()),
                "district_value": section_value(part["numerator"].sum(), scale, students.sum()),
                "min_value": float(low["value"]),
                "min_school": low["school_name"],
                "max_value": float(high["value"]),
                "max_school": high["school_name"],
                "max_min_ratio": _ratio(float(high["value"]), float(low["value"])),
                "p10": p10,
                "p90": p90,
                "p90_p10": _ratio(p90, p10),
                "gini": pupil_weighted_gini(values, students),
                "cv": float(cvs.get((stage, ind), float("nan"))),
            }
        )
    return pd.DataFrame(out, columns=INEQUALITY_COLUMNS)
