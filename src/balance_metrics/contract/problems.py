"""Problems located in a frame: one :class:`~balance_metrics.common.errors.Problem` per
offending row (file, row, column, value, rule), texts built for those rows only."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from balance_metrics.common.errors import Problem


def _problem(row: pd.Series, column: str, value: object, rule: str) -> Problem:
    return Problem(str(row["_source"]), int(row["_row"]), column, _text(value), rule)


def _texts(values: pd.Series, how=None) -> pd.Series:
    """Cell texts of a whole column, as objects (safe to add to strings, even when empty)."""
    return values.map(how or _text).astype(object)


Rule = str | Sequence[str] | pd.Series | Callable[[pd.DataFrame], Sequence[str]]


def problems_at(frame: pd.DataFrame, mask: pd.Series | np.ndarray, column: str, rule: Rule,
                values: pd.Series | Callable[[pd.DataFrame], Sequence[object]] | None = None) -> list[Problem]:
    """One problem per row of ``frame`` where ``mask`` holds (a whole-column rule's
    result): its file and row, ``column``, the cell (or ``values``) and ``rule``
    (one text, one per row of ``frame``, or a function giving one per offending row,
    so that texts are built for the offending rows only)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return []
    bad = frame[mask]
    if callable(values):
        shown = list(values(bad))
    else:
        shown = (bad[column] if values is None else pd.Series(values, index=frame.index)[mask]) if (values is not None or column in bad) else pd.Series("", index=bad.index)
    if isinstance(rule, str):
        rules = [rule] * len(bad)
    elif callable(rule):
        rules = list(rule(bad))
    else:
        rules = list(pd.Series(rule, index=frame.index)[mask])
    return [Problem(str(f), int(r), column, _text(v), ru) for f, r, v, ru in zip(bad["_source"], bad["_row"], shown, rules)]


def _text(value: object) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
