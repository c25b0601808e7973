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
    at : ndarray of int
        Positions (among ``rows``) of the sections that received a campus or
        stand for a parent of one; every other section is its raw row unchanged.
    sums : dict
        Count column -> the merged value (float) of each section at ``at``;
        ``largest_class`` is the group's max (NaN when all missing).
    campuses : ndarray of object
        Comma-joined ids of the campuses merged into each section ("" for none).
    """

    rows: np.ndarray
    at: np.ndarray
    sums: dict[str, np.ndarray]
    campuses: np.ndarray

    def targets(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the merged sections land among ``positions`` (indices into ``rows``):
        (their places in ``positions``, their indices into ``at``)."""
        where = np.full(len(self.rows), -1, dtype=np.int64)
        where[positions] = np.arange(len(positions))
        target = where[self.at]
        hit = np.flatnonzero(target >= 0)
        return target[hit], hit

    def column(self, raw: pd.DataFrame, name: str, positions: np.ndarray,
               targets: tuple[np.ndarray, np.ndarray] | None = None) -> pd.api.extensions.ExtensionArray | np.ndarray:
        """Count column ``name`` of the merged sections at ``positions`` (indices into
        ``rows``; ``targets``: :meth:`targets` of them, when already computed)."""
        values = raw[name].array.take(self.rows[positions])
        if name in self.sums and len(self.at):
            place, hit = self.targets(positions) if targets is None else targets
            merged = self.sums[name][hit]
            values[place] = pd.array(merged, dtype="Int64") if isinstance(values, pd.api.extensions.ExtensionArray) else merged
        return values


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
        return Merged(np.arange(n), np.zeros(0, dtype=np.int64), {}, np.full(n, "", dtype=object))
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
        values = raw[column].array.take(touched).to_numpy(float, na_value=np.nan)
        sums[column] = np.bincount(group, weights=np.nan_to_num(values), minlength=size)
    largest = raw["largest_class"].array.take(touched).to_numpy(float, na_value=np.nan)
    top = np.full(size, -np.inf)
    np.fmax.at(top, group, largest)
    sums["largest_class"] = np.where(np.isneginf(top), np.nan, top)
    campuses = np.full(len(rows), "", dtype=object)
    is_campus = campus_row[touched]
    ids = raw["school_id"].to_numpy(object)[touched[is_campus]]
    order = np.argsort(ids, kind="stable")
    joined = join_by_group(group[is_campus][order], ids[order], size)
    campuses[at] = joined
    return Merged(rows, at, sums, campuses)
