"""Turn a period's schools into the school sections that are evaluated.

Three steps, each ruled by the standard (STANDARD.md §1 and §4):

1. exclude special-education and vocational schools and small teaching points;
2. merge 不计校数 branch campuses into their parent school;
3. give each section its share of the school's facility totals, by weighted
   enrolment for combined schools (九年一贯制 1 : 1.1 and so on).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from balance_metrics.contract.dataset import Dataset
from balance_metrics.common.errors import StandardError
from balance_metrics.contract.schema import FACILITIES, SCHOOL_TYPES, SECTIONS, STAGES
from balance_metrics.standard.loader import Standard

SECTION_COUNTS = [c.name for c in SECTIONS.columns if c.kind == "count" and c.name != "largest_class"]
FACILITY_AMOUNTS = [c.name for c in FACILITIES.columns if c.kind in ("count", "amount")]
SCHOOL_COLUMNS = ["school_id", "school_name", "school_type", "area_type", "ownership", "boarding"]


@dataclass(frozen=True)
class Sections:
    """The evaluated sections and everything left out, with reasons.

    Attributes
    ----------
    sections : DataFrame
        One row per evaluated school × stage: school attributes, the section's
        own counts, ``share`` (its part of the school's facilities, 0–1),
        ``share_exact`` (the same as a Fraction) and each facility total
        as ``<column>_school`` (multiply by ``share_exact`` for the section's
        part). ``campuses`` lists merged campus ids.
    excluded : DataFrame
        school_id, school_name, school_type, stage, students, reason (Chinese).
    """

    sections: pd.DataFrame
    excluded: pd.DataFrame


def split_shares(students: dict[str, int], weights: dict[str, Fraction] | None) -> dict[str, Fraction]:
    """Each stage's exact share of a school's facilities.

    Parameters
    ----------
    students : dict
        Stage -> students of that stage.
    weights : dict or None
        Stage -> weight from the standard; ``None`` for a single-stage school.

    Examples
    --------
    >>> split_shares({"primary": 166, "junior": 210}, {"primary": Fraction(1), "junior": Fraction(11, 10)})
    {'primary': Fraction(166, 397), 'junior': Fraction(231, 397)}
    """
    if weights is None:
        if len(students) != 1:
            raise StandardError(f"no split weights for a school with stages {sorted(students)}")
        return {stage: Fraction(1) for stage in students}
    missing = set(students) - set(weights)
    if missing:
        raise StandardError(f"split weights lack stage(s) {sorted(missing)}")
    weighted = {stage: weights[stage] * n for stage, n in students.items()}
    total = sum(weighted.values())
    if total == 0:
        return {stage: Fraction(0) for stage in students}
    return {stage: w / total for stage, w in weighted.items()}


def _merge_campuses(sections: pd.DataFrame, facilities: pd.DataFrame, schools: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    parent = schools.set_index("school_id")["parent_school_id"].dropna()
    owner = sections["school_id"].map(lambda s: parent.get(s, s))
    campus = sections["school_id"].where(sections["school_id"] != owner, "")
    sec = sections.assign(school_id=owner, campuses=campus)
    fac = facilities.assign(school_id=facilities["school_id"].map(lambda s: parent.get(s, s)))
    agg = {c: "sum" for c in SECTION_COUNTS} | {"largest_class": "max"}
    agg["campuses"] = lambda c: ",".join(sorted(x for x in c if x))
    merged = sec.groupby(["school_id", "stage"], sort=False).agg(agg).reset_index()
    fac = fac.groupby("school_id", sort=False)[FACILITY_AMOUNTS].sum(min_count=1).reset_index()
    return merged, fac


def build_sections(dataset: Dataset, standard: Standard) -> Sections:
    """Evaluated sections of a period under ``standard`` (see module doc)."""
    scope = standard.data["scope"]
    schools = dataset.schools
    sections, facilities = dataset.sections, dataset.facilities
    if scope.get("merge_campuses", True):
        sections, facilities = _merge_campuses(sections, facilities, schools)
        schools = schools[schools["parent_school_id"].isna()]
    else:
        sections = sections.assign(campuses="")

    info = schools.set_index("school_id")[SCHOOL_COLUMNS[1:]]
    sections = sections.join(info, on="school_id")
    totals = sections.groupby("school_id")["students"].sum()
    school_reason = pd.Series(
        [_school_exclusion(r, int(totals[r["school_id"]]), scope) for r in sections.to_dict("records")],
        index=sections.index,
        dtype=object,
    )
    stage_reason = sections["stage"].map(
        lambda st: None if st in scope["stages"] else f"{STAGES[st]}学段不属于义务教育，仅用于分摊校舍与设备"
    )
    reasons = school_reason.fillna(stage_reason)
    excluded = sections[reasons.notna()].assign(reason=reasons[reasons.notna()])
    included_schools = sections[school_reason.isna()]

    rows = []
    fac = facilities.set_index("school_id")[FACILITY_AMOUNTS].add_suffix("_school")
    fac_records = fac.to_dict("index")
    for school_id, group in included_schools.groupby("school_id", sort=False):
        records = group.to_dict("records")
        shares = split_shares(
            {r["stage"]: int(r["students"]) for r in records},
            standard.split_weights(records[0]["school_type"]) if len(records) > 1 else None,
        )
        for record in records:
            if record["stage"] in scope["stages"]:
                share = shares[record["stage"]]
                rows.append(record | fac_records[school_id] | {"share": float(share), "share_exact": share})
    result = pd.DataFrame(rows)
    order = {s: i for i, s in enumerate(STAGES)}
    result = result.sort_values(["stage", "school_id"], key=lambda c: c.map(order) if c.name == "stage" else c)
    excluded = excluded[["school_id", "school_name", "school_type", "stage", "students", "reason"]]
    return Sections(result.reset_index(drop=True), excluded.reset_index(drop=True))


def _school_exclusion(row: dict, school_students: int, scope: dict) -> str | None:
    school_type = row["school_type"]
    if school_type in scope["excluded_school_types"]:
        return f"{SCHOOL_TYPES[school_type]}不参与资源配置指标计算"
    if school_type == scope["teaching_point_type"] and school_students < scope["teaching_point_min_students"]:
        return f"教学点在校生{school_students}人，不足{scope['teaching_point_min_students']}人，不参与计算"
    if row["ownership"] == "private" and not scope.get("include_private", True):
        return "民办学校按本标准不参与计算"
    return None
