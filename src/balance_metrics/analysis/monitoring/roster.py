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
_STAGE_CODES = pd.Index(list(STAGES))


def stage_zh(code: str) -> str:
    """The Chinese name of a stage code (the code itself if unknown)."""
    return STAGES.get(code, code)


def _zh(column: pd.Series, names: dict[str, str]) -> pd.Series:
    """Codes -> Chinese names, unknown codes kept (a map over the distinct codes only)."""
    text = column.astype(object)
    return text.map(names).fillna(text)


def stage_students(sections: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """school_id, stage, students of every reported section (campuses unmerged),
    with ``school`` (row of the school in ``schools``, -1 if absent) and ``rank``
    (position of the stage in :data:`STAGES`, -1 if unknown): the integer keys
    :func:`roster` and :func:`school_changes` work with."""
    out = sections[STAGE_STUDENT_COLUMNS].astype({"students": "int64"}).reset_index(drop=True)
    out["school"] = pd.Index(schools["school_id"].to_numpy(object)).get_indexer(out["school_id"].to_numpy(object))
    out["rank"] = _STAGE_CODES.get_indexer(out["stage"].to_numpy(object))
    return out


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
    where, rank = stages["school"].to_numpy(np.int64), stages["rank"].to_numpy(np.int64)
    known = (where >= 0) & (rank >= 0)
    students = np.bincount(where[where >= 0], weights=stages["students"].to_numpy(np.int64)[where >= 0],
                           minlength=len(schools))
    # Each school's set of stages as a bit mask; the few distinct masks are spelled once.
    bits = np.zeros(len(schools), dtype=np.int64)
    np.bitwise_or.at(bits, where[known], np.left_shift(1, rank[known]).astype(np.int64))
    masks, inverse = np.unique(bits, return_inverse=True)
    codes = list(STAGES)
    spelled = np.array([",".join(codes[i] for i in range(len(codes)) if mask >> i & 1) for mask in masks], dtype=object)
    out = schools.drop(columns=["_source", "_row"], errors="ignore").reset_index(drop=True)
    out["stages"] = pd.array(spelled[inverse.reshape(-1)], dtype=schools["school_id"].dtype)
    out["students"] = students.astype(np.int64)
    out.insert(0, "period", period)
    return out[[c for c in ROSTER_COLUMNS if c in out.columns]]


def _text(values: object) -> np.ndarray:
    """Any column or array as an object array of str (for elementwise ``+``)."""
    return np.asarray(pd.Series(values).astype(str).to_numpy(object), dtype=object)


def _rows(period: str, previous: str, kind: str, schools: pd.DataFrame, at: np.ndarray, description: np.ndarray,
          **fields: np.ndarray) -> pd.DataFrame:
    """Change rows for the schools at positions ``at`` of the roster ``schools``."""
    n = len(at)
    data: dict[str, object] = {"period": [period] * n, "previous_period": [previous] * n}
    if "district_id" in schools.columns:
        data["district_id"] = schools["district_id"].to_numpy(object)[at]
    data |= {"school_id": schools["school_id"].to_numpy(object)[at], "school_name": schools["school_name"].to_numpy(object)[at],
             "change": [kind] * n, "stage": [""] * n, "before": [""] * n, "after": [""] * n,
             "students": pd.array([pd.NA] * n, dtype="Int64")}
    for name, values in fields.items():
        data[name] = pd.array(values, dtype="Int64") if name == "students" else np.asarray(values, dtype=object)
    data["description"] = description
    return pd.DataFrame(data)


def school_changes(prev: pd.DataFrame, cur: pd.DataFrame, prev_stages: pd.DataFrame, cur_stages: pd.DataFrame) -> pd.DataFrame:
    """Schools that opened, closed, changed type or name, or gained or lost a stage.

    Whole-column: schools are matched by id once (a hash lookup), stages by an
    integer key school × stage; no loop over schools.

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
    ids = pd.Index(cur["school_id"].to_numpy(object))
    in_prev = pd.Index(prev["school_id"].to_numpy(object)).get_indexer(ids)  # cur position -> prev position
    opened = np.flatnonzero(in_prev < 0)
    # We only know a closed school is no longer reported; the reason is not in the data.
    now = np.flatnonzero(in_prev >= 0)
    then = in_prev[now]
    to_now = np.full(len(prev), -1, dtype=np.int64)  # prev position -> cur position
    to_now[then] = now
    closed = np.flatnonzero(to_now < 0)
    kinds, names = cur["school_type"].to_numpy(object), cur["school_name"].to_numpy(object)
    old_kinds, old_names = prev["school_type"].to_numpy(object), prev["school_name"].to_numpy(object)
    retyped = kinds[now] != old_kinds[then]
    renamed = names[now] != old_names[then]
    t_now, t_then = now[retyped], then[retyped]
    r_now, r_then = now[renamed], then[renamed]
    types = lambda frame, at: _text(_zh(pd.Series(frame["school_type"].to_numpy(object)[at]), SCHOOL_TYPES))  # noqa: E731
    who = lambda frame, at: _text(frame["school_name"].to_numpy(object)[at]) + "（" + _text(frame["school_id"].to_numpy(object)[at]) + "）"  # noqa: E731
    pupils = lambda frame, at: frame["students"].to_numpy(np.int64)[at]  # noqa: E731
    parts = [
        _rows(period, previous, "opened", cur, opened,
              who(cur, opened) + "新设立：" + types(cur, opened) + "，在校生" + _text(pupils(cur, opened)) + "人",
              after=kinds[opened], students=pupils(cur, opened)),
        _rows(period, previous, "closed", prev, closed,
              who(prev, closed) + "本期不再报送（撤并或停办）；上期为" + types(prev, closed) + "，在校生"
              + _text(pupils(prev, closed)) + "人",
              before=old_kinds[closed], students=pupils(prev, closed)),
        _rows(period, previous, "type_changed", cur, t_now,
              who(cur, t_now) + "办学类型由" + types(prev, t_then) + "改为" + types(cur, t_now),
              before=old_kinds[t_then], after=kinds[t_now], students=pupils(cur, t_now)),
        _rows(period, previous, "renamed", cur, r_now,
              _text(cur["school_id"].to_numpy(object)[r_now]) + " 校名由" + _text(old_names[r_then]) + "改为" + _text(names[r_now]),
              before=old_names[r_then], after=names[r_now]),
        *_stage_changes(prev_stages, cur_stages, cur, in_prev >= 0, to_now, period, previous, who),
    ]
    parts = [part for part in parts if len(part)]
    columns = [col for col in CHANGE_COLUMNS if col != "district_id" or "district_id" in cur.columns]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True)
    rank = pd.Index(CHANGE_KINDS).get_indexer(frame["change"])
    order = np.lexsort((frame["stage"].to_numpy(str), frame["school_id"].to_numpy(str), rank))
    return frame.iloc[order][columns].reset_index(drop=True)


def _stage_changes(prev: pd.DataFrame, cur: pd.DataFrame, roster_now: pd.DataFrame, both: np.ndarray,
                   to_now: np.ndarray, period: str, previous: str, who) -> list[pd.DataFrame]:
    """Stages gained or lost by schools present in both periods (names from the current roster).

    Each section is keyed by an integer: its school's position in the current
    roster × (number of stages + 1) + 1 + the stage's position (unknown stages: 0).
    """
    width = len(_STAGE_CODES) + 1

    def keyed(stages: pd.DataFrame, school: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keep = np.flatnonzero(school >= 0)
        keep = keep[both[school[keep]]]
        return keep, school[keep] * width + stages["rank"].to_numpy(np.int64)[keep] + 1

    then_school = prev["school"].to_numpy(np.int64)
    then_school = np.where(then_school >= 0, to_now[np.maximum(then_school, 0)], -1)
    at_now, key_now = keyed(cur, cur["school"].to_numpy(np.int64))
    at_then, key_then = keyed(prev, then_school)
    out = []
    for kind, stages, at, key, other, (verb, middle, tail) in (
        ("stage_added", cur, at_now, key_now, key_then, ("新设", "学段，在校生", "人")),
        ("stage_removed", prev, at_then, key_then, key_now, ("不再设", "学段（上期", "人）")),
    ):
        new = ~np.isin(key, other)
        rows, school = at[new], key[new] // width
        stage = stages["stage"].to_numpy(object)[rows]
        n = stages["students"].to_numpy(np.int64)[rows]
        description = (who(roster_now, school) + verb + _text(_zh(pd.Series(stage), dict(STAGES))) + middle + _text(n) + tail)
        side = {"after": stage} if kind == "stage_added" else {"before": stage}
        out.append(_rows(period, previous, kind, roster_now, school, description, stage=stage, students=n, **side))
    return out
