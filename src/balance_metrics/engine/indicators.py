"""The seven resource indicators R1–R7 of every evaluated section.

An indicator's numerator is a signed sum of input columns (the standard's
``terms``); facility-based indicators take the section's share of the school's
totals. ``value = numerator × scale / students``, kept exactly as a Fraction
for verdicts and as a float for display.
"""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from balance_metrics.engine.sections import Sections
from balance_metrics.standard.loader import Standard, exact


def _numerator(row: dict, spec: dict) -> Fraction:
    total = Fraction(0)
    for column, coefficient in spec["terms"].items():
        if spec["basis"] == "facility":
            amount = exact(float(row[f"{column}_school"])) * row["share_exact"]
        else:
            amount = exact(float(row[column]))
        total += exact(coefficient) * amount
    return total


def compute_indicators(sections: Sections, standard: Standard) -> pd.DataFrame:
    """One row per evaluated section × indicator.

    Returns
    -------
    DataFrame
        school_id, school_name, school_type, area_type, ownership, stage,
        students, share, indicator, name, unit, numerator, value (float) and
        value_exact (Fraction). ``numerator`` is the section's resource
        (teachers, m², 元, rooms) after the split, so that district values are
        ratios of totals.
    """
    rows = []
    base = ["school_id", "school_name", "school_type", "area_type", "ownership", "stage", "students", "share", "campuses"]
    for row in sections.sections.to_dict("records"):
        students = int(row["students"])
        for ind in standard.indicator_ids:
            spec = standard.indicator(ind)
            numerator = _numerator(row, spec)
            value = numerator * exact(spec["scale"]) / students
            rows.append(
                {
                    **{k: row[k] for k in base},
                    "indicator": ind,
                    "name": spec["name"],
                    "unit": spec.get("unit", ""),
                    "numerator": float(numerator),
                    "value": float(value),
                    "value_exact": value,
                }
            )
    return pd.DataFrame(rows)
