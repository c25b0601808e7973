"""Find and parse a period's tables (CSV files or sheets of XLSX workbooks).

Every cell is read as text and parsed against :mod:`balance_metrics.schema`;
each cell that does not parse becomes a :class:`~balance_metrics.errors.Problem`
instead of being coerced. Parsed frames carry two bookkeeping columns,
``_source`` (file, and sheet for workbooks) and ``_row`` (the row number a
person sees in that file), so later rules can point back to the input.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from balance_metrics.common.errors import Problem
from balance_metrics.contract.columns import nonblank, parse_column
from balance_metrics.contract.fastcsv import read_csv_fast
from balance_metrics.contract.reading import Grid, read_csv, split_header
from balance_metrics.contract.schema import EQUIPMENT_WAN, MAX_AMOUNT, TABLES, Table
from balance_metrics.contract.workbooks import open_workbook


@dataclass(frozen=True)
class RawTable:
    """A table as found on disk, every cell still text."""

    table: Table
    headers: list[str]  # original headers
    columns: list[Sequence[str]]  # one sequence of cells per header, one cell per record
    rows: Sequence[int]  # row number of each record in the file
    source: str  # "sections.csv" or "统计报表.xlsx[学段]"
    path: Path
    sheet: str | None
    bad: dict[tuple[int, int], str] = field(default_factory=dict)  # (record, column) -> rule
    encoding: str = ""
    header_row: int = 1  # row number of the header in the file


def _normalise_header(text: object) -> str:
    # Full-width brackets and stray spaces are common in exported statistics.
    return unicodedata.normalize("NFKC", str(text)).strip().lower()


def _accepted_headers(table: Table) -> dict[str, str]:
    accepted: dict[str, str] = {}
    for col in (*table.columns, *([EQUIPMENT_WAN] if table.converted else [])):
        for header in col.headers:
            accepted[_normalise_header(header)] = col.name
    return accepted


def _scorer(table: Table) -> Callable[[list[str]], int]:
    """How many of ``table``'s columns a row names (the header row names the most)."""
    accepted = _accepted_headers(table)

    def score(cells: list[str]) -> int:
        return len({accepted[h] for h in map(_normalise_header, cells) if h in accepted})

    return score


def _raw_table(table: Table, grid: Grid, source: str, path: Path, sheet: str | None) -> tuple[RawTable, list[Problem]]:
    score = _scorer(table)
    header_row, headers, rows, columns, bad, problems = split_header(grid, score, source)
    problems += _no_rows(table, rows, headers, score, source)
    return RawTable(table, headers, columns, rows, source, path, sheet, bad, grid.encoding, header_row), problems


def _no_rows(table: Table, rows: Sequence[int], headers: list[str], score: Callable[[list[str]], int], source: str) -> list[Problem]:
    if table.required and not len(rows) and score(headers):
        return [Problem(source, None, "", "", f"table '{table.name}' ({table.zh}) has no rows under its header")]
    return []


def read_csv_table(table: Table, path: Path, *, fast: bool = True) -> tuple[RawTable | None, list[Problem]]:
    """Read one CSV file as ``table``: the fast path when the file is plain
    (:mod:`~balance_metrics.contract.fastcsv`), else the careful reader."""
    score = _scorer(table)
    quick = read_csv_fast(path, path.name, score) if fast else None
    if quick is not None:
        raw = RawTable(table, quick.headers, quick.columns, quick.rows, path.name, path, None, {}, quick.encoding, quick.header_row)
        return raw, _no_rows(table, quick.rows, quick.headers, score, path.name)
    grid, problems = read_csv(path, path.name)
    if grid is None:
        return None, problems
    raw, split_problems = _raw_table(table, grid, path.name, path, None)
    return raw, problems + split_problems


def sha256(path: Path) -> str:
    """Hex SHA-256 digest of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def find_tables(folder: Path, tables: list[Table], *, fast: bool = True) -> tuple[dict[str, RawTable], list[Problem]]:
    """Locate each table as ``<name>.csv`` or as a sheet of any ``*.xlsx``.

    Table files and sheets may use the English or Chinese table name. A file that
    cannot be read (folder, empty, undecodable, corrupt workbook) is a problem, and
    its table counts as given (no second "missing table" problem). ``fast=False``
    reads every CSV file with the careful reader and every workbook with openpyxl
    (to compare both paths).
    """
    problems: list[Problem] = []
    found: dict[str, list[RawTable | str]] = {t.name: [] for t in tables}
    by_alias = {_normalise_header(a): t for t in tables for a in (t.name, t.zh)}

    for path in sorted(folder.glob("*.csv")):
        table = by_alias.get(_normalise_header(path.stem))
        if table is None:
            continue
        if not path.is_file():
            problems.append(Problem(path.name, None, "", "", "a folder named like a table file: move it out of the period folder"))
            found[table.name].append(path.name)
            continue
        raw, read_problems = read_csv_table(table, path, fast=fast)
        problems.extend(read_problems)
        found[table.name].append(path.name if raw is None else raw)
    for path in sorted(folder.glob("*.xlsx")):
        if path.name.startswith("~$"):  # Excel lock file
            continue
        book, problem = open_workbook(path, fast=fast)
        if problem is not None:
            problems.append(problem)
            continue
        try:
            for sheet in book.sheetnames:
                table = by_alias.get(_normalise_header(sheet))
                if table is None:
                    continue
                source = f"{path.name}[{sheet}]"
                grid, read_problems = book.read(sheet, source)
                problems.extend(read_problems)
                if grid is None:
                    found[table.name].append(source)
                    continue
                raw, split_problems = _raw_table(table, grid, source, path, sheet)
                problems.extend(split_problems)
                found[table.name].append(raw)
        finally:
            book.close()

    result: dict[str, RawTable] = {}
    for table in tables:
        hits = found[table.name]
        if len(hits) > 1:
            places = ", ".join(h if isinstance(h, str) else h.source for h in hits)
            problems.append(Problem(places, None, "", "", f"table '{table.name}' ({table.zh}) is given more than once"))
        elif hits and isinstance(hits[0], RawTable):
            result[table.name] = hits[0]
        elif not hits and table.required:
            problems.append(
                Problem(str(folder), None, "", "", f"missing table '{table.name}' ({table.zh}): expected {table.name}.csv, {table.zh}.csv or a workbook sheet of that name")
            )
    return result, problems


def _column_map(raw: RawTable) -> tuple[dict[int, str], list[Problem], list[str]]:
    """Map file headers to canonical column names."""
    table = raw.table
    accepted = _accepted_headers(table)
    mapping: dict[int, str] = {}
    problems: list[Problem] = []
    unused: list[str] = []
    for index, header in enumerate(raw.headers):
        name = accepted.get(_normalise_header(header))
        if name is None:
            if header.strip() or nonblank(raw.columns[index]).any():
                unused.append(header if header.strip() else f"(column {index + 1} without a header)")
        elif name in mapping.values():
            problems.append(Problem(raw.source, None, header, "", f"column '{name}' appears more than once"))
        else:
            mapping[index] = name
    if not mapping:
        first = table.columns[0]
        rule = (f"no column of table '{table.name}' ({table.zh}) found: row {raw.header_row} was read as the header; "
                f"the header row (one of the first ten rows) must hold the column names, e.g. {first.name} or {first.zh}")
        return mapping, [Problem(raw.source, raw.header_row, "", "", rule)], unused
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


def parse_table(raw: RawTable) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """Parse a raw table into typed canonical columns plus ``_source``/``_row``.

    Returns the frame, the problems found and the unused headers.
    """
    table = raw.table
    mapping, problems, unused = _column_map(raw)
    columns: dict[str, pd.api.extensions.ExtensionArray] = {}
    bad_in: dict[int, dict[int, str]] = {}
    for (record, column), rule in raw.bad.items():
        bad_in.setdefault(column, {})[record] = rule
    for index, name in mapping.items():
        col = EQUIPMENT_WAN if name == EQUIPMENT_WAN.name else table.column(name)
        texts = raw.columns[index]
        values, broken = parse_column(col, texts, bad_in.get(index, {}))
        problems.extend(Problem(raw.source, int(raw.rows[record]), name, texts[record], rule) for record, rule in broken.items())
        columns[name] = values
    for wan, (yuan, factor) in table.converted.items():
        if wan in columns:
            columns[yuan] = converted = columns.pop(wan) * factor
            over = np.flatnonzero((converted > MAX_AMOUNT).fillna(False).to_numpy(bool))
            for i in over:  # offending rows only
                value = float(converted[i])
                problems.append(Problem(raw.source, int(raw.rows[i]), wan, f"{value / factor:g}", f"larger than the largest amount accepted once converted to {yuan} ({MAX_AMOUNT:,.0f})"))
    n = len(raw.rows)
    frame = pd.DataFrame({name: columns[name] if name in columns else _empty(col.kind, n) for name, col in zip(table.names, table.columns)},
                         index=range(n), copy=False)
    frame["_source"] = raw.source
    frame["_row"] = np.asarray(raw.rows, dtype=np.int64)
    return frame, problems, unused


def _empty(kind: str, n: int) -> pd.api.extensions.ExtensionArray:
    """A column of ``n`` missing values of the column kind's type (an optional column not given)."""
    missing = np.ones(n, bool)
    if kind == "count":
        return pd.arrays.IntegerArray(np.zeros(n, np.int64), missing)
    if kind == "amount":
        return pd.arrays.FloatingArray(np.zeros(n), missing)
    if kind == "bool":
        return pd.arrays.BooleanArray(np.zeros(n, bool), missing)
    return pd.arrays.StringArray(np.full(n, pd.NA, dtype=object))


def table_names() -> list[str]:
    """Names of every table the contract knows."""
    return list(TABLES)
