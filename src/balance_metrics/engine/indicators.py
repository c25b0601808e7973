"""The seven resource indicators R1–R7 of every evaluated section.

An indicator's numerator is a signed sum of input columns (the standard's
``terms``); facility-based indicators take the section's share of the school's
totals. ``value = numerator × scale / students`` (:func:`section_value`, the one
home of that formula). Values are computed for all sections at once in
floating point, as indicators × sections matrices (:func:`indicator_matrix`);
:func:`exact_numerators` gives the same numbers as exact fractions for the rows
whose verdict must be re-checked exactly (see :mod:`balance_metrics.engine.verdicts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.engine.sections import DISTRICT_KEYS, Sections
from balance_metrics.standard.loader import Standard, exact
from balance_metrics.standard.model import Indicator

BASE_COLUMNS = ["school_id", "school_name", "school_type", "area_type", "ownership", "stage", "students", "share", "campuses"]


def section_value(numerator: Any, scale: Any, students: Any) -> Any:
    """An indicator's value: ``numerator × scale ÷ students`` (floats, arrays or Fractions)."""
    return numerator * scale / students


def numerator_for(value: Any, scale: Any, students: Any) -> Any:
    """The numerator giving ``value``: ``value × students ÷ scale`` (inverse of :func:`section_value`)."""
    return value * students / scale


def _column(spec: Indicator, column: str) -> str:
    return f"{column}_school" if spec.basis == "facility" else column


def _numerators(frame: pd.DataFrame, spec: Indicator, floats: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Float numerators and their magnitude (Σ |coefficient × amount|), per section
    (``floats``: columns already read as float arrays, filled as read)."""
    floats = {} if floats is None else floats

    def read(column: str) -> np.ndarray:
        if column not in floats:
            floats[column] = frame[column].to_numpy(float, na_value=np.nan)
        return floats[column]

    total = np.zeros(len(frame))
    magnitude = np.zeros(len(frame)) if len(spec.terms) > 1 else None
    for column, coefficient in spec.terms.items():
        amount = float(coefficient) * read(_column(spec, column))
        total += amount
        if magnitude is not None:
            magnitude += np.abs(amount)
    magnitude = np.abs(total) if magnitude is None else magnitude
    if spec.basis == "facility":
        numerator, denominator = read("share_numerator"), read("share_denominator")
        total = total * numerator / denominator
        magnitude = magnitude * numerator / denominator
    return total, magnitude


@dataclass(frozen=True)
class IndicatorMatrix:
    """The indicators of every section as (indicators × sections) float arrays.

    Row ``j`` is indicator ``ids[j]``, column ``i`` section ``i`` of
    ``Sections.sections`` (one contiguous row per indicator: whole-column work
    runs indicator by indicator; ``.T`` gives sections × indicators).

    Attributes
    ----------
    ids : tuple of str
        Indicator ids in the standard's order.
    numerator : ndarray
        The section's resource (teachers, m², 元, rooms) after the split.
    value : ndarray
        ``numerator × scale ÷ students``.
    magnitude : ndarray
        Value-sized scale of the rounding error (Σ |terms| × scale ÷ students).
    """

    ids: tuple[str, ...]
    numerator: np.ndarray
    value: np.ndarray
    magnitude: np.ndarray


def indicator_matrix(sections: Sections, standard: Standard) -> IndicatorMatrix:
    """Numerators, values and error magnitudes of every section × indicator."""
    frame = sections.sections
    ids = standard.indicator_ids
    n, k = len(frame), len(ids)
    students = frame["students"].to_numpy(float)
    numerators, values, magnitudes = np.empty((k, n)), np.empty((k, n)), np.empty((k, n))
    floats: dict[str, np.ndarray] = {}
    for j, ind in enumerate(ids):
        spec = standard.indicators[ind]
        scale = float(spec.scale)
        numerator, magnitude = _numerators(frame, spec, floats)
        numerators[j] = numerator
        values[j] = section_value(numerator, scale, students)
        magnitudes[j] = section_value(magnitude, scale, students)
    return IndicatorMatrix(tuple(ids), numerators, values, magnitudes)


def compute_indicators(sections: Sections, standard: Standard) -> pd.DataFrame:
    """One row per evaluated section × indicator, section by section in the order
    of ``sections.sections`` and indicators in the standard's order (the long
    form of :func:`indicator_matrix`).

    Returns
    -------
    DataFrame
        [district_id, district_name,] school_id, school_name, school_type,
        area_type, ownership, stage, students, share, campuses, indicator,
        name, unit, numerator, value (float), ``magnitude`` (value-sized bound
        of the rounding error's scale: Σ |terms| × scale ÷ students),
        ``section`` (row position in ``sections.sections``) and the integer
        codes ``indicator_code``, ``stage_code`` (positions in the standard's
        lists) and ``district_code`` (rank of the district id; 0 for one
        district) used for grouping. ``numerator`` is
        the section's resource (teachers, m², 元, rooms) after the split, so
        that district values are ratios of totals.
    """
    matrix = indicator_matrix(sections, standard)
    stage_code, district_code, _ = sections.codes(standard)
    k = len(matrix.ids)
    columns = long_columns(sections.sections, standard, k)
    n = len(sections.sections)
    columns |= {
        "numerator": matrix.numerator.T.ravel(),
        "value": matrix.value.T.ravel(),
        "magnitude": matrix.magnitude.T.ravel(),
        "section": np.repeat(np.arange(n), k),
        "indicator_code": np.tile(np.arange(k), n),
        "stage_code": np.repeat(stage_code, k),
        "district_code": np.repeat(district_code, k),
    }
    return pd.DataFrame(columns, copy=False)


def indicator_labels(standard: Standard) -> dict[str, list[str]]:
    """The indicator texts of a long table, one per indicator in the standard's order:
    indicator (id), name, unit."""
    ids = list(standard.indicator_ids)
    return {
        "indicator": ids,
        "name": [standard.indicators[i].name for i in ids],
        "unit": [standard.indicators[i].unit for i in ids],
    }


def long_columns(frame: pd.DataFrame, standard: Standard, k: int) -> dict[str, Any]:
    """The section columns of a long (section × indicator) table: each section's
    identity repeated ``k`` times, then indicator, name, unit."""
    n = len(frame)
    at = np.repeat(np.arange(n), k)
    keys = [c for c in DISTRICT_KEYS if c in frame.columns]
    columns: dict[str, Any] = {}
    for c in [*keys, *BASE_COLUMNS]:
        values = frame[c]
        columns[c] = values.to_numpy(np.int64)[at] if c == "students" else values.to_numpy()[at] if isinstance(values.dtype, np.dtype) else values.array.take(at)
    which = np.tile(np.arange(k), n)
    for column, texts in indicator_labels(standard).items():
        columns[column] = pd.array(np.array(texts, dtype=object), dtype="str").take(which)
    return columns


def exact_numerators(sections: Sections, standard: Standard, section: Sequence[int], indicator: Sequence[str]) -> list[Fraction]:
    """Exact numerators of the given (section position, indicator) pairs.

    Input amounts are read through their shortest decimal form (``exact``),
    shares are exact fractions; the result is what the float numerators
    approximate.
    """
    frame = sections.sections
    section = np.asarray(section, dtype=np.int64)
    needed = {_column(standard.indicators[i], c) for i in set(indicator) for c in standard.indicators[i].terms}
    amounts = {c: frame[c].to_numpy(float, na_value=np.nan)[section].tolist() for c in needed}
    shares = list(zip(frame["share_numerator"].to_numpy()[section].tolist(), frame["share_denominator"].to_numpy()[section].tolist()))
    out = []
    for row, ind in enumerate(indicator):
        spec = standard.indicators[ind]
        total = sum((c * exact(amounts[_column(spec, col)][row]) for col, c in spec.terms.items()), Fraction(0))
        if spec.basis == "facility":
            total *= Fraction(*shares[row])
        out.append(total)
    return out
