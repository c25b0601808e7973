"""The campus merge on integer codes: 不计校数 campus sections added into their parent.

Used by :func:`balance_metrics.engine.sections.build_sections`. Works on the
school code of every raw section row (position in the schools table) and the
code of the school it is counted under; only the (parent, stage) groups that
receive a campus are summed, every other row stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import join_by_group


@dataclass(frozen=True)
class Merged:
    """Raw section rows after the merge.

    Attributes
    ----------
    rows : ndarray of int
        Raw row standing for each merged section (the first row of its group), in raw order.
    sums : dict
        Count column -> merged values (float, one per merged section) for the
        columns that changed; absent when no campus was merged.
    largest : ndarray of float or None
        Merged ``largest_class`` (max over the group; NaN when all missing).
    campuses : ndarray of object
        Comma-joined ids of the campuses merged into each section ("" for none).
    """

    rows: np.ndarray
    sums: dict[str, np.ndarray]
    largest: np.ndarray | None
    campuses: np.ndarray


def merge_campus_rows(raw: pd.DataFrame, school: np.ndarray, owner_of: np.ndarray, stage: np.ndarray, counts: list[str]) -> Merged:
    """Merge campus section rows into their parent's section of the same stage.

    Parameters
    ----------
    raw : DataFrame
        The period's sections table (school_id, stage, counts).
    school : ndarray of int
        Each raw row's school code.
    owner_of : ndarray of int
        School code -> code of the school it is counted under (itself, or its
        parent for a merged campus).
    stage : ndarray of int
        Each raw row's stage code.
    counts : list of str
        Count columns summed over a group (``largest_class`` takes the max).
    """
    n = len(raw)
    owner = owner_of[school]
    campus_row = owner != school
    if not campus_row.any():
        return Merged(np.arange(n), {}, None, np.full(n, "", dtype=object))
    involved = np.zeros(len(owner_of), dtype=bool)
    involved[owner_of[owner_of != np.arange(len(owner_of))]] = True
    touched = np.flatnonzero(involved[owner])
    key = owner[touched].astype(np.int64) * (int(stage.max()) + 1) + stage[touched]
    group, uniques = pd.factorize(key)
    size = len(uniques)
    _, first = np.unique(group, return_index=True)
    keep = np.ones(n, dtype=bool)
    keep[touched] = False
    keep[touched[first]] = True
    rows = np.flatnonzero(keep)
    # Position of each group's representative among the merged rows.
    at = np.searchsorted(rows, touched[first])
    sums = {}
    for column in counts:
        values = raw[column].to_numpy(float, na_value=np.nan)
        merged = values[rows].copy()
        merged[at] = np.bincount(group, weights=np.nan_to_num(values[touched]), minlength=size)
        sums[column] = merged
    largest = raw["largest_class"].to_numpy(float, na_value=np.nan)
    top = np.full(size, -np.inf)
    np.fmax.at(top, group, largest[touched])
    merged_largest = largest[rows].copy()
    merged_largest[at] = np.where(np.isneginf(top), np.nan, top)
    campuses = np.full(len(rows), "", dtype=object)
    is_campus = campus_row[touched]
    ids = raw["school_id"].to_numpy(object)[touched[is_campus]]
    order = np.argsort(ids, kind="stable")
    joined = join_by_group(group[is_campus][order], ids[order], size)
    campuses[at] = joined
    return Merged(rows, sums, merged_largest, campuses)
