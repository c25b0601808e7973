"""What goes on each sheet: order, headers, cell values, formats and marks.

:func:`prepare_sheets` turns result tables (canonical English columns) into
:class:`Sheet` objects for one language. Values are the tables' own, unrounded;
in Chinese, category codes and true/false flags are shown as their labels
(:data:`balance_metrics.reporting.labels.VALUE_LABELS`), and code columns that
have a Chinese twin (``status`` beside ``status_label``) are hidden, not removed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from balance_metrics.evaluation.issue_list import ISSUE_LABELS
from balance_metrics.reporting import labels as lb
from balance_metrics.reporting.workbook import formats as fm
from balance_metrics.standard.loader import Standard

__all__ = ["LANGS", "SHEET_ORDER", "Sheet", "header", "prepare_sheets", "sheet_name"]

#: Workbook languages: Chinese (default) or the canonical English names.
LANGS: tuple[str, ...] = ("zh", "en")

#: Sheets in reading order; tables not listed follow in their own order.
SHEET_ORDER: tuple[str, ...] = (
    "summary", "districts", "问题清单", "progress", "trends", "section_changes", "verdicts", "balance", "sections",
    "indicators", "items", "readiness", "plan_targets", "satisfaction", "checks", "plan_checks", "changes",
    "schools", "excluded", "failed_periods", "warnings", "sources",
)  # fmt: skip
#: English sheet names that differ from the table name.
_EN_SHEETS = {"问题清单": "issues"}
#: Code columns hidden in the Chinese workbook when their Chinese twin is present
#: (an item's ``rule`` is the code of the check behind its official ``name``).
_CODE_TWINS = (
    ("status", "status_label"), ("status", "status_zh"), ("verdict", "verdict_label"),
    ("area", "area_name"), ("group", "group_name"), ("part", "part_name"), ("rule", "name"),
)  # fmt: skip
#: Columns that identify a row; the leading ones stay visible when scrolling right.
_KEY_COLUMNS = frozenset({"district_id", "period", "school_id", "school_name", "stage", "id", "item_id", "target_id",
                          "indicator", "no", "group", "group_name", "since", "until", "kind"})
_MAX_FROZEN = 4
#: Boolean columns read as 达标/未达标 (the rest as 是/否).
_PASS_FLAGS = frozenset({"passed", "met", "above_floor", "before", "after"})
_ISSUE_COLUMNS = {label: name for name, label in ISSUE_LABELS.items()}


@dataclass(frozen=True)
class Sheet:
    """One table as it is written to a worksheet."""

    key: str
    title: str
    columns: list[str]
    headers: list[str]
    rows: list[list[Any]]
    formats: dict[int, str | list[str]] = field(default_factory=dict)
    row_marks: list[str | None] = field(default_factory=list)
    cell_marks: dict[int, list[str | None]] = field(default_factory=dict)
    hidden: frozenset[int] = frozenset()
    freeze_columns: int = 0
    print_ready: bool = False


def check_lang(lang: str) -> str:
    """``"zh"`` or ``"en"`` (``"zh-CN"`` means ``"zh"``)."""
    code = str(lang).lower().replace("_", "-")
    code = "zh" if code in {"zh", "zh-cn", "zh-hans", "cn"} else code
    if code not in LANGS:
        raise ValueError(f"workbook language must be one of {', '.join(LANGS)}, got {lang!r}")
    return code


def sheet_name(key: str, lang: str) -> str:
    """The sheet name of table ``key`` (Excel allows 31 characters)."""
    name = lb.TABLE_LABELS.get(key, key) if lang == "zh" else _EN_SHEETS.get(key, key)
    return name[:31]


def _indicator_header(column: str, standard: Standard | None) -> str | None:
    if standard is None or column not in standard.indicators:
        return None
    spec = standard.indicators[column]
    return f"{column} {spec.name}" + (f"（{spec.unit}）" if spec.unit else "")


def header(key: str, column: str, lang: str, standard: Standard | None = None) -> str:
    """The header of ``column`` on sheet ``key``: its label and unit in Chinese, its name in English."""
    if lang == "en":
        return column
    wide = _indicator_header(column, standard)
    if wide is not None:
        return wide
    label = lb.column_label(column, key) or column
    unit = lb.column_unit(column)
    return f"{label}（{unit}）" if unit else label


def _canonical(key: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The table with canonical English column names (the 问题清单 is exported in Chinese)."""
    if key == "问题清单":
        return frame.rename(columns=_ISSUE_COLUMNS)
    return frame


def _with_unit(frame: pd.DataFrame, standard: Standard) -> pd.DataFrame:
    """Insert the indicator's unit after its name (balance and trends mix units row by row)."""
    if "indicator" not in frame.columns or "unit" in frame.columns:
        return frame
    units = {ind: spec.unit for ind, spec in standard.indicators.items()}
    at = frame.columns.get_loc("name") + 1 if "name" in frame.columns else frame.columns.get_loc("indicator") + 1
    out = frame.copy()
    out.insert(at, "unit", frame["indicator"].map(units).fillna(""))
    return out


def _with_indicator_values(verdicts: pd.DataFrame, values: pd.DataFrame | None, standard: Standard) -> tuple[pd.DataFrame, list]:
    """Each section's indicator values R1–R7 as columns of the verdicts table."""
    if values is None or values.empty or verdicts.empty:
        return verdicts, []
    keys = [c for c in ("period", "school_id", "stage") if c in verdicts.columns and c in values.columns]
    wide = values.set_index([*keys, "indicator"])[["value", "met", "above_floor"]].unstack("indicator")
    ids = [i for i in standard.indicator_ids if i in wide["value"].columns]
    table = pd.DataFrame(index=wide.index)
    for ind in ids:
        table[ind] = wide[("value", ind)]
        table[f"_{ind}_met"] = wide[("met", ind)]
        table[f"_{ind}_floor"] = wide[("above_floor", ind)]
    merged = verdicts.merge(table.reset_index(), on=keys, how="left")
    marks = fm.cell_marks(merged, [(ind, f"_{ind}_met", f"_{ind}_floor") for ind in ids])
    at = list(verdicts.columns).index("students") + 1 if "students" in verdicts.columns else len(verdicts.columns)
    order = [*verdicts.columns[:at], *ids, *verdicts.columns[at:]]
    return merged[order], [(ind, marks[ind]) for ind in ids if ind in marks]


def _value_labels(series: pd.Series, column: str) -> pd.Series:
    """Codes and flags of one column as Chinese labels (other values unchanged)."""
    present = series.dropna()
    if len(present) and present.map(lambda v: isinstance(v, bool) or type(v).__name__ == "bool_").all():
        yes, no = lb.BOOL_LABELS if column in _PASS_FLAGS else lb.YES_NO_LABELS
        return series.map(lambda v: None if pd.isna(v) else yes if bool(v) else no)
    labels = lb.VALUE_LABELS.get(column)
    if labels is None:
        return series

    def one(value: Any) -> Any:
        if not isinstance(value, str) or value == "":
            return value
        return ",".join(labels.get(part, part) for part in value.split(","))

    return series.map(one)


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and math.isinf(value):  # Excel has no infinity
        return "∞" if value > 0 else "-∞"
    return value


def _cells(frame: pd.DataFrame) -> list[list[Any]]:
    """Rows of plain Python values; missing values become empty cells, infinities ∞."""
    plain = frame.astype(object).where(frame.notna(), None)
    return [[_plain(v) for v in row] for row in plain.itertuples(index=False, name=None)]


def _prepare(key: str, frame: pd.DataFrame, lang: str, standard: Standard | None,
             values: pd.DataFrame | None) -> Sheet:
    frame = _canonical(key, frame)
    decimals = standard.display_decimals if standard is not None else 3
    wide_marks: list = []
    if standard is not None and key in {"balance", "trends"}:
        frame = _with_unit(frame, standard)
    if standard is not None and key == "verdicts":
        frame, wide_marks = _with_indicator_values(frame, values, standard)
    columns = [str(c) for c in frame.columns]
    formats = {i: f for i, c in enumerate(columns) if (f := fm.number_format(key, c, frame, decimals)) is not None}
    cell_marks = {columns.index(c): m for c, m in fm.cell_marks(frame, [("value", "met", "above_floor")]).items()}
    cell_marks.update({columns.index(c): m for c, m in wide_marks})
    if "cv" in columns and "passed" in columns:
        cell_marks[columns.index("cv")] = fm.row_marks(key, frame)
    if key == "问题清单":
        cell_marks.update({columns.index(c): fm.severity_marks(frame) for c in ("severity", "severity_label") if c in columns})
    shown = frame if lang == "en" else frame.apply(lambda s: _value_labels(s, str(s.name)))
    hidden = frozenset(columns.index(code) for code, twin in _CODE_TWINS
                       if lang == "zh" and code in columns and twin in columns)
    freeze = 0
    for column in columns[:_MAX_FROZEN]:
        if column not in _KEY_COLUMNS:
            break
        freeze += 1
    return Sheet(
        key=key,
        title=sheet_name(key, lang),
        columns=columns,
        headers=[header(key, c, lang, standard) for c in columns],
        rows=_cells(shown),
        formats=formats,
        row_marks=fm.row_marks(key, frame),
        cell_marks=cell_marks,
        hidden=hidden,
        freeze_columns=freeze,
        print_ready=key == "问题清单",
    )


def prepare_sheets(tables: Mapping[str, pd.DataFrame], lang: str = "zh", standard: Standard | None = None) -> list[Sheet]:
    """The sheets of a workbook of result tables, in :data:`SHEET_ORDER`.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Result tables by name (:meth:`Evaluation.tables`, the monitoring panel).
    lang : {"zh", "en"}, default "zh"
        Chinese labels, units and value labels, or the canonical English names.
    standard : Standard, optional
        Gives display decimals, indicator names and units.

    Returns
    -------
    list of Sheet
    """
    lang = check_lang(lang)
    rank = {k: i for i, k in enumerate(SHEET_ORDER)}
    keys = sorted(tables, key=lambda k: rank.get(k, len(rank)))
    values = tables.get("sections", tables.get("indicators"))
    return [_prepare(k, tables[k], lang, standard, values) for k in keys]
