"""The periods' tables one under the other: :func:`stack` and, for the long
``indicators`` table, :class:`WideIndicators` and :class:`LongStack`.

A period's long table (section × indicator, :attr:`ResourceEvaluation.sections`)
repeats each section's identity once per indicator. Built in a worker,
pickled, unpickled here and then stacked, it cost more than evaluating the
period: 170 MB and 1.4 s of building, pickling and unpickling per
200,000-section period, and 3 s of stacking eight periods after the last one
arrived (measured on two cores). So a worker hands over
:class:`WideIndicators` (the section columns once, the numbers as
(indicators × sections) arrays, 80 MB) and :class:`LongStack` writes each
period into the panel's columns as it arrives: each value is written once,
and what is left after the last period is wrapping the columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.engine.indicators import BASE_COLUMNS, indicator_labels
from balance_metrics.engine.resources import SECTION_COLUMNS, ResourceEvaluation
from balance_metrics.engine.sections import DISTRICT_KEYS

INDICATOR_COLUMNS = ["period", "district_id", *SECTION_COLUMNS]
#: The (indicators × sections) arrays behind the numeric columns of the long table.
FIELDS = ("numerator", "value", "threshold", "floor", "met", "above_floor", "ratio", "shortfall")
#: Unused room left at the end of a column is kept below this share (else the column is copied to size).
SLACK = 0.1
_TEXT = pd.array(np.array([], dtype=object), dtype="str").dtype


def stack(frames: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """The periods' frames one under the other, consuming ``frames``.

    Column by column, dropping each period's column as soon as it is copied:
    the peak is about the inputs plus one column, not the inputs plus the result.
    """
    parts = [frames.pop(0) for _ in range(len(frames))]
    parts = [f for f in parts if len(f)]
    if not parts:
        return pd.DataFrame(columns=[c for c in columns if c != "district_id"])
    names = list(parts[0].columns)
    if any(list(f.columns) != names for f in parts):
        return pd.concat(parts, ignore_index=True)
    pieces = [{name: f[name] for name in names} for f in parts]
    del parts  # only the columns are referenced now: each is freed once stacked
    out = {}
    for name in names:
        out[name] = pd.concat([p.pop(name) for p in pieces], ignore_index=True)
    return pd.DataFrame(out, copy=False)


@dataclass(frozen=True)
class WideIndicators:
    """One period's long indicator table, not yet repeated: section ``i`` × indicator ``j``
    is row ``i × k + j`` of :meth:`long` (as in :attr:`ResourceEvaluation.sections`).

    Attributes
    ----------
    period : str
    sections : dict of str -> array
        [district_id,] school_id … campuses, one value per section (students as int64).
    labels : dict of str -> list of str
        indicator, name, unit: one per indicator (``k``).
    fields : dict of str -> ndarray
        numerator … shortfall as (indicators × sections) arrays.
    """

    period: str
    sections: dict[str, Any]
    labels: dict[str, list[str]]
    fields: dict[str, np.ndarray]

    @classmethod
    def of(cls, resources: ResourceEvaluation, period: str) -> WideIndicators | None:
        """The evaluation's long table in wide form; None when it has no arrays (a given table)."""
        if resources.basis is None or resources.matrix is None or resources.judgement is None:
            return None
        frame, std = resources.basis.sections, resources.standard
        names = [c for c in [*DISTRICT_KEYS, *BASE_COLUMNS] if c in frame.columns and c in INDICATOR_COLUMNS]
        sections = {c: frame[c].to_numpy(np.int64) if c == "students" else _values(frame[c]) for c in names}
        labels = indicator_labels(std)
        fields = {name: getattr(resources.matrix if name in ("numerator", "value") else resources.judgement, name)
                  for name in FIELDS}
        return cls(period, sections, labels, fields)

    def __len__(self) -> int:
        return self.fields["value"].size

    def columns(self) -> list[str]:
        """The long table's columns, in order."""
        have = {"period", *self.sections, *self.labels, *self.fields}
        return [c for c in INDICATOR_COLUMNS if c in have]

    def long(self) -> pd.DataFrame:
        """The period's long table (``with_period(resources.sections, period, INDICATOR_COLUMNS)``)."""
        out = LongStack(1)
        out.add(self)
        return out.frame()


def _values(column: pd.Series) -> Any:
    """A section column as the long table repeats it: numpy values, or the extension array."""
    return column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array


def _kind(values: Any) -> Any:
    """The buffer dtype of a column: its numpy dtype, object for python-stored ``str``; None: not bufferable."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype):
        return None if dtype == object else dtype
    return np.dtype(object) if dtype == _TEXT else None


class LongStack:
    """The panel's ``indicators``: each period's long table written into growing columns.

    Parameters
    ----------
    periods : int
        Periods expected: the first period's size times this is the columns'
        first capacity (one allocation when the periods are of a size).

    Periods whose columns or dtypes differ from the first one's (or an
    extension type other than ``str``) are stacked with :func:`stack` instead,
    which gives the same table.
    """

    def __init__(self, periods: int) -> None:
        self.periods = max(1, periods)
        self.added = 0
        self.used = 0
        self.names: list[str] | None = None
        self.kinds: dict[str, Any] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.frames: list[pd.DataFrame] = []  # after a period that did not fit the columns

    def add(self, piece: WideIndicators | pd.DataFrame) -> None:
        """Append one period (its wide form, or its long table)."""
        self.added += 1
        rows = len(piece)
        if not rows:
            return
        columns = self._columns(piece)
        kinds = {name: _kind(values) for name, (_, values) in columns.items()}
        if self.names is None and not self.frames and all(k is not None for k in kinds.values()):
            self.names, self.kinds = list(columns), kinds
        if self.frames or list(columns) != self.names or kinds != self.kinds:
            if not self.frames and self.used:
                self.frames.append(self._wrap())
            self.frames.append(piece if isinstance(piece, pd.DataFrame) else piece.long())
            return
        self._reserve(rows)
        k = len(piece.labels["indicator"]) if isinstance(piece, WideIndicators) else 1
        for name, (shape, values) in columns.items():
            self._write(self.buffers[name][self.used:self.used + rows], shape, values, k)
        self.used += rows

    @staticmethod
    def _columns(piece: WideIndicators | pd.DataFrame) -> dict[str, tuple[str, Any]]:
        """Column -> (shape, values): "row" (one value per row), "section" (repeated
        ``k`` times), "indicator" (tiled), "matrix" ((k × n), transposed) or "period" (one value)."""
        if isinstance(piece, pd.DataFrame):
            return {c: ("row", _values(piece[c])) for c in piece.columns}
        parts = {"period": ("period", pd.array(np.array([piece.period], dtype=object), dtype="str")),
                 **{c: ("section", v) for c, v in piece.sections.items()},
                 **{c: ("indicator", pd.array(np.array(texts, dtype=object), dtype="str")) for c, texts in piece.labels.items()},
                 **{c: ("matrix", v) for c, v in piece.fields.items()}}
        return {c: parts[c] for c in piece.columns()}

    def _reserve(self, rows: int) -> None:
        capacity = len(next(iter(self.buffers.values()))) if self.buffers else 0
        if self.used + rows <= capacity:
            return
        # Room for the periods still to come at this period's size (one allocation when they are alike).
        size = self.used + rows * max(1, self.periods - self.added + 1)
        for name in self.names:
            grown = np.empty(size, dtype=self.kinds[name])
            if name in self.buffers:
                grown[:self.used] = self.buffers[name][:self.used]
            self.buffers[name] = grown

    @staticmethod
    def _write(out: np.ndarray, shape: str, values: Any, k: int) -> None:
        """Write one period's column into ``out`` (its rows of the buffer)."""
        values = values if isinstance(values, np.ndarray) else np.asarray(values)
        if shape == "row":
            out[:] = values
        elif shape == "period":
            out[:] = values[0]
        elif shape == "matrix":
            out.reshape(-1, k)[:] = values.T
        elif shape == "indicator":
            out.reshape(-1, k)[:] = values[None, :]
        else:
            out.reshape(-1, k)[:] = values[:, None]

    def _wrap(self) -> pd.DataFrame:
        columns = {}
        for name in self.names:
            data = self.buffers.pop(name)
            # A view keeps the unused room alive: copied to size when that is more than SLACK.
            data = data[:self.used].copy() if self.used < len(data) * (1 - SLACK) else data[:self.used]
            columns[name] = pd.array(data, dtype=_TEXT, copy=False) if self.kinds[name] == object else data
        self.used = 0
        return pd.DataFrame(columns, copy=False)

    def frame(self) -> pd.DataFrame:
        """The stacked table (empty, without district_id, when no period has a row)."""
        if self.frames:
            return stack(self.frames, INDICATOR_COLUMNS)
        if not self.used:
            return pd.DataFrame(columns=[c for c in INDICATOR_COLUMNS if c != "district_id"])
        return self._wrap()
