"""A period's school roster and the schools that changed between two periods.

Whole-column: :func:`roster` joins each school's stages and pupils without a
per-school function, and :func:`school_changes` finds opened, closed,
re-typed, renamed schools and gained or lost stages with set operations on
the school ids (one call per pair of consecutive periods).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from balance_metrics.contract.schema import SCHOOL_TYPES, STAGES

ROSTER_COLUMNS = [
    "period", "district_id", "school_id", "school_name", "school_type", "area_type", "ownership", "boarding",
    "parent_school_id", "year_built", "stages", "students",
]
CHANGE_COLUMNS = [
    "period", "district_id", "previous_period", "school_id", "school_name", "change", "stage", "before", "after",
    "students", "description",
]
#: Order in which change kinds are listed within a period.
CHANGE_KINDS = ("opened", "closed", "type_changed", "renamed", "stage_added", "stage_removed")
STAGE_STUDENT_COLUMNS = ["school_id", "stage", "students"]


def stage_zh(code: str) -> str:
    """The Chinese name of a stage code (the code itself if unknown)."""
    return STAGES.get(code, code)


def _zh(column: pd.Series, names: dict[str, str]) -> pd.Series:
    """Codes -> Chinese names, unknown codes kept (a map over the distinct codes only)."""
    text = column.astype(object)
    return text.map(names).fillna(text)


def stage_students(sections: pd.DataFrame) -> pd.DataFrame:
    """school_id, stage, students of every reported section (campuses unmerged)."""
    return sections[STAGE_STUDENT_COLUMNS].astype({"students": "int64"}).reset_index(drop=True)


def roster(schools: pd.DataFrame, stages: pd.DataFrame, period: str) -> pd.DataFrame:
    """One row per reported school: its fields, its stages and its pupils.

    Parameters
    ----------
    schools : DataFrame
        ``Dataset.schools``.
    stages : DataFrame
        :func:`stage_students` of the same period.
    period : str

    Returns
    -------
    DataFrame
        :data:`ROSTER_COLUMNS` present in the data (``district_id`` only for a
        period holding many districts); ``stages`` lists the school's stage
        codes comma-separated in the order of :data:`STAGES` ("" for none),
        ``students`` the pupils of all its stages (0 for none).
    """
    ids = pd.Index(schools["school_id"].to_numpy(object))
    where = ids.get_indexer(stages["school_id"].to_numpy(object))
    known = where >= 0
    students = np.bincount(where[known], weights=stages["students"].to_numpy(np.int64)[known], minlength=len(ids))
    # Each school's set of stages as a bit mask; the few distinct masks are spelled once.
    rank = pd.Index(list(STAGES)).get_indexer(stages["stage"].to_numpy(object))
    bits = np.zeros(len(ids), dtype=np.int64)
    np.bitwise_or.at(bits, where[known], np.left_shift(1, rank[known]).astype(np.int64))
    masks, inverse = np.unique(bits, return_inverse=True)
    codes = list(STAGES)
    spelled = np.array([",".join(codes[i] for i in range(len(codes)) if mask >> i & 1) for mask in masks], dtype=object)
    out = schools.drop(columns=["_source", "_row"], errors="ignore").reset_index(drop=True)
    out["stages"] = pd.array(spelled[inverse.reshape(-1)], dtype=schools["school_id"].dtype)
    out["students"] = students.astype(np.int64)
    out.insert(0, "period", period)
    return out[[c for c in ROSTER_COLUMNS if c in out.columns]]


def _rows(period: str, previous: str, kind: str, frame: pd.DataFrame, description: pd.Series, **fields) -> pd.DataFrame:
    """Change rows for the schools of ``frame`` (school_id, school_name[, district_id])."""
    n = len(frame)
    data = {"period": [period] * n, "previous_period": [previous] * n}
    if "district_id" in frame.columns:
        data["district_id"] = frame["district_id"].to_numpy(object)
    data |= {"school_id": frame["school_id"].to_numpy(object), "school_name": frame["school_name"].to_numpy(object),
             "change": [kind] * n, "stage": [""] * n, "before": [""] * n, "after": [""] * n,
             "students": pd.array([pd.NA] * n, dtype="Int64")}
    for name, values in fields.items():
        data[name] = values.to_numpy(object) if name != "students" else pd.array(values.to_numpy(np.int64), dtype="Int64")
    data["description"] = description.to_numpy(object)
    return pd.DataFrame(data)


def school_changes(prev: pd.DataFrame, cur: pd.DataFrame, prev_stages: pd.DataFrame, cur_stages: pd.DataFrame) -> pd.DataFrame:
    """Schools that opened, closed, changed type or name, or gained or lost a stage.

    Parameters
    ----------
    prev, cur : DataFrame
        :func:`roster` of two consecutive periods.
    prev_stages, cur_stages : DataFrame
        :func:`stage_students` of the same two periods.

    Returns
    -------
    DataFrame
        :data:`CHANGE_COLUMNS` (``district_id`` only when the rosters have it),
        by kind (:data:`CHANGE_KINDS`), then school_id and stage.
    """
    period, previous = str(cur["period"].iloc[0]), str(prev["period"].iloc[0])
    p = prev.set_index("school_id", drop=False)
    c = cur.set_index("school_id", drop=False)
    opened = c[~c.index.isin(p.index)]
    # We only know a closed school is no longer reported; the reason is not in the data.
    closed = p[~p.index.isin(c.index)]
    both = c.index[c.index.isin(p.index)]
    new, old = c.loc[both], p.loc[both]
    sid = lambda f: f["school_id"].astype(object)  # noqa: E731 - column as plain text
    name = lambda f: f["school_name"].astype(object)  # noqa: E731
    retyped = (new["school_type"].astype(object).to_numpy() != old["school_type"].astype(object).to_numpy())
    renamed = (new["school_name"].astype(object).to_numpy() != old["school_name"].astype(object).to_numpy())
    t_new, t_old = new[retyped], old[retyped]
    r_new, r_old = new[renamed], old[renamed]
    parts = [
        _rows(period, previous, "opened", opened,
              name(opened) + "（" + sid(opened) + "）新设立：" + _zh(opened["school_type"], SCHOOL_TYPES)
              + "，在校生" + opened["students"].astype(str).astype(object) + "人",
              after=opened["school_type"], students=opened["students"]),
        _rows(period, previous, "closed", closed,
              name(closed) + "（" + sid(closed) + "）本期不再报送（撤并或停办）；上期为" + _zh(closed["school_type"], SCHOOL_TYPES)
              + "，在校生" + closed["students"].astype(str).astype(object) + "人",
              before=closed["school_type"], students=closed["students"]),
        _rows(period, previous, "type_changed", t_new,
              name(t_new) + "（" + sid(t_new) + "）办学类型由" + _zh(t_old["school_type"], SCHOOL_TYPES).to_numpy()
              + "改为" + _zh(t_new["school_type"], SCHOOL_TYPES),
              before=t_old["school_type"], after=t_new["school_type"], students=t_new["students"]),
        _rows(period, previous, "renamed", r_new,
              sid(r_new) + " 校名由" + name(r_old).to_numpy() + "改为" + name(r_new),
              before=r_old["school_name"], after=r_new["school_name"]),
        *_stage_changes(prev_stages, cur_stages, c, both, period, previous),
    ]
    parts = [part for part in parts if len(part)]
    columns = [col for col in CHANGE_COLUMNS if col != "district_id" or "district_id" in cur.columns]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True)
    rank = pd.Index(CHANGE_KINDS).get_indexer(frame["change"])
    order = np.lexsort((frame["stage"].to_numpy(str), frame["school_id"].to_numpy(str), rank))
    return frame.iloc[order][columns].reset_index(drop=True)


def _stage_changes(prev: pd.DataFrame, cur: pd.DataFrame, roster_now: pd.DataFrame, both: pd.Index,
                   period: str, previous: str) -> list[pd.DataFrame]:
    """Stages gained or lost by schools present in both periods (names from the current roster)."""
    keys = ["school_id", "stage"]
    before = prev[prev["school_id"].isin(both)].astype({"school_id": object, "stage": object})
    after = cur[cur["school_id"].isin(both)].astype({"school_id": object, "stage": object})
    merged = after.merge(before, on=keys, how="outer", suffixes=("", "_before"), indicator=True)
    out = []
    for kind, side, column, (middle, tail) in (
        ("stage_added", "left_only", "students", ("学段，在校生", "人")),
        ("stage_removed", "right_only", "students_before", ("学段（上期", "人）")),
    ):
        rows = merged[merged["_merge"] == side].reset_index(drop=True)
        school = roster_now.loc[rows["school_id"]]
        verb = "新设" if kind == "stage_added" else "不再设"
        pupils = rows[column].astype(np.int64)
        description = (school["school_name"].astype(object).to_numpy() + "（" + rows["school_id"] + "）" + verb
                       + _zh(rows["stage"], dict(STAGES)) + middle + pupils.astype(str).astype(object) + tail)
        named = pd.DataFrame({"school_id": rows["school_id"].to_numpy(object),
                              "school_name": school["school_name"].to_numpy(object)})
        if "district_id" in school.columns:
            named.insert(0, "district_id", school["district_id"].to_numpy(object))
        side_field = {"after": rows["stage"]} if kind == "stage_added" else {"before": rows["stage"]}
        out.append(_rows(period, previous, kind, named, description, stage=rows["stage"], students=pupils, **side_field))
    return out
