"""One row per school, as the school-level items (G3–G7, Q4, plan targets) see it.

Unlike the resource indicators, these items judge whole schools, not sections:
a school's compulsory-stage pupils and classes are added up, its 不计校数
campuses are merged in (when the standard says so), and its budget and staff
training figures are attached from the optional tables.

Whole-column: the school ids of every table are coded against the schools in
one hash (of the first row of each run of equal ids), and the per-school
figures are ``np.bincount`` / ``np.minimum.at`` reductions over those codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from balance_metrics.contract.dataset import Dataset
from balance_metrics.contract.schema import STAGES
from balance_metrics.common.grouped import join_by_group
from balance_metrics.engine.sections import campus_owner, merges_campuses
from balance_metrics.standard.loader import Standard

# Facility columns that add up over campuses; room sizes take the smallest room.
_ROOM_COUNTS = ("music_rooms", "art_rooms", "labour_rooms")
_ROOM_SIZES = {"smallest_music_room_m2": "music_rooms", "smallest_art_room_m2": "art_rooms"}
_OPTIONAL_AMOUNTS = {
    "finance": ("public_funds_yuan", "training_funds_yuan"),
    "staff_training": ("staff", "district_trained"),
}
_SECTION_SUMS = ("students", "classes", "teachers", "key_teachers", "certified_teachers")
SCHOOL_ATTRIBUTES = ["school_name", "school_type", "area_type", "ownership", "boarding", "year_built"]


def owner_of(dataset: Dataset, standard: Standard) -> pd.Series:
    """school_id -> the school it is counted under (see :func:`~balance_metrics.engine.sections.campus_owner`)."""
    return campus_owner(dataset.schools, standard)


def schools_view(dataset: Dataset, standard: Standard) -> pd.DataFrame:
    """One row per counted school, in the order of the schools table.

    Returns
    -------
    DataFrame
        district_id ("" for a one-district period), school_id, school_name,
        school_type, area_type, ownership, boarding, year_built, campuses
        (its merged campuses' ids, sorted, comma-joined);
        per stage ``classes_<stage>`` and ``students_<stage>``; ``students``
        and ``classes`` (compulsory stages only), ``teachers``,
        ``key_teachers``, ``certified_teachers`` (compulsory stages),
        ``all_students`` (every stage) — whole numbers, 0 for a school
        without sections; room counts (Int64, missing when the school has
        none reported) and the smallest music / art room (m², Float64, over
        rooms that exist); and ``public_funds_yuan``, ``training_funds_yuan``
        (元), ``staff``, ``district_trained`` (persons) — NaN for a school
        without a row or a period without the table. ``has_finance`` /
        ``has_staff_training`` say whether it had one.
    """
    return coded_schools(dataset, standard)[0]


def coded_schools(dataset: Dataset, standard: Standard) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """:func:`schools_view` and, for each table with a ``school_id`` column
    among :data:`CODED_TABLES` the period has, each row's school as its
    position in the schools table (-1: not there; a campus is its own school)."""
    schools = dataset.schools
    codes = school_codes(dataset, CODED_TABLES)
    owner = _owners(schools, codes.pop("parent"), standard)
    own = np.flatnonzero(owner == np.arange(len(schools)))
    view = schools.iloc[own][["school_id", *SCHOOL_ATTRIBUTES]].reset_index(drop=True)
    district = schools["district_id"].astype(object).to_numpy()[own] if "district_id" in schools.columns else np.full(len(own), "", dtype=object)
    view.insert(0, "district_id", district)
    view["campuses"] = pd.array(_campuses(schools["school_id"].to_numpy(object), owner)[own], dtype=schools["school_id"].dtype)
    owned = {table: np.append(owner, -1)[code] for table, code in codes.items()}  # -1 stays -1
    columns: dict[str, object] = {}
    columns |= _section_totals(dataset.sections, owned["sections"], len(schools), standard)
    columns |= _rooms(dataset.facilities, owned["facilities"], len(schools))
    for table, names in _OPTIONAL_AMOUNTS.items():
        columns |= _optional_amounts(dataset.table(table), table, names, owned.get(table), len(schools))
    extra = pd.DataFrame({name: values[own] for name, values in columns.items()})
    return pd.concat([view, extra], axis=1), codes


#: Tables whose rows :func:`coded_schools` codes by school.
CODED_TABLES = ("sections", "facilities", "finance", "staff_training", "quality")


def school_codes(dataset: Dataset, tables: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Each row's school of ``tables`` (those the period has, with a
    ``school_id`` column) and each school's ``parent`` (its 不计校数 parent,
    -1 for none or an unknown one), as positions in the schools table; -1 for
    a school not there.

    One hash of all the ids at once, of the first row of each run of equal ids
    (a table grouped by school hashes one id per school).
    """
    schools = dataset.schools
    n = len(schools)
    parent = schools["parent_school_id"] if "parent_school_id" in schools.columns else pd.Series(pd.NA, index=schools.index, dtype=object)
    campus = np.flatnonzero(parent.notna().to_numpy(bool))
    columns = {"parent": parent.to_numpy(object)[campus]}
    found = {t: dataset.table(t) for t in tables}
    columns |= {t: _objects(frame["school_id"]) for t, frame in found.items() if frame is not None and "school_id" in frame.columns}
    heads = {t: _run_heads(v) for t, v in columns.items()}
    code, _ = pd.factorize(np.concatenate([schools["school_id"].to_numpy(object), *(v[h] for v, h in zip(columns.values(), heads.values()))]))
    if not np.array_equal(code[:n], np.arange(n)):
        raise ValueError("schools has a school_id more than once")
    code = np.where(code < n, code, -1)
    out, at = {}, n
    for table, head in heads.items():
        found = code[at:at + int(head.sum())]
        at += len(found)
        out[table] = found[np.cumsum(head) - 1] if len(head) else np.zeros(0, dtype=np.int64)
    parents = np.full(n, -1, dtype=np.int64)
    parents[campus] = out["parent"]
    out["parent"] = parents
    return out


def _objects(column: pd.Series) -> np.ndarray:
    """An id column as an object array, a missing id as None (compared, not an error)."""
    values = column.to_numpy(object)
    return np.where(column.isna().to_numpy(bool), None, values) if column.hasnans else values


def _run_heads(values: np.ndarray) -> np.ndarray:
    """Whether each value starts a run of equal values."""
    head = np.ones(len(values), dtype=bool)
    if len(values) > 1:
        np.not_equal(values[1:], values[:-1], out=head[1:])
    return head


def _owners(schools: pd.DataFrame, parent: np.ndarray, standard: Standard) -> np.ndarray:
    """Position (in ``schools``) of the school each school is counted under; -1
    for a merged campus whose parent is not in the schools table."""
    owner = np.arange(len(schools))
    if merges_campuses(standard) and "parent_school_id" in schools.columns:
        campus = schools["parent_school_id"].notna().to_numpy(bool)
        owner[campus] = parent[campus]
    return owner


def _campuses(ids: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Each school's merged campuses: their ids sorted and joined with ","."""
    campus = np.flatnonzero((owner >= 0) & (owner != np.arange(len(ids))))
    order = campus[np.argsort(ids[campus], kind="stable")]
    order = order[np.argsort(owner[order], kind="stable")]
    return join_by_group(owner[order], ids[order], len(ids), sep=",")


def _sum(code: np.ndarray, column: pd.Series, n: int, keep: np.ndarray | None = None) -> np.ndarray:
    """Per-owner sum of a whole-number column (missing values count 0)."""
    values = column.to_numpy(float, na_value=0.0)
    valid = code >= 0 if keep is None else (code >= 0) & keep
    return np.bincount(code[valid], weights=values[valid], minlength=n).astype(np.int64)


def _section_totals(sections: pd.DataFrame, code: np.ndarray, n: int, standard: Standard) -> dict[str, np.ndarray]:
    stage, names = pd.factorize(sections["stage"].to_numpy(object))
    at_stage = {s: stage == list(names).index(s) for s in STAGES if s in set(names)}
    present = sorted(s for s, rows in at_stage.items() if rows[code >= 0].any())  # as a pivot of the sections would have
    totals = {f"{value}_{s}": _sum(code, sections[value], n, at_stage[s]) for value in ("classes", "students") for s in present}
    compulsory = np.isin(stage, [k for k, name in enumerate(names) if name in set(standard.stages)])
    totals |= {value: _sum(code, sections[value], n, compulsory) for value in _SECTION_SUMS}
    totals["all_students"] = _sum(code, sections["students"], n)
    for s in STAGES:
        for value in ("students", "classes"):
            totals.setdefault(f"{value}_{s}", np.zeros(n, dtype=np.int64))
    return totals


def _rooms(facilities: pd.DataFrame, code: np.ndarray, n: int) -> dict[str, object]:
    rooms: dict[str, object] = {}
    for column in _ROOM_COUNTS:
        values = facilities[column]
        counted = (code >= 0) & values.notna().to_numpy(bool)
        total = np.bincount(code[counted], weights=values.to_numpy(float, na_value=0.0)[counted], minlength=n)
        reported = np.bincount(code[counted], minlength=n) > 0
        rooms[column] = pd.arrays.IntegerArray(total.astype(np.int64), ~reported)
    for size, count in _ROOM_SIZES.items():
        area = facilities[size].to_numpy(float, na_value=np.nan)
        existing = (code >= 0) & (facilities[count].to_numpy(float, na_value=0.0) > 0) & ~np.isnan(area)
        smallest = np.full(n, np.inf)
        np.minimum.at(smallest, code[existing], area[existing])
        missing = np.isinf(smallest)
        rooms[size] = pd.arrays.FloatingArray(np.where(missing, 0.0, smallest), missing)
    return rooms


def _optional_amounts(frame: pd.DataFrame | None, table: str, columns: tuple[str, ...], code: np.ndarray | None,
                      n: int) -> dict[str, np.ndarray]:
    if frame is None or code is None:
        return {**{c: np.full(n, np.nan) for c in columns}, f"has_{table}": np.zeros(n, dtype=bool)}
    amounts: dict[str, np.ndarray] = {}
    for column in columns:
        values = frame[column]
        counted = (code >= 0) & values.notna().to_numpy(bool)
        total = np.bincount(code[counted], weights=values.to_numpy(float, na_value=0.0)[counted], minlength=n)
        amounts[column] = np.where(np.bincount(code[counted], minlength=n) > 0, total, np.nan)
    amounts[f"has_{table}"] = np.bincount(code[code >= 0], minlength=n) > 0
    return amounts


def scope_mask(view: pd.DataFrame, spec: dict) -> np.ndarray:
    """Whether each school is one an item applies to: ``school_types``,
    ``area_types`` and ``ownerships`` lists of the item's standard entry (absent = all)."""
    mask = np.ones(len(view), dtype=bool)
    for key, column in (("school_types", "school_type"), ("area_types", "area_type"), ("ownerships", "ownership")):
        if key in spec:
            mask &= view[column].isin(list(spec[key])).to_numpy(bool)
    return mask


def in_scope(view: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """The schools an item applies to (rows of ``view`` where :func:`scope_mask`)."""
    return view[scope_mask(view, spec)]
