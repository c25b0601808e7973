"""How workbook cells look: number formats, failure marks and their fills, column widths.

Numbers are written at full precision; only their *display* is rounded, by an
Excel number format: the standard's ``display_decimals`` for indicator values
and CVs, exact policy numbers (thresholds, floors, limits) as written, shares
as percentages, a per-row format where a ``unit`` column gives the unit
(:func:`balance_metrics.evaluation.checks.unit_decimals`).

Failing rows and cells get a *mark* (:data:`FAIL`, :data:`SEVERE`,
:data:`MISSING`) that :mod:`.sheets` paints with :data:`FILLS`; the legend on
the 汇总 sheet is :data:`LEGEND`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import pandas as pd

from balance_metrics.evaluation.checks import DATA_MISSING, FAIL as STATUS_FAIL, MISSING as STATUS_MISSING, unit_decimals

__all__ = [
    "FAIL", "FILLS", "LEGEND", "MISSING", "SEVERE",
    "cell_marks", "number_format", "row_marks", "severity_marks", "text_width",
]  # fmt: skip

FAIL = "fail"
SEVERE = "severe"
MISSING = "missing"

#: Mark → (fill colour, font colour, bold), Excel's "bad" / "neutral" styles.
FILLS: dict[str, tuple[str, str, bool]] = {
    FAIL: ("FFC7CE", "9C0006", False),
    SEVERE: ("FF8F8F", "7F0000", True),
    MISSING: ("FFEB9C", "9C5700", False),
}

#: (mark, short label, explanation) by language, shown on the 汇总 sheet; ``{floor}`` is the
#: standard's floor factor as a percent (:attr:`Standard.floor_percent`).
LEGEND: dict[str, list[tuple[str, str, str]]] = {
    "zh": [
        (FAIL, "未达标", "学段未达到校校达标要求、差异系数超过限值、评估项目或区定目标未达标（整行标示）；"
                        "指标值低于标准值的单元格"),
        (SEVERE, "低于{floor}底线", "指标值低于标准值的{floor}（底线）的单元格；一票否决项未通过"),
        (MISSING, "缺少佐证或数据", "缺少佐证材料或数据，同样影响申报认定；目标进度有风险"),
    ],
    "en": [
        (FAIL, "fail", "section, CV, item or plan target not met (whole row); indicator value below its threshold"),
        (SEVERE, "below floor", "indicator value below {floor} of its threshold (the floor); a veto item failed"),
        (MISSING, "missing", "evidence or data missing (also blocks recognition); a target at risk"),
    ],
}

GENERAL = "General"
DATE = "yyyy-mm-dd"
INTEGER = "0"
FRACTION_PERCENT = "0.0%"
NUMBER_PERCENT = '0.0"%"'

# Exact policy numbers from a standard file (4.2, 0.765, 2000): shown as written.
_EXACT = frozenset({"threshold", "floor", "limit", "requirement", "target"})
# Shares 0–1 shown as percentages.
_FRACTIONS = frozenset({"share", "ratio", "district_ratio", "ratio_to_district", "worst_cv_ratio"})
# Counts that are floats only because some rows are empty.
_WHOLE = frozenset({"row", "year", "year_built", "students", "respondents", "satisfied", "periods", "severity", "no"})
# Columns in the unit of the row's ``unit`` column (checks, plan targets, 问题清单).
_IN_ROW_UNIT = frozenset({"measured", "shortfall"})
# Tables whose values are indicator values (display decimals whatever the unit).
_INDICATOR_TABLES = frozenset({"sections", "indicators", "verdicts", "balance", "trends"})


def decimal_format(decimals: int, thousands: bool = False) -> str:
    """An Excel number format with ``decimals`` places (``"0.000"``, ``"#,##0"``)."""
    whole = "#,##0" if thousands else "0"
    return f"{whole}.{'0' * decimals}" if decimals > 0 else whole


def _unit_format(unit: object) -> str:
    if not isinstance(unit, str) or unit == "":
        return GENERAL
    digits, money = unit_decimals(unit)
    return decimal_format(digits, thousands=money)


def number_format(table: str, column: str, frame: pd.DataFrame, decimals: int) -> str | list[str] | None:
    """The number format of ``column`` (one for the column, or one per row).

    Parameters
    ----------
    table : str
        Table name (``"sections"``, ``"checks"`` …).
    column : str
        Canonical column name.
    frame : DataFrame
        The table, canonical columns.
    decimals : int
        The standard's ``display_decimals``.

    Returns
    -------
    str, list of str or None
        None for text and boolean columns.
    """
    series = frame[column]
    if pd.api.types.is_datetime64_any_dtype(series):
        return DATE
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series) or column in _WHOLE:
        return INTEGER
    if column.endswith("_percent"):
        return NUMBER_PERCENT
    if column in _FRACTIONS:
        return FRACTION_PERCENT
    if column == "limit":  # CV limits read "0.50", "0.45" as in the method
        return decimal_format(2)
    if column in _EXACT:
        return GENERAL
    if column in _IN_ROW_UNIT and "unit" in frame.columns and table not in _INDICATOR_TABLES:
        return [_unit_format(u) for u in frame["unit"]]
    return decimal_format(decimals)


# --------------------------------------------------------------------------
# Failure marks
# --------------------------------------------------------------------------


def _is_false(series: pd.Series) -> pd.Series:
    """True where a boolean column holds False (missing is not a failure)."""
    return series.map(lambda v: not isinstance(v, str) and not pd.isna(v) and not bool(v))


def row_marks(table: str, frame: pd.DataFrame) -> list[str | None]:
    """The mark of each row: a failing section, CV, item, target or issue line.

    Parameters
    ----------
    table : str
        Table name.
    frame : DataFrame
        The table, canonical columns.

    Returns
    -------
    list of str or None
        :data:`FAIL`, :data:`SEVERE`, :data:`MISSING` or None per row.
    """
    marks: list[str | None] = [None] * len(frame)
    if frame.empty:
        return marks
    if table in {"summary"} and "verdict" in frame.columns:
        return [FAIL if v == "not ready" else None for v in frame["verdict"]]
    if table == "问题清单":  # every line is a problem: only its category cell is marked
        return marks
    if table == "progress" and "status" in frame.columns:
        by_status = {"off track": FAIL, "missed": FAIL, "at risk": MISSING, "data missing": MISSING}
        return [by_status.get(s) for s in frame["status"]]
    if table == "section_changes" and "change" in frame.columns:
        return [FAIL if c == "newly failing" else None for c in frame["change"]]
    if table == "districts" and "ready" in frame.columns:
        return [FAIL if f else None for f in _is_false(frame["ready"])]
    if table == "failed_periods":
        return [FAIL] * len(frame)
    if "passed" in frame.columns:
        return [FAIL if f else None for f in _is_false(frame["passed"])]
    if "status" in frame.columns and table not in {"sections", "indicators"}:
        veto = frame["veto"] if "veto" in frame.columns else frame.get("area", pd.Series([""] * len(frame))) == "veto"
        out = []
        for status, is_veto in zip(frame["status"], veto, strict=True):
            if status == STATUS_FAIL:
                out.append(SEVERE if is_veto is True else FAIL)
            elif status in (STATUS_MISSING, DATA_MISSING):
                out.append(MISSING)
            else:
                out.append(None)
        return out
    return marks


def severity_marks(frame: pd.DataFrame) -> list[str | None]:
    """Marks of the 问题清单's category: 一票否决 severe, 缺少佐证或数据 missing, the rest fail."""
    by_severity = {1: SEVERE, 2: FAIL, 3: MISSING, 4: FAIL}
    return [None if pd.isna(s) else by_severity.get(int(s)) for s in frame["severity"]]


def cell_marks(frame: pd.DataFrame, value_columns: Sequence[tuple[str, str, str]]) -> dict[str, list[str | None]]:
    """Marks of single cells: an indicator value below its threshold or floor.

    Parameters
    ----------
    frame : DataFrame
    value_columns : sequence of (value, met, above_floor) column names
        A value cell is :data:`FAIL` where ``met`` is False and :data:`SEVERE`
        where ``above_floor`` is False; the ``met`` and ``above_floor`` cells
        get the same marks.

    Returns
    -------
    dict
        Column name → mark per row (only columns with a mark).
    """
    out: dict[str, list[str | None]] = {}
    for value, met, floor in value_columns:
        if met not in frame.columns:
            continue
        not_met = _is_false(frame[met]).tolist()
        below = _is_false(frame[floor]).tolist() if floor in frame.columns else [False] * len(frame)
        marks = [SEVERE if b else FAIL if n else None for n, b in zip(not_met, below, strict=True)]
        out[value] = marks
        out[met] = [FAIL if n else None for n in not_met]
        if floor in frame.columns:
            out[floor] = [SEVERE if b else None for b in below]
    return out


# --------------------------------------------------------------------------
# Widths
# --------------------------------------------------------------------------


def text_width(text: object) -> int:
    """Display width of ``text``: East Asian wide and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))
