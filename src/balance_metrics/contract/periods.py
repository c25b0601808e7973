"""Reporting periods: labels (``2022Q4`` quarters, ``2022-10`` months), their order
and end dates, and finding the period folders under a data folder.

Examples
--------
>>> period_sort_key("2022Q4"), period_sort_key("2022-10")
((2022, 12), (2022, 10))
>>> frequency_of("2022Q4"), frequency_of("2022-10")
('quarterly', 'monthly')
>>> period_end("2022Q1").date()
datetime.date(2022, 3, 31)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

__all__ = [
    "Frequency", "PERIOD_PATTERN", "check_period_list", "chronological_key", "find_periods", "frequency_of",
    "is_period_label", "latest_period", "period_end", "period_sort_key",
]

Frequency = Literal["monthly", "quarterly"]
PERIOD_PATTERN = re.compile(r"^(?P<year>\d{4})(?:Q(?P<quarter>[1-4])|-(?P<month>0[1-9]|1[0-2]))$")


def period_sort_key(period: str) -> tuple[int, int]:
    """Chronological sort key for ``2022Q4`` / ``2022-10`` labels: (year, month of period end).

    Raises
    ------
    ValueError
        ``period`` is not a period label.
    """
    match = PERIOD_PATTERN.match(period)
    if match is None:
        raise ValueError(f"not a period label (expected like 2022Q4 or 2022-10): {period!r}")
    year = int(match["year"])
    month = int(match["quarter"]) * 3 if match["quarter"] else int(match["month"])
    return year, month


def is_period_label(name: str) -> bool:
    """Whether ``name`` is a period label (``2022Q4`` or ``2022-10``)."""
    return PERIOD_PATTERN.match(name) is not None


def frequency_of(period: str) -> Frequency:
    """``"quarterly"`` for ``2022Q4``, ``"monthly"`` for ``2022-10``."""
    period_sort_key(period)
    return "quarterly" if "Q" in period else "monthly"


def period_end(period: str) -> pd.Timestamp:
    """Last day of a period, e.g. ``"2022Q4"`` -> 2022-12-31, ``"2022-10"`` -> 2022-10-31.

    Raises
    ------
    ValueError
        ``period`` is not a period label.
    """
    year, month = period_sort_key(period)
    return pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)


def chronological_key(period: str) -> tuple[int, int, bool]:
    """Sort key: month of period end, then a month before the quarter ending with it."""
    return (*period_sort_key(period), frequency_of(period) == "quarterly")


def find_periods(data_dir: str | Path, frequency: Frequency | None = None) -> list[str]:
    """Period folders under ``data_dir``, oldest first.

    Parameters
    ----------
    data_dir : str or Path
        Folder holding one sub-folder per period (``2022Q4``, ``2022-10`` …);
        files and folders with other names (``README.md``) are ignored.
    frequency : {"monthly", "quarterly"}, optional
        Keep only monthly (``2022-10``) or quarterly (``2022Q4``) folders.

    Returns
    -------
    list of str
        Period labels in chronological order (by the month the period ends;
        a quarter sorts after the monthly folder ending in the same month).

    Raises
    ------
    FileNotFoundError
        ``data_dir`` does not exist.
    """
    folder = Path(data_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"data folder not found: {folder}")
    if frequency not in (None, "monthly", "quarterly"):
        raise ValueError(f"frequency must be 'monthly' or 'quarterly', got {frequency!r}")
    labels = [p.name for p in folder.iterdir() if p.is_dir() and is_period_label(p.name)]
    if frequency is not None:
        labels = [p for p in labels if frequency_of(p) == frequency]
    return sorted(labels, key=chronological_key)


def latest_period(data_dir: str | Path, frequency: Frequency | None = None) -> str:
    """The most recent period label under ``data_dir`` (see :func:`find_periods`).

    Raises
    ------
    FileNotFoundError
        No period folder in ``data_dir``.
    """
    periods = find_periods(data_dir, frequency)
    if not periods:
        raise FileNotFoundError(f"no period folders (named like 2022Q4 or 2022-10) in {data_dir}")
    return periods[-1]


def check_period_list(periods: Sequence[str]) -> list[str]:
    """Validate labels, refuse duplicates and two periods ending in the same month; sort them."""
    for label in periods:
        if not is_period_label(label):
            raise ValueError(f"not a period label (expected like 2022Q4 or 2022-10): {label!r}")
    if len(set(periods)) != len(periods):
        raise ValueError(f"periods listed twice: {sorted(p for p in set(periods) if list(periods).count(p) > 1)}")
    ordered = sorted(periods, key=chronological_key)
    for before, after in zip(ordered, ordered[1:]):
        # A quarter and the monthly report of its last month describe the same
        # date; both in one series would count that date twice in the trend.
        if period_sort_key(before) == period_sort_key(after):
            raise ValueError(
                f"periods {before} and {after} both end in {period_end(after):%Y-%m}; "
                "choose one with periods=[...] or frequency='monthly'/'quarterly'"
            )
    return ordered
