"""The optional district key of a period holding many districts (a province or
the whole country): ``district_id`` (区县代码) and ``district_name`` (区县名称) in
``schools``, and ``district_id`` in the per-district tables (``district``,
``evidence``, ``survey``). Rules are whole-column operations.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from balance_metrics.common.errors import Problem
from balance_metrics.common.grouped import first_rows
from balance_metrics.contract.schoolkeys import column_codes, column_words, found_in
from balance_metrics.contract.validation import school_column

KEY = "district_id"
NAME = "district_name"
#: Tables whose rows belong to a district directly (not through a school).
PER_DISTRICT_TABLES = ("district", "evidence", "survey")


def without_empty_district_key(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop ``district_id`` / ``district_name`` when no row fills them (a one-district period)."""
    empty = [c for c in (KEY, NAME) if c in frame.columns and frame[c].isna().all()]
    if KEY in empty and NAME in frame.columns and NAME not in empty:
        return frame  # a name without an id is reported by district_key_problems
    return frame.drop(columns=empty) if empty else frame


def _rows(frame: pd.DataFrame, mask: pd.Series, column: str, rule: str) -> list[Problem]:
    where = mask.to_numpy(bool)
    if not where.any():  # the common case: no frame to cut
        return []
    bad = frame[where]
    values = bad[column].astype(object).where(bad[column].notna(), "").astype(str) if column in bad else pd.Series("", index=bad.index)
    return [Problem(str(f), int(r), column, str(v), rule) for f, r, v in zip(bad["_source"], bad["_row"], values)]


def _renamed(schools: pd.DataFrame) -> np.ndarray:
    """Rows whose district_name differs from the first name given with their district_id."""
    both = column_words(schools[KEY])[0] & schools[NAME].notna().to_numpy(bool)
    codes = column_codes(schools[KEY], both)
    group, uniques = pd.factorize(codes)
    first = first_rows(group, len(uniques))
    names = schools[NAME].to_numpy(object)[both]
    renamed = np.zeros(len(schools), bool)
    renamed[both] = names != names[first][group]
    return renamed


def district_key_problems(tables: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Every row breaking the district-key rules.

    - in ``schools`` the id is given on every row or on none, and a name only with an id;
    - one name per district id; a 不计校数 campus lies in its parent's district;
    - a per-district table has the key exactly when ``schools`` has it, and every
      id it names is a district of ``schools``.
    """
    schools = tables.get("schools")
    if schools is None:
        return []
    problems: list[Problem] = []
    multi = KEY in schools.columns
    if multi:
        problems += _rows(schools, pd.Series(~column_words(schools[KEY])[0], index=schools.index), KEY,
                          "district_id is given for other schools: every school needs its 区县代码 (or none does)")
        if NAME in schools.columns:
            problems += _rows(schools, pd.Series(_renamed(schools), index=schools.index), NAME,
                              "another row gives this district_id a different district_name")
        parents = schools.dropna(subset=["parent_school_id", KEY])
        parent_district = school_column(parents["parent_school_id"], schools, KEY)
        other = parent_district.notna().to_numpy(bool) & (parent_district.to_numpy(object) != parents[KEY].to_numpy(object))
        problems += _rows(parents, pd.Series(other, index=parents.index), KEY,
                          "a 不计校数 campus must lie in the district of its parent school")
    elif NAME in schools.columns:
        problems += _rows(schools, schools[NAME].notna(), NAME, "district_name needs district_id (区县代码) on every school")
    for name in PER_DISTRICT_TABLES:
        frame = tables.get(name)
        if frame is None:
            continue
        if KEY not in frame.columns:
            if multi:
                source = frame["_source"].iloc[0] if len(frame) else name
                problems.append(Problem(str(source), None, KEY, "", f"schools are given by district: {name} needs a district_id column"))
            continue
        if not multi:
            problems += _rows(frame, frame[KEY].notna(), KEY, "schools has no district_id: this period is one district, leave district_id empty")
            continue
        given = column_words(frame[KEY])[0]
        problems += _rows(frame, pd.Series(~given, index=frame.index), KEY, "district_id (区县代码) is required when the period holds several districts")
        unknown = given & ~found_in(frame[KEY], schools[KEY])
        problems += _rows(frame, pd.Series(unknown, index=frame.index), KEY, "district_id not found in the schools table")
    return problems
