"""One row per school, as the school-level items (G3–G7, Q4, plan targets) see it.

Unlike the resource indicators, these items judge whole schools, not sections:
a school's compulsory-stage pupils and classes are added up, its 不计校数
campuses are merged in (when the standard says so), and its budget and staff
training figures are attached from the optional tables.
"""

from __future__ import annotations

import pandas as pd

from balance_metrics.contract.dataset import Dataset
from balance_metrics.engine.sections import campus_owner
from balance_metrics.standard.loader import Standard

# Facility columns that add up over campuses; room sizes take the smallest room.
_ROOM_COUNTS = ("music_rooms", "art_rooms", "labour_rooms")
_ROOM_SIZES = {"smallest_music_room_m2": "music_rooms", "smallest_art_room_m2": "art_rooms"}
_OPTIONAL_AMOUNTS = {
    "finance": ("public_funds_yuan", "training_funds_yuan"),
    "staff_training": ("staff", "district_trained"),
}
SCHOOL_ATTRIBUTES = ["school_name", "school_type", "area_type", "ownership", "boarding", "year_built"]


def owner_of(dataset: Dataset, standard: Standard) -> pd.Series:
    """school_id -> the school it is counted under (see :func:`~balance_metrics.engine.sections.campus_owner`)."""
    return campus_owner(dataset.schools, standard)


def schools_view(dataset: Dataset, standard: Standard) -> pd.DataFrame:
    """One row per counted school.

    Returns
    -------
    DataFrame
        school_id, school_name, school_type, area_type, ownership, boarding,
        year_built, campuses; per stage ``students_<stage>`` and
        ``classes_<stage>``; ``students`` and ``classes`` (compulsory stages
        only), ``all_students`` (every stage), ``teachers``, ``key_teachers``,
        ``certified_teachers`` (compulsory stages); room counts and the
        smallest music / art room (m², over rooms that exist); and, when the
        period has them, ``public_funds_yuan``, ``training_funds_yuan`` (元),
        ``staff``, ``district_trained`` (persons) — NaN for a school without a
        row. ``has_finance`` / ``has_staff_training`` say whether it had one.
    """
    owner = owner_of(dataset, standard)
    schools = dataset.schools[dataset.schools["school_id"].map(owner) == dataset.schools["school_id"]]
    view = schools.set_index("school_id")[SCHOOL_ATTRIBUTES].copy()
    campuses = dataset.schools[dataset.schools["school_id"].map(owner) != dataset.schools["school_id"]]
    view["campuses"] = campuses.groupby(campuses["school_id"].map(owner))["school_id"].agg(lambda s: ",".join(sorted(s)))
    view["campuses"] = view["campuses"].fillna("")
    view = view.join(_section_totals(dataset, standard, owner))
    view = view.join(_rooms(dataset, owner))
    for table, columns in _OPTIONAL_AMOUNTS.items():
        view = view.join(_optional_amounts(dataset, table, columns, owner))
        view[f"has_{table}"] = view[f"has_{table}"].astype("boolean").fillna(False).astype(bool)
    return view.reset_index()


def _section_totals(dataset: Dataset, standard: Standard, owner: pd.Series) -> pd.DataFrame:
    sections = dataset.sections.assign(owner=dataset.sections["school_id"].map(owner))
    by_stage = sections.pivot_table(index="owner", columns="stage", values=["students", "classes"], aggfunc="sum", fill_value=0)
    by_stage.columns = [f"{value}_{stage}" for value, stage in by_stage.columns]
    compulsory = sections[sections["stage"].isin(standard.stages)]
    sums = compulsory.groupby("owner")[["students", "classes", "teachers", "key_teachers", "certified_teachers"]].sum()
    totals = by_stage.join(sums, how="outer").fillna(0)
    totals["all_students"] = sections.groupby("owner")["students"].sum()
    for stage in ("primary", "junior", "senior"):
        for value in ("students", "classes"):
            if f"{value}_{stage}" not in totals:
                totals[f"{value}_{stage}"] = 0
    return totals.astype("int64")


def _rooms(dataset: Dataset, owner: pd.Series) -> pd.DataFrame:
    fac = dataset.facilities.assign(owner=dataset.facilities["school_id"].map(owner))
    counts = fac.groupby("owner")[[c for c in _ROOM_COUNTS]].sum(min_count=1)
    for size, count in _ROOM_SIZES.items():
        existing = fac[(fac[count] > 0).fillna(False)]
        counts[size] = existing.groupby("owner")[size].min()
    return counts


def _optional_amounts(dataset: Dataset, table: str, columns: tuple[str, ...], owner: pd.Series) -> pd.DataFrame:
    flag = f"has_{table}"
    frame = dataset.table(table)
    if frame is None:
        return pd.DataFrame({**{c: pd.Series(dtype=float) for c in columns}, flag: pd.Series(dtype=bool)})
    grouped = frame.assign(owner=frame["school_id"].map(owner)).groupby("owner")
    result = grouped[list(columns)].sum(min_count=1).astype(float)
    result[flag] = True
    return result


def in_scope(view: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """The schools an item applies to: ``school_types``, ``area_types`` and
    ``ownerships`` lists of the item's standard entry (absent = all)."""
    mask = pd.Series(True, index=view.index)
    for key, column in (("school_types", "school_type"), ("area_types", "area_type"), ("ownerships", "ownership")):
        if key in spec:
            mask &= view[column].isin(list(spec[key]))
    return view[mask]
