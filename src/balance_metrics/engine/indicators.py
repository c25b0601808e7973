"""The seven resource indicators R1–R7 of every evaluated section.

An indicator's numerator is a signed sum of input columns (the standard's
``terms``); facility-based indicators take the section's share of the school's
totals. ``value = numerator × scale / students`` (:func:`section_value`, the one
home of that formula). Values are computed for all sections at once in
floating point; :func:`exact_numerators` gives the same numbers as exact
fractions for the rows whose verdict must be re-checked exactly (see
:mod:`balance_metrics.engine.verdicts`).
"""

from __future__ import annotations

from collections.abc import Sequence
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


def _numerators(frame: pd.DataFrame, spec: Indicator) -> tuple[np.ndarray, np.ndarray]:
    """Float numerators and their magnitude (Σ |coefficient × amount|), per section."""
    total = np.zeros(len(frame))
    magnitude = np.zeros(len(frame))
    for column, coefficient in spec.terms.items():
        amount = float(coefficient) * frame[_column(spec, column)].to_numpy(float)
        total += amount
        magnitude += np.abs(amount)
    if spec.basis == "facility":
        numerator, denominator = frame["share_numerator"].to_numpy(float), frame["share_denominator"].to_numpy(float)
        total = total * numerator / denominator
        magnitude = magnitude * numerator / denominator
    return total, magnitude


def compute_indicators(sections: Sections, standard: Standard) -> pd.DataFrame:
    """One row per evaluated section × indicator, section by section in the order
    of ``sections.sections`` and indicators in the standard's order.

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
    frame = sections.sections
    ids = standard.indicator_ids
    n, k = len(frame), len(ids)
    students = frame["students"].to_numpy(float)
    numerators, values, magnitudes = np.empty((n, k)), np.empty((n, k)), np.empty((n, k))
    for j, ind in enumerate(ids):
        spec = standard.indicators[ind]
        scale = float(spec.scale)
        numerators[:, j], magnitude = _numerators(frame, spec)
        values[:, j] = section_value(numerators[:, j], scale, students)
        magnitudes[:, j] = section_value(magnitude, scale, students)
    keys = [c for c in DISTRICT_KEYS if c in frame.columns]
    columns: dict[str, Any] = {c: np.repeat(frame[c].to_numpy(), k) for c in [*keys, *BASE_COLUMNS]}
    stage_code = pd.Categorical(frame["stage"], categories=standard.stages).codes
    district_code = pd.factorize(frame["district_id"], sort=True)[0] if "district_id" in frame else np.zeros(n, dtype=np.int64)
    columns |= {
        "indicator": np.tile(np.array(ids, dtype=object), n),
        "name": np.tile(np.array([standard.indicators[i].name for i in ids], dtype=object), n),
        "unit": np.tile(np.array([standard.indicators[i].unit for i in ids], dtype=object), n),
        "numerator": numerators.ravel(),
        "value": values.ravel(),
        "magnitude": magnitudes.ravel(),
        "section": np.repeat(np.arange(n), k),
        "indicator_code": np.tile(np.arange(k), n),
        "stage_code": np.repeat(stage_code, k),
        "district_code": np.repeat(district_code, k),
    }
    return pd.DataFrame(columns)


def exact_numerators(sections: Sections, standard: Standard, section: Sequence[int], indicator: Sequence[str]) -> list[Fraction]:
    """Exact numerators of the given (section position, indicator) pairs.

    Input amounts are read through their shortest decimal form (``exact``),
    shares are exact fractions; the result is what the float numerators
    approximate.
    """
    frame = sections.sections
    out = []
    for pos, ind in zip(section, indicator):
        spec = standard.indicators[ind]
        row = frame.iloc[int(pos)]
        total = sum((c * exact(float(row[_column(spec, col)])) for col, c in spec.terms.items()), Fraction(0))
        if spec.basis == "facility":
            total *= Fraction(int(row["share_numerator"]), int(row["share_denominator"]))
        out.append(total)
    return out
