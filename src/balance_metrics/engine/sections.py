"""Turn a period's schools into the school sections that are evaluated.

Three steps, each ruled by the standard (STANDARD.md §1 and §4):

1. exclude special-education and vocational schools and small teaching points;
2. merge 不计校数 branch campuses into their parent school;
3. give each section its share of the school's facility totals, by weighted
   enrolment for combined schools (九年一贯制 1 : 1.1 and so on).

Every step is a whole-column operation (maps, grouped sums, merges); shares are
kept exactly as integer numerator / denominator pairs (the split weights are
scaled to integers), so that verdicts can be re-checked in exact arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm

import numpy as np
import pandas as pd

from balance_metrics.common.errors import StandardError
from balance_metrics.contract.dataset import Dataset
from balance_metrics.contract.schema import FACILITIES, SCHOOL_TYPES, SECTIONS, STAGES
from balance_metrics.standard.loader import Standard
from balance_metrics.standard.model import Scope

SECTION_COUNTS = [c.name for c in SECTIONS.columns if c.kind == "count" and c.name != "largest_class"]
FACILITY_AMOUNTS = [c.name for c in FACILITIES.columns if c.kind in ("count", "amount")]
SCHOOL_COLUMNS = ["school_id", "school_name", "school_type", "area_type", "ownership", "boarding"]
#: Optional district key of a multi-district dataset (区县代码 / 区县名称).
DISTRICT_KEYS = ["district_id", "district_name"]


@dataclass(frozen=True)
class Sections:
    """The evaluated sections and everything left out, with reasons.

    Attributes
    ----------
    sections : DataFrame
        One row per evaluated school × stage: school attributes, the section's
        own counts, ``share`` (its part of the school's facilities, 0–1) and
        the same share exactly as ``share_numerator`` / ``share_denominator``
        (integers), and each facility total as ``<column>_school`` (multiply
        by the share for the section's part). ``campuses`` lists merged
        campus ids.
    excluded : DataFrame
        school_id, school_name, school_type, stage, students, reason (Chinese).
    """

    sections: pd.DataFrame
    excluded: pd.DataFrame

    def exact_shares(self, positions: np.ndarray | None = None) -> list[Fraction]:
        """The exact share of the sections at ``positions`` (default: all)."""
        frame = self.sections if positions is None else self.sections.iloc[positions]
        return [Fraction(int(n), int(d)) for n, d in zip(frame["share_numerator"], frame["share_denominator"])]


def merges_campuses(standard: Standard) -> bool:
    """Whether 不计校数 campuses are merged into their parent (``scope.merge_campuses``)."""
    return bool(standard.scope.merge_campuses)


def campus_owner(schools: pd.DataFrame, standard: Standard) -> pd.Series:
    """school_id -> the school it is counted under: its parent for a merged
    不计校数 campus (when the standard merges campuses), else itself."""
    ids = schools["school_id"]
    parent = schools["parent_school_id"]
    owner = parent.where(parent.notna() & merges_campuses(standard), ids)
    return pd.Series(owner.to_numpy(object), index=ids.to_numpy(object))


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


def integer_weights(standard: Standard) -> pd.DataFrame:
    """The split weights of every combined school type scaled to integers.

    Returns
    -------
    DataFrame
        school_type, stage, weight (int): within a school type the weights keep
        their ratios (1 : 1.1 : 1.32 -> 100 : 110 : 132).
    """
    rows = []
    for school_type, weights in standard.weights.items():
        if not weights:
            continue
        common = lcm(*(w.denominator for w in weights.values()))
        rows += [(school_type, stage, int(w * common)) for stage, w in weights.items()]
    return pd.DataFrame(rows, columns=["school_type", "stage", "weight"])


def _merge_campuses(sections: pd.DataFrame, facilities: pd.DataFrame, owner: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each campus section added into its parent's section of the same stage.

    Only the (parent, stage) groups that receive a campus are summed; every
    other row stays as it is, in place (the first row of a group stands for it).
    """
    parent_of = owner[owner.index != owner.to_numpy()]
    merged = sections.assign(campuses="")
    is_campus = sections["school_id"].isin(parent_of.index).to_numpy(bool)
    if not is_campus.any():
        return merged, facilities
    touched = is_campus | sections["school_id"].isin(parent_of.unique()).to_numpy(bool)
    part = merged[touched]
    campus = part["school_id"].astype(object).where(is_campus[touched], "")
    part = part.assign(school_id=part["school_id"].map(parent_of).fillna(part["school_id"]).astype(object))
    key = part["school_id"] + "\x00" + part["stage"].astype(object)
    grouped = part.groupby(key, sort=False)
    sums = grouped[SECTION_COUNTS].transform("sum")
    part = part.assign(**{c: sums[c] for c in SECTION_COUNTS}, largest_class=grouped["largest_class"].transform("max"))
    listed = campus[campus != ""].sort_values()
    part["campuses"] = key.map(listed.groupby(key[campus != ""], sort=False).agg(",".join)).fillna("").to_numpy(object)
    first = ~key.duplicated().to_numpy(bool)
    merged = pd.concat([merged[~touched], part[first]]).sort_index()
    fac = facilities
    fac_campus = fac["school_id"].isin(parent_of.index).to_numpy(bool)
    if fac_campus.any():
        fac = fac.assign(school_id=fac["school_id"].astype(object).where(~fac_campus, fac["school_id"].map(parent_of)))
        fac = fac.groupby("school_id", sort=False)[FACILITY_AMOUNTS].sum(min_count=1).reset_index()
    return merged.reset_index(drop=True), fac


def exclusion_reasons(sections: pd.DataFrame, scope: Scope) -> pd.Series:
    """Why each section's school is left out of the resource indicators (None: kept).

    ``sections`` carries school_type, ownership and ``school_students`` (the
    whole school's pupils, every stage).
    """
    school_type = sections["school_type"].astype(object)
    reason = pd.Series(None, index=sections.index, dtype=object)
    excluded = school_type.isin(list(scope.excluded_school_types)).to_numpy()
    reason[excluded] = school_type[excluded].map(SCHOOL_TYPES) + "不参与资源配置指标计算"
    minimum = int(scope.teaching_point_min_students)
    small = ((school_type == scope.teaching_point_type) & (sections["school_students"] < minimum)).to_numpy() & ~excluded
    reason[small] = "教学点在校生" + sections["school_students"][small].astype(str) + f"人，不足{minimum}人，不参与计算"
    if not scope.include_private:
        private = (sections["ownership"] == "private").to_numpy() & reason.isna().to_numpy()
        reason[private] = "民办学校按本标准不参与计算"
    return reason


def build_sections(dataset: Dataset, standard: Standard) -> Sections:
    """Evaluated sections of a period under ``standard`` (see module doc)."""
    scope = standard.scope
    schools = dataset.schools
    sections, facilities = dataset.sections, dataset.facilities
    if merges_campuses(standard):
        sections, facilities = _merge_campuses(sections, facilities, campus_owner(schools, standard))
        schools = schools[schools["parent_school_id"].isna()]
    else:
        sections = sections.assign(campuses="")
    keys = [k for k in DISTRICT_KEYS if k in schools.columns]
    # One hash lookup of the school ids, then plain takes (no join).
    at = pd.Index(schools["school_id"]).get_indexer(sections["school_id"])
    found = at >= 0
    for column in [*SCHOOL_COLUMNS[1:], *keys]:
        values = schools[column].to_numpy(object)
        sections[column] = np.where(found, values[np.maximum(at, 0)], None) if not found.all() else values[at]
    for column in ("school_type", "stage"):
        sections[column] = sections[column].astype(object)
    students = sections["students"].to_numpy("int64")
    school_code = pd.factorize(sections["school_id"])[0]
    sections["_school"] = school_code
    sections["school_students"] = np.bincount(school_code, weights=students)[school_code].astype("int64")
    school_reason = exclusion_reasons(sections, scope)
    in_scope = sections["stage"].isin(list(scope.stages))
    stage_reason = sections["stage"].map({st: f"{zh}学段不属于义务教育，仅用于分摊校舍与设备" for st, zh in STAGES.items()}).where(~in_scope)
    reasons = school_reason.fillna(stage_reason)
    excluded = sections[reasons.notna()].assign(reason=reasons[reasons.notna()])

    kept = sections[school_reason.isna().to_numpy()].drop(columns="school_students")
    excluded = excluded.drop(columns="_school")
    kept = _with_shares(kept, standard)
    kept = kept[kept["stage"].isin(list(scope.stages)).to_numpy()]
    at = pd.Index(facilities["school_id"]).get_indexer(kept["school_id"])
    result = kept.drop(columns="_school")
    for column in FACILITY_AMOUNTS:
        values = facilities[column].to_numpy(float, na_value=np.nan)
        result[f"{column}_school"] = np.where(at >= 0, values[np.maximum(at, 0)], np.nan) if len(values) else np.nan
    result = result.assign(_stage=pd.Categorical(result["stage"], categories=list(STAGES)).codes)
    result = result.sort_values(["_stage", "school_id"], kind="stable").drop(columns="_stage")
    excluded = excluded[[*keys, "school_id", "school_name", "school_type", "stage", "students", "reason"]]
    return Sections(result.reset_index(drop=True), excluded.reset_index(drop=True))


def _with_shares(kept: pd.DataFrame, standard: Standard) -> pd.DataFrame:
    """Add share_numerator / share_denominator / share (float) to every section row."""
    students = kept["students"].to_numpy("int64")
    code = kept["_school"].to_numpy()
    size = int(code.max()) + 1 if len(code) else 0
    stages_per_school = np.bincount(code, minlength=size)[code]
    combined = stages_per_school > 1
    weights = integer_weights(standard)
    types, stages = list(weights["school_type"].unique()), list(STAGES)
    table = np.full((len(types) + 1, len(stages) + 1), np.nan)
    table[pd.Categorical(weights["school_type"], categories=types).codes, pd.Categorical(weights["stage"], categories=stages).codes] = weights["weight"]
    type_code = kept["school_type"].map({t: i for i, t in enumerate(types)}).fillna(len(types)).to_numpy(np.int64)
    stage_code = kept["stage"].map({t: i for i, t in enumerate(stages)}).fillna(len(stages)).to_numpy(np.int64)
    weight = table[type_code, stage_code]
    lacking = combined & np.isnan(weight)
    if lacking.any():
        first = kept[lacking].iloc[0]
        stages = sorted(kept.loc[kept["school_id"] == first["school_id"], "stage"])
        if standard.split_weights(first["school_type"]) is None:
            raise StandardError(f"no split weights for a school with stages {stages}")
        raise StandardError(f"split weights lack stage(s) {[first['stage']]}")
    weighted = np.where(combined, np.nan_to_num(weight).astype("int64") * students, 1)
    total = np.bincount(code, weights=weighted, minlength=size).astype("int64")[code]
    numerator = np.where(total == 0, 0, weighted)
    denominator = np.where(total == 0, 1, total)
    return kept.assign(share_numerator=numerator, share_denominator=denominator, share=numerator / denominator)
