"""Turn a table file into a grid of text cells, each with the row number a person sees.

Everything that can go wrong while *reading* (an encoding we cannot decode, a
ragged or cut-off row, an empty file, a corrupt workbook, an Excel error value)
becomes a :class:`~balance_metrics.common.errors.Problem` naming the file and
row; nothing here raises for bad input. Parsing cells against the contract is
:mod:`balance_metrics.contract.tables`' job.

Encodings (CSV): UTF-8 with or without BOM; UTF-16 with BOM (Excel's "Unicode
text", tab-separated); otherwise GB18030, the superset of GBK that Excel on
Chinese Windows writes. A file that is mostly UTF-8 but has a few broken bytes
is reported at the line of the first one instead of being read as GB18030
mojibake.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from balance_metrics.common.errors import Problem

COMMENT = "#"
#: Title rows tolerated above the header row (workbook titles, merged group headers, units).
MAX_TITLE_ROWS = 9
USE_UTF8 = "save it as UTF-8 (Excel: 另存为 → 'CSV UTF-8（逗号分隔）')"
#: Excel error values; a cell holding one is a problem, never a value.
EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA", "#SPILL!", "#CALC!"})


@dataclass
class Grid:
    """Rows of text cells from one CSV file or sheet.

    ``rows[i]`` is the row number (line in a CSV, counting comment lines; Excel row in a
    sheet) where ``cells[i]`` starts. ``bad`` maps (index into ``cells``, column index)
    to the rule a cell broke while being read (Excel error value, formula without value).
    """

    cells: list[list[str]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    bad: dict[tuple[int, int], str] = field(default_factory=dict)
    encoding: str = ""


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes, name: str) -> tuple[str | None, str, list[Problem]]:
    """Decode CSV bytes; return (text or None, encoding used, problems)."""
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        line = _line_of(data, data.index(b"\x00"))
        return None, "", [Problem(name, line, "", "", f"NUL byte: not a text file (or UTF-16 without BOM); {USE_UTF8}")]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError as error:
            line = data[: error.start].decode("utf-16", "replace").count("\n") + 1
            return None, "", [Problem(name, line, "", "", f"UTF-16 file cut or damaged here ({error.reason}); {USE_UTF8}")]
    body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    try:
        return body.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as error:
        first_bad = error
    offset = len(data) - len(body)
    line = _line_of(data, offset + first_bad.start)
    bad_bytes = body[first_bad.start: first_bad.start + 4]
    if body is not data or _mostly_utf8(body):
        rule = f"bytes {bad_bytes!r} are not valid UTF-8 in a UTF-8 file (damaged or cut inside a character); fix the cell or {USE_UTF8}"
        return None, "", [Problem(name, line, "", "", rule)]
    try:
        return body.decode("gb18030"), "gb18030", []
    except UnicodeDecodeError as error:
        line = _line_of(body, error.start)
        rule = f"neither UTF-8 nor GBK/GB18030 (bytes {body[error.start: error.start + 4]!r} here); {USE_UTF8}"
        return None, "", [Problem(name, line, "", "", rule)]


def _mostly_utf8(data: bytes) -> bool:
    # GBK text read as UTF-8 breaks at nearly every Chinese character; a UTF-8
    # file with a stray byte breaks once among many good multi-byte characters.
    text = data.decode("utf-8", "replace")
    broken = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - broken
    return good > 2 * broken


def read_csv(path: Path, name: str) -> tuple[Grid | None, list[Problem]]:
    """Read a CSV file into a :class:`Grid` (leading comment and blank lines skipped)."""
    data = path.read_bytes()
    if not data.strip():
        return None, [Problem(name, None, "", "", "the file is empty: it needs a header row and one row per record")]
    text, encoding, problems = decode(data, name)
    if text is None:
        return None, problems
    lines = list(io.StringIO(text, newline=""))
    skipped = 0
    while skipped < len(lines) and (not lines[skipped].strip() or lines[skipped].lstrip().startswith(COMMENT)):
        skipped += 1
    if skipped == len(lines):
        return None, [Problem(name, None, "", "", "the file has only comments or blank lines: it needs a header row")]
    header_line = lines[skipped]
    delimiter = "\t" if header_line.count("\t") > header_line.count(",") else ","
    grid = Grid(encoding=encoding)
    reader = csv.reader(lines[skipped:], delimiter=delimiter, strict=True)
    previous = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(Problem(name, skipped + previous + 1, "", "", f"cannot split this line into fields ({error}); check the quotes"))
            break
        grid.cells.append(record)
        grid.rows.append(skipped + previous + 1)
        previous = reader.line_num
    return grid, problems


def choose_header(rows: list[list[str]], score: Callable[[list[str]], int]) -> tuple[int, int, list[int]]:
    """(index of the header row, its score, indices of the non-blank rows) among ``rows``.

    The header is the first of the first ``MAX_TITLE_ROWS + 1`` non-blank rows with the
    most known column names (``score``); rows above it are titles. The score is 0 when
    no row names a known column (the first non-blank row is returned then).
    """
    nonblank = [i for i, row in enumerate(rows) if any(c.strip() for c in row)]
    candidates = nonblank[: MAX_TITLE_ROWS + 1]
    scores = [score(rows[i]) for i in candidates]
    best = max(scores) if scores else 0
    head = candidates[scores.index(best)] if candidates and best > 0 else (nonblank[0] if nonblank else 0)
    return head, best, nonblank


def header_cells(cells: list[str]) -> list[str]:
    """The header row's names, stripped, without trailing empty cells."""
    headers = [h.strip() for h in cells]
    while headers and not headers[-1]:
        headers.pop()
    return headers


def split_header(
    grid: Grid, score: Callable[[list[str]], int], source: str
) -> tuple[int, list[str], list[int], list[list[str]], dict[tuple[int, int], str], list[Problem]]:
    """Find the header row among the first rows (:func:`choose_header`), then square the records below it.

    Returns the header's row number, headers, row numbers, the columns (one list of
    cells per header, each as long as the records), bad cells (record, column) -> rule
    and the problems (ragged rows).
    """
    head, best, _ = choose_header(grid.cells, score)
    headers = header_cells(grid.cells[head]) if grid.cells else []
    width = len(headers)
    problems: list[Problem] = []
    rows: list[int] = []
    records: list[list[str]] = []
    bad: dict[tuple[int, int], str] = {}
    bad_in_row: dict[int, list[tuple[int, str]]] = {}
    for (i, column), rule in grid.bad.items():
        bad_in_row.setdefault(i, []).append((column, rule))
    if best == 0:
        # No header: the caller reports that once, not every row as ragged.
        return (grid.rows[head] if grid.rows else 1), headers, [], [[] for _ in headers], {}, []
    for index in range(head + 1, len(grid.cells)):
        cells = grid.cells[index]
        if not any(c.strip() for c in cells):
            continue  # blank row (or a row of empty cells)
        number = grid.rows[index]
        extra = cells[width:]
        if any(c.strip() for c in extra):
            problems.append(Problem(source, number, "", ",".join(extra), f"this row has {len(cells)} fields but the header has {width}: an extra delimiter, or a value with a comma that is not quoted"))
        elif len(cells) < width and grid.encoding != "xlsx":
            problems.append(Problem(source, number, "", "", f"this row has {len(cells)} fields but the header has {width}: the row is cut short"))
        for column, rule in bad_in_row.get(index, ()):
            if column < width:
                bad[(len(records), column)] = rule
        records.append((cells + [""] * width)[:width])
        rows.append(number)
    columns = [list(column) for column in zip(*records)] if records else [[] for _ in headers]
    return (grid.rows[head] if grid.rows else 1), headers, rows, columns, bad, problems
