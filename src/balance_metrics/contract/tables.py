"""Find and parse a period's tables (CSV files or sheets of XLSX workbooks).

Every cell is read as text and parsed against :mod:`balance_metrics.schema`;
each cell that does not parse becomes a :class:`~balance_metrics.errors.Problem`
instead of being coerced. Parsed frames carry two bookkeeping columns,
``_source`` (file, and sheet for workbooks) and ``_row`` (the row number a
person sees in that file), so later rules can point back to the input.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from balance_metrics.common.errors import Problem
from balance_metrics.contract.schema import BOOLEANS, EQUIPMENT_WAN, TABLES, Column, Table

COMMENT = "#"


@dataclass(frozen=True)
class RawTable:
    """A table as found on disk, every cell still text."""

    table: Table
    frame: pd.DataFrame  # original headers, all str
    rows: list[int]  # row number of each record in the file
    source: str  # "sections.csv" or "统计报表.xlsx[学段]"
    path: Path
    sheet: str | None


def _normalise_header(text: object) -> str:
    # Full-width brackets and stray spaces are common in exported statistics.
    return unicodedata.normalize("NFKC", str(text)).strip().lower()


def _read_csv(path: Path) -> tuple[pd.DataFrame, int]:
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    skipped = 0
    while skipped < len(lines) and lines[skipped].lstrip().startswith(COMMENT):
        skipped += 1
    frame = pd.read_csv(
        path, dtype=str, keep_default_na=False, skiprows=skipped, encoding="utf-8-sig"
    )
    # Data row k (0-based) sits on file line skipped + 1 (header) + k + 1.
    return frame, skipped + 2


def _read_sheet(path: Path, sheet: str) -> tuple[pd.DataFrame, int]:
    frame = pd.read_excel(path, sheet_name=sheet, dtype=object, header=0)
    frame = frame.map(_cell_text)
    return frame, 2


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sha256(path: Path) -> str:
    """Hex SHA-256 digest of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def find_tables(folder: Path, tables: list[Table]) -> tuple[dict[str, RawTable], list[Problem]]:
    """Locate each table as ``<name>.csv`` or as a sheet of any ``*.xlsx``.

    Table files and sheets may use the English or Chinese table name.
    """
    problems: list[Problem] = []
    found: dict[str, list[RawTable]] = {t.name: [] for t in tables}
    by_alias = {_normalise_header(a): t for t in tables for a in (t.name, t.zh)}

    for path in sorted(folder.glob("*.csv")):
        table = by_alias.get(_normalise_header(path.stem))
        if table is not None:
            frame, first = _read_csv(path)
            rows = list(range(first, first + len(frame)))
            found[table.name].append(RawTable(table, frame, rows, path.name, path, None))
    for path in sorted(folder.glob("*.xlsx")):
        if path.name.startswith("~$"):  # Excel lock file
            continue
        for sheet in pd.ExcelFile(path).sheet_names:
            table = by_alias.get(_normalise_header(sheet))
            if table is not None:
                frame, first = _read_sheet(path, sheet)
                rows = list(range(first, first + len(frame)))
                source = f"{path.name}[{sheet}]"
                found[table.name].append(RawTable(table, frame, rows, source, path, sheet))

    result: dict[str, RawTable] = {}
    for table in tables:
        hits = found[table.name]
        if len(hits) > 1:
            places = ", ".join(h.source for h in hits)
            problems.append(Problem(places, None, "", "", f"table '{table.name}' ({table.zh}) is given more than once"))
        elif hits:
            result[table.name] = hits[0]
        elif table.required:
            problems.append(
                Problem(str(folder), None, "", "", f"missing table '{table.name}' ({table.zh}): expected {table.name}.csv, {table.zh}.csv or a workbook sheet of that name")
            )
    return result, problems


def _column_map(raw: RawTable) -> tuple[dict[str, str], list[Problem], list[str]]:
    """Map file headers to canonical column names."""
    table = raw.table
    accepted: dict[str, str] = {}
    for col in (*table.columns, *([EQUIPMENT_WAN] if table.converted else [])):
        for header in col.headers:
            accepted[_normalise_header(header)] = col.name
    mapping: dict[str, str] = {}
    problems: list[Problem] = []
    unused: list[str] = []
    for header in raw.frame.columns:
        name = accepted.get(_normalise_header(header))
        if name is None:
            unused.append(str(header))
        elif name in mapping.values():
            problems.append(Problem(raw.source, None, str(header), "", f"column '{name}' appears more than once"))
        else:
            mapping[str(header)] = name
    present = set(mapping.values())
    for wan, (yuan, _factor) in table.converted.items():
        if wan in present and yuan in present:
            problems.append(Problem(raw.source, None, wan, "", f"give either {wan} or {yuan}, not both"))
        elif wan in present:
            present.add(yuan)
    for col in table.columns:
        if col.required and col.name not in present:
            problems.append(
                Problem(raw.source, None, col.name, "", f"missing column '{col.name}' ({col.zh})")
            )
    return mapping, problems, unused


def _parse_cell(col: Column, text: str) -> tuple[object, str | None]:
    """Parse one cell; return (value, rule broken or None)."""
    text = text.strip()
    if text == "":
        if col.required:
            return None, f"{col.name} ({col.zh}) is required"
        return None, None
    kind = col.kind
    if kind in ("id", "text"):
        return text, None
    if kind == "bool":
        value = BOOLEANS.get(text.lower())
        return (value, None) if value is not None else (None, "expected a yes/no value (true/false, 是/否, 1/0)")
    if kind == "category":
        assert col.choices is not None
        if text in col.choices:
            return text, None
        for code, label in col.choices.items():
            if text == label:
                return code, None
        allowed = ", ".join(f"{c} {z}" for c, z in col.choices.items())
        return None, f"unknown {col.name}; allowed: {allowed}"
    try:
        number = float(text)
    except ValueError:
        return None, "not a number"
    if not math.isfinite(number):
        return None, "not a finite number"
    if number < 0:
        return None, "must not be negative"
    if kind == "count":
        if not number.is_integer():
            return None, "must be a whole number"
        return int(number), None
    return number, None


def parse_table(raw: RawTable) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """Parse a raw table into typed canonical columns plus ``_source``/``_row``.

    Returns the frame, the problems found and the unused headers.
    """
    table = raw.table
    mapping, problems, unused = _column_map(raw)
    columns: dict[str, list[object]] = {}
    for header, name in mapping.items():
        col = EQUIPMENT_WAN if name == EQUIPMENT_WAN.name else table.column(name)
        values: list[object] = []
        for row, text in zip(raw.rows, raw.frame[header].tolist()):
            value, rule = _parse_cell(col, str(text))
            if rule is not None:
                problems.append(Problem(raw.source, row, name, str(text), rule))
            values.append(value)
        columns[name] = values
    for wan, (yuan, factor) in table.converted.items():
        if wan in columns:
            columns[yuan] = [None if v is None else v * factor for v in columns.pop(wan)]
    frame = pd.DataFrame(columns, index=range(len(raw.rows)))
    for col in table.columns:
        if col.name not in frame:
            frame[col.name] = None
        frame[col.name] = _typed(frame[col.name], col)
    frame = frame[list(table.names)]
    frame["_source"] = raw.source
    frame["_row"] = raw.rows
    return frame, problems, unused


def _typed(series: pd.Series, col: Column) -> pd.Series:
    if col.kind == "count":
        return series.astype("Int64")
    if col.kind == "amount":
        return series.astype("Float64")
    if col.kind == "bool":
        return series.astype("boolean")
    return series.astype("string")


def table_names() -> list[str]:
    """Names of every table the contract knows."""
    return list(TABLES)
