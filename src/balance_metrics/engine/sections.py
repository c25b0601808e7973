"""Turn a period's schools into the school sections that are evaluated.

Three steps, each ruled by the standard (STANDARD.md §1 and §4):

1. exclude special-education and vocational schools and small teaching points;
2. merge 不计校数 branch campuses into their parent school;
3. give each section its share of the school's facility totals, by weighted
   enrolment for combined schools (九年一贯制 1 : 1.1 and so on).

Every step works on integer codes (each school id is hashed once; schools,
stages and school types become positions) with whole-column numpy operations
(takes, ``np.bincount`` sums); shares are kept exactly as integer numerator /
denominator pairs (the split weights are scaled to integers), so that verdicts
can be re-checked in exact arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import lcm

import numpy as np
import pandas as pd

from balance_metrics.common.errors import StandardError
from balance_metrics.contract.dataset import Dataset
from balance_metrics.contract.schema import FACILITIES, SCHOOL_TYPES, SECTIONS, STAGES
from balance_metrics.engine.campuses import merge_campus_rows
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
        (integers), and each facility total an indicator of the standard uses
        as ``<column>_school`` (the school's total, campuses added in; multiply
        by the share for the section's part). ``campuses`` lists merged
        campus ids.
    excluded : DataFrame
        school_id, school_name, school_type, stage, students, reason (Chinese).
    stage_code, district_code : ndarray of int, optional
        Each section's stage (position in ``standard.stages``) and district
        (rank of its district id; 0 for a single district); derived from
        ``sections`` when not given (see :meth:`codes`).
    districts : ndarray of object, optional
        The district ids in rank order.
    """

    sections: pd.DataFrame
    excluded: pd.DataFrame
    stage_code: np.ndarray | None = field(default=None, repr=False, compare=False)
    district_code: np.ndarray | None = field(default=None, repr=False, compare=False)
    districts: np.ndarray | None = field(default=None, repr=False, compare=False)

    def codes(self, standard: Standard) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(stage_code, district_code, districts) of the sections (see class doc)."""
        if self.stage_code is not None and self.district_code is not None and self.districts is not None:
            return self.stage_code, self.district_code, self.districts
        frame = self.sections
        stage = pd.Index(standard.stages).get_indexer(frame["stage"])
        if "district_id" in frame.columns:
            district, districts = pd.factorize(frame["district_id"], sort=True)
            return stage, district, np.asarray(districts, dtype=object)
        return stage, np.zeros(len(frame), dtype=np.int64), np.zeros(0, dtype=object)

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
    rows = [(school_type, stage, weight) for school_type, weights in _integer_weights(standard).items() for stage, weight in weights.items()]
    return pd.DataFrame(rows, columns=["school_type", "stage", "weight"])


def _integer_weights(standard: Standard) -> dict[str, dict[str, int]]:
    """School type -> stage -> integer split weight (see :func:`integer_weights`)."""
    out = {}
    for school_type, weights in standard.weights.items():
        if weights:
            common = lcm(*(w.denominator for w in weights.values()))
            out[school_type] = {stage: int(w * common) for stage, w in weights.items()}
    return out


def build_sections(dataset: Dataset, standard: Standard) -> Sections:
    """Evaluated sections of a period under ``standard`` (see module doc)."""
    scope = standard.scope
    schools, raw, facilities = dataset.schools, dataset.sections, dataset.facilities
    keys = [k for k in DISTRICT_KEYS if k in schools.columns]
    n_schools = len(schools)
    campus = schools["parent_school_id"].notna().to_numpy(bool) if "parent_school_id" in schools.columns else np.zeros(n_schools, bool)
    # The one hash of the school ids: schools, sections, facilities and parents coded together
    # (object arrays: no string-dtype inference or conversion on the way).
    # A school's sections usually come together: only the first row of each run is looked up.
    section_ids = _objects(raw["school_id"], required=True)
    head = np.ones(len(section_ids), dtype=bool)
    np.not_equal(section_ids[1:], section_ids[:-1], out=head[1:])
    parts = [_objects(schools["school_id"], required=True), section_ids[head], _objects(facilities["school_id"], required=True),
             _objects(schools["parent_school_id"], required=True)[campus] if campus.any() else np.zeros(0, dtype=object)]
    code_of, uniques = pd.factorize(np.concatenate(parts))
    if not np.array_equal(code_of[:n_schools], np.arange(n_schools)):
        raise ValueError("schools has a school_id more than once")
    school, facility_school, parent = np.split(code_of[n_schools:], np.cumsum([len(p) for p in parts[1:3]]))
    school = school[np.cumsum(head) - 1]
    owner_of = np.arange(len(uniques))  # codes ≥ n_schools: ids missing from schools (not reachable after validation)
    if merges_campuses(standard) and campus.any():
        known = parent < n_schools
        owner_of[np.flatnonzero(campus)[known]] = parent[known]
    stage, found = pd.factorize(_objects(raw["stage"], required=True))
    stage_names = list(STAGES) + [s for s in found if s not in STAGES]  # codes: positions in STAGES first
    stage = np.array([stage_names.index(s) for s in found] + [-1], dtype=np.int64)[stage]

    merged = merge_campus_rows(raw, school, owner_of, stage, SECTION_COUNTS)
    rows = merged.rows
    code = owner_of[school[rows]]
    stage = stage[rows]
    attribute_at = np.where(code < n_schools, code, -1)
    students = raw["students"].to_numpy("int64")[rows]
    if len(merged.at):
        students[merged.at] = merged.sums["students"]
    type_code, type_names = pd.factorize(_objects(schools["school_type"], required=True))
    type_code = np.append(type_code, -1)[attribute_at]
    type_names = list(type_names)

    school_students = np.bincount(code, weights=students)[code].astype(np.int64)
    school_reason = _school_reasons(scope, type_code, type_names, school_students,
                                    _objects(schools["ownership"]) == "private", attribute_at)
    stage_reason = np.array([None if name in scope.stages or name not in STAGES else f"{STAGES[name]}学段不属于义务教育，仅用于分摊校舍与设备"
                             for name in stage_names], dtype=object)[stage]
    reason = np.where(pd.isna(school_reason), stage_reason, school_reason)

    ids = pd.array(np.asarray(uniques, dtype=object)[code], dtype="str")
    school_name = schools["school_name"].array.astype("str")
    stage_text = pd.array(np.array(stage_names, dtype=object), dtype="str")
    type_text = pd.array(np.array(type_names + [None], dtype=object), dtype="str")
    # District keys repeat over many schools: coded once (runs), then taken from their few values.
    coded = {c: _coded_text(schools[c]) for c in keys}

    out = np.flatnonzero(~pd.isna(reason))
    excluded = {c: coded[c][1].take(coded[c][0][attribute_at[out]]) for c in keys}
    excluded |= {
        "school_id": ids.take(out), "school_name": school_name.take(attribute_at[out], allow_fill=True),
        "school_type": type_text.take(type_code[out]),
        "stage": stage_text.take(stage[out]), "students": pd.array(students[out], dtype="Int64"),
        "reason": pd.array(reason[out], dtype="str"),
    }

    kept = np.flatnonzero(pd.isna(school_reason))
    share_numerator, share_denominator = _shares(standard, code[kept], stage[kept], students[kept], type_code[kept], type_names, stage_names)
    in_scope = np.isin(np.array(stage_names, dtype=object), list(scope.stages))[stage[kept]]
    kept, share_numerator, share_denominator = kept[in_scope], share_numerator[in_scope], share_denominator[in_scope]
    order = np.argsort(stage[kept].astype(np.int64) * (len(code) + 1) + _id_rank(schools, ids, code, kept), kind="stable")
    kept, share_numerator, share_denominator = kept[order], share_numerator[order], share_denominator[order]

    at = attribute_at[kept]
    fill = bool((at < 0).any())
    targets = merged.targets(kept)
    columns: dict[str, object] = {}
    for column in raw.columns:
        if column == "school_id":
            columns[column] = ids.take(kept)
        elif column == "stage":
            columns[column] = stage_text.take(stage[kept])
        elif column in merged.sums:
            columns[column] = merged.column(raw, column, kept, targets)
        else:
            columns[column] = raw[column].array.take(rows[kept])
    columns["campuses"] = pd.array(merged.campuses[kept], dtype="str")
    for column in [*SCHOOL_COLUMNS[1:], *keys]:
        if column == "school_type":
            columns[column] = type_text.take(type_code[kept])
        elif column in coded:
            columns[column] = coded[column][1].take(coded[column][0][at])
        else:
            values = school_name if column == "school_name" else schools[column].array
            values = values.astype("str") if column in ("area_type", "ownership") else values
            columns[column] = values.take(at, allow_fill=fill)
    columns["share_numerator"] = share_numerator
    columns["share_denominator"] = share_denominator
    columns["share"] = share_numerator / share_denominator
    used = [c for c in FACILITY_AMOUNTS if any(spec.basis == "facility" and c in spec.terms for spec in standard.indicators.values())]
    columns |= _facility_columns(facilities[used], facility_school, owner_of, code[kept])
    result = pd.DataFrame(columns, copy=False)

    standard_stage = np.array([standard.stages.index(s) if s in standard.stages else -1 for s in stage_names])[stage[kept]]
    if "district_id" in keys:
        district_of, districts = coded["district_id"][0], np.asarray(coded["district_id"][1][:-1], dtype=object)
        district_code = district_of[at]
        if (district_code >= len(districts)).any():  # a school without district or an unknown school: derive from the table
            district_code = districts = None
    else:
        district_code, districts = np.zeros(len(kept), dtype=np.int64), np.zeros(0, dtype=object)
    return Sections(result, pd.DataFrame(excluded, copy=False)[[*keys, "school_id", "school_name", "school_type", "stage", "students", "reason"]],
                    standard_stage, district_code, districts)


def _coded_text(column: pd.Series) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """A repetitive text column as (code per row, with a last extra code for "none"; its
    values in sorted order then a missing value), so that ``values.take(codes[at])`` gives
    the rows at ``at`` (``at = -1``: missing)."""
    codes, values = factorize_runs(_objects(column), sort=True)
    codes = np.where(codes < 0, len(values), codes)
    return np.append(codes, len(values)), pd.array(np.append(values, None).astype(object), dtype="str")


def _objects(column: pd.Series, required: bool = False) -> np.ndarray:
    """A text column as an object array, missing values as None (``required``: a
    column validation guarantees to be filled, or already filtered: no check)."""
    values = np.asarray(column, dtype=object)
    return values if required or not column.hasnans else np.where(column.isna().to_numpy(), None, values)


def factorize_runs(values: np.ndarray, sort: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of an object array, hashing only the first value of each run
    of equal values (a table sorted or grouped by the column hashes one value per
    group, e.g. the district ids of the schools).

    Examples
    --------
    >>> codes, uniques = factorize_runs(np.array(["b", "b", "a", "b"], dtype=object), sort=True)
    >>> codes.tolist(), uniques.tolist()
    ([1, 1, 0, 1], ['a', 'b'])
    """
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    head = np.empty(len(values), dtype=bool)
    head[0] = True
    np.not_equal(values[1:], values[:-1], out=head[1:])
    codes, uniques = pd.factorize(values[head], sort=sort)
    return codes[np.cumsum(head) - 1], np.asarray(uniques, dtype=object)


def _school_reasons(scope: Scope, type_code: np.ndarray, type_names: list[str], school_students: np.ndarray,
                    private_school: np.ndarray, attribute_at: np.ndarray) -> np.ndarray:
    """Why each section's school is left out of the resource indicators (None: kept)."""
    reason = np.full(len(type_code), None, dtype=object)
    by_type = np.array([f"{SCHOOL_TYPES.get(t, t)}不参与资源配置指标计算" if t in scope.excluded_school_types else None
                        for t in type_names] + [None], dtype=object)
    excluded = ~pd.isna(by_type[type_code])
    reason[excluded] = by_type[type_code[excluded]]
    minimum = int(scope.teaching_point_min_students)
    point = type_names.index(scope.teaching_point_type) if scope.teaching_point_type in type_names else -2
    small = (type_code == point) & (school_students < minimum) & ~excluded
    reason[small] = "教学点在校生" + school_students[small].astype(str).astype(object) + f"人，不足{minimum}人，不参与计算"
    if not scope.include_private:
        private = np.append(private_school, False)[attribute_at] & pd.isna(reason)
        reason[private] = "民办学校按本标准不参与计算"
    return reason


def _id_rank(schools: pd.DataFrame, ids: pd.api.extensions.ExtensionArray, code: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Rank of each kept section's school id in sorted order (its school code when the
    schools table is already sorted by id, the usual case)."""
    own = schools["school_id"].to_numpy(object)
    if len(own) < 2 or (code[kept] < len(own)).all() and bool((own[1:] > own[:-1]).all()):
        return code[kept]
    return pd.factorize(ids.take(kept), sort=True)[0]


def _shares(standard: Standard, code: np.ndarray, stage: np.ndarray, students: np.ndarray, type_code: np.ndarray,
            type_names: list[str], stage_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Exact share (numerator, denominator) of each kept section in its school's facilities."""
    size = int(code.max()) + 1 if len(code) else 0
    combined = np.bincount(code, minlength=size)[code] > 1
    table = np.full((len(type_names) + 1, len(stage_names)), np.nan)
    for school_type, weights in _integer_weights(standard).items():
        for stage_name, weight in weights.items():
            if school_type in type_names and stage_name in stage_names:
                table[type_names.index(school_type), stage_names.index(stage_name)] = weight
    weight = table[type_code, stage]
    lacking = combined & np.isnan(weight)
    if lacking.any():
        first = np.flatnonzero(lacking)[0]
        stages = sorted(stage_names[s] for s in stage[code == code[first]])
        school_type = type_names[type_code[first]] if type_code[first] >= 0 else None
        if school_type is None or standard.split_weights(school_type) is None:
            raise StandardError(f"no split weights for a school with stages {stages}")
        raise StandardError(f"split weights lack stage(s) {[stage_names[stage[first]]]}")
    weighted = np.where(combined, np.nan_to_num(weight).astype(np.int64) * students, 1)
    total = np.bincount(code, weights=weighted, minlength=size).astype(np.int64)[code]
    return np.where(total == 0, 0, weighted), np.where(total == 0, 1, total)


def _facility_columns(facilities: pd.DataFrame, school: np.ndarray, owner_of: np.ndarray, code: np.ndarray) -> dict[str, np.ndarray]:
    """``<column>_school``: each section's school facility totals, campuses added in
    (``school``: each facility row's school code; a total is missing only when
    every row added into it is)."""
    if len(school) and np.bincount(school[school >= 0]).max(initial=0) > 1:
        raise ValueError("facilities has more than one row for a school")
    own = school >= 0
    own[own] = owner_of[school[own]] == school[own]
    campus = np.flatnonzero((school >= 0) & ~own)
    # Position of each section's school among the facility rows (-1: none), and of each campus row's parent.
    row_of = np.full(len(owner_of), len(facilities), dtype=np.int64)  # no row: the NaN appended below
    row_of[school[own]] = np.flatnonzero(own)
    at = row_of[code]
    parents = owner_of[school[campus]]
    receiving = np.flatnonzero(np.isin(code, parents)) if campus.size else np.zeros(0, dtype=np.int64)
    out = {}
    for column in facilities.columns:
        values = np.append(facilities[column].to_numpy(float, na_value=np.nan), np.nan)
        per_school = values[at]
        if receiving.size:  # the few sections whose school has campuses: add the campus rows in
            added = np.zeros(len(owner_of))
            present = np.zeros(len(owner_of), dtype=bool)
            np.add.at(added, parents, np.nan_to_num(values[campus]))
            present[parents[~np.isnan(values[campus])]] = True
            to = receiving[present[code[receiving]]]
            per_school[to] = np.nan_to_num(per_school[to]) + added[code[to]]
        out[f"{column}_school"] = per_school
    return out
