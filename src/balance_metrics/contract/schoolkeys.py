"""Where each school id lies in the ``schools`` table, looked up once and shared by the rules.

Many validation rules ask, for a table's ``school_id`` column, which row of ``schools``
each id names (or that it names none). Hashing a few hundred thousand id texts is the
costly part, so :func:`school_index` keeps one :class:`SchoolIndex` for the current
``schools`` table and each id column is looked up once (both remembered by weak
reference to the column's array: nothing outlives the tables, and a new table is
looked up afresh).
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd


class SchoolIndex:
    """The first row of each school id in ``schools``: :meth:`rows` gives it for any id column."""

    def __init__(self, schools: pd.DataFrame):
        ids = schools["school_id"]
        first = (~ids.duplicated(keep="first") & ids.notna()).to_numpy(bool)
        self.positions = np.flatnonzero(first)
        self.index = pd.Index(ids.to_numpy(object)[first], dtype=object)
        self._looked_up: list[tuple[weakref.ref, np.ndarray]] = []

    def rows(self, ids: pd.Series) -> np.ndarray:
        """Row in ``schools`` (first of the id) of each id; -1 where the id is missing or unknown."""
        array = ids.array
        for ref, rows in self._looked_up:
            if ref() is array:
                return rows
        where = self.index.get_indexer(ids.to_numpy(object))
        rows = np.where(where >= 0, self.positions[np.maximum(where, 0)], -1) if len(self.positions) else np.full(len(ids), -1)
        try:
            self._looked_up.append((weakref.ref(array), rows))
        except TypeError:  # an array without weak references is looked up each time
            pass
        return rows


_CURRENT: list[tuple[weakref.ref, SchoolIndex]] = []


def school_index(schools: pd.DataFrame) -> SchoolIndex:
    """The :class:`SchoolIndex` of ``schools`` (built once per schools table)."""
    array = schools["school_id"].array
    current = next(iter(_CURRENT), None)  # one read: another thread may replace it meanwhile
    if current is not None and current[0]() is array:
        return current[1]
    index = SchoolIndex(schools)
    try:
        _CURRENT[:] = [(weakref.ref(array), index)]
        weakref.finalize(array, _forget, index)  # the table is gone: so is its index
    except TypeError:
        pass
    return index


def _forget(index: SchoolIndex) -> None:
    if _CURRENT and _CURRENT[0][1] is index:
        _CURRENT.clear()
