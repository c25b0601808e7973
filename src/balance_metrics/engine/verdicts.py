"""Per-section verdicts: ≥ 6 of 7 indicators met and the rest ≥ the 85 % floor.

Comparisons are exact (:class:`fractions.Fraction`): in binary floating point
4.5 × 0.85 is 3.8249999…, which would wrongly fail a section at the floor.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from math import floor

import pandas as pd

from balance_metrics.standard.loader import Standard


def round_half_up(value: Fraction, decimals: int | None) -> Fraction:
    """``value`` rounded half-up to ``decimals`` places; unchanged when ``None``."""
    if decimals is None:
        return value
    scale = Fraction(10) ** decimals
    sign = -1 if value < 0 else 1
    return sign * Fraction(floor(abs(value) * scale + Fraction(1, 2))) / scale


def judge_values(values: Mapping[str, Fraction], stage: str, standard: Standard) -> pd.DataFrame:
    """Judge one section's indicator values against thresholds and floors.

    Parameters
    ----------
    values : mapping
        Indicator id -> exact value (Fraction, int or decimal string).
    stage : {"primary", "junior"}
    standard : Standard

    Returns
    -------
    DataFrame
        indicator, threshold, floor, met, above_floor, ratio (value ÷ threshold).
    """
    digits = standard.compare_decimals
    rows = []
    for ind, raw in values.items():
        value = round_half_up(Fraction(raw), digits)
        threshold, floor_ = standard.threshold(ind, stage), standard.floor(ind, stage)
        rows.append(
            {
                "indicator": ind,
                "threshold": float(threshold),
                "floor": float(floor_),
                "met": value >= threshold,
                "above_floor": value >= floor_,
                "ratio": float(value / threshold) if threshold else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def section_passes(met: pd.Series, above_floor: pd.Series, standard: Standard) -> bool:
    """The per-school rule for one section's indicators."""
    return bool(met.sum() >= standard.min_indicators_met and above_floor.all())


def judge_sections(indicators: pd.DataFrame, standard: Standard) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add threshold, floor, met, above_floor, ratio to every indicator row and
    derive the section verdicts.

    Returns
    -------
    (DataFrame, DataFrame)
        The judged indicator rows, and one verdict row per section:
        school_id, school_name, school_type, area_type, stage, students,
        indicators_met, indicators_below_floor, failed_indicators, passed.
    """
    digits = standard.compare_decimals
    keys = list(zip(indicators["indicator"], indicators["stage"]))
    thresholds = {k: standard.threshold(*k) for k in set(keys)}
    floors = {k: standard.floor(*k) for k in set(keys)}
    values = [round_half_up(v, digits) for v in indicators["value_exact"]]
    rows = indicators.assign(
        threshold=[float(thresholds[k]) for k in keys],
        floor=[float(floors[k]) for k in keys],
        met=[v >= thresholds[k] for v, k in zip(values, keys)],
        above_floor=[v >= floors[k] for v, k in zip(values, keys)],
        ratio=[float(v / thresholds[k]) if thresholds[k] else float("nan") for v, k in zip(values, keys)],
    )
    rows["shortfall"] = (rows["threshold"] - rows["value"]).clip(lower=0)
    missed = rows["indicator"].where(~rows["met"], "")
    grouped = rows.assign(missed=missed, below=~rows["above_floor"]).groupby(["school_id", "stage"], sort=False)
    verdicts = grouped.agg(
        school_name=("school_name", "first"),
        school_type=("school_type", "first"),
        area_type=("area_type", "first"),
        students=("students", "first"),
        indicators_met=("met", "sum"),
        indicators_below_floor=("below", "sum"),
        failed_indicators=("missed", lambda m: ",".join(x for x in m if x)),
    ).reset_index()
    verdicts["passed"] = (verdicts["indicators_met"] >= standard.min_indicators_met) & (verdicts["indicators_below_floor"] == 0)
    verdicts = verdicts.astype({"students": int, "indicators_met": int, "indicators_below_floor": int, "passed": bool})
    return rows, verdicts
