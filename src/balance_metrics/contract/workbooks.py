"""Read the sheets of an ``.xlsx`` workbook into grids of text cells (Excel row numbers).

Values are read with calamine (``python-calamine``, a Rust reader, many times faster
than openpyxl) whenever that gives exactly what openpyxl gives. calamine reads an
Excel error value and a formula without a saved value as an empty cell, and a whole
number beyond 2**53 as a float; so a sheet whose XML holds a formula (``<f>``) or an
error cell (``t="e"``), or a number that large, is read with openpyxl instead, which
reports each such cell (:func:`read_sheet`). A workbook calamine cannot open is
opened with openpyxl, whose failure is the problem reported.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from balance_metrics.common.errors import Problem
from balance_metrics.contract.reading import EXCEL_ERRORS, Grid

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CAREFUL = re.compile(rb'<(?:\w+:)?f[\s>/]|\st="e"')
#: Floats from 2**53 on may stand for an integer openpyxl reads exactly: let openpyxl read them.
_EXACT = 2.0**53


class Workbook:
    """An open workbook: ``sheetnames`` and :meth:`read` (one sheet as a :class:`Grid`)."""

    def __init__(self, path: Path, fast: object | None, careful: object | None, plain: dict[str, bool]):
        self.path, self._fast, self._careful, self._plain = path, fast, careful, plain
        self.sheetnames: list[str] = list(fast.sheet_names) if fast is not None else list(careful.sheetnames)  # type: ignore[attr-defined]

    def read(self, sheet: str, source: str) -> tuple[Grid | None, list[Problem]]:
        """Read one sheet (calamine when the sheet is plain, else openpyxl)."""
        grid = None
        if self._fast is not None and self._plain.get(sheet, False):
            try:
                grid = _calamine_grid(self._fast.get_sheet_by_name(sheet).to_python(skip_empty_area=False))  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - anything calamine cannot do, openpyxl does (or reports)
                grid = None
        if grid is None:
            if self._careful is None:
                self._careful, problem = _open_openpyxl(self.path)
                if problem is not None:
                    return None, [Problem(source, None, "", "", problem.rule)]
            return read_sheet(self.path, self._careful, sheet, source)
        if not any(any(c.strip() for c in row) for row in grid.cells):
            return None, [Problem(source, None, "", "", "the sheet is empty: it needs a header row and one row per record")]
        return grid, []

    def close(self) -> None:
        for book in (self._fast, self._careful):
            if book is not None:
                book.close()  # type: ignore[attr-defined]


def open_workbook(path: Path, *, fast: bool = True) -> tuple[Workbook | None, Problem | None]:
    """Open an ``.xlsx`` workbook (values as last saved), or say why it cannot be read.

    ``fast=False`` reads every sheet with openpyxl (to compare both readers)."""
    if path.is_dir():
        return None, Problem(path.name, None, "", "", "a folder named like a workbook: move it out of the period folder")
    if path.stat().st_size == 0:
        return None, Problem(path.name, None, "", "", "the workbook file is empty (0 bytes): remove it or save it again from Excel")
    plain = _plain_sheets(path) if fast else {}
    if plain:
        try:
            import python_calamine

            return Workbook(path, python_calamine.CalamineWorkbook.from_path(str(path)), None, plain), None
        except Exception:  # noqa: BLE001 - openpyxl opens it or says why not
            pass
    book, problem = _open_openpyxl(path)
    return (None, problem) if book is None else (Workbook(path, None, book, {}), None)


def _open_openpyxl(path: Path) -> tuple[object | None, Problem | None]:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True), None
    except Exception as error:  # noqa: BLE001 - any failure of a third-party reader is a file problem
        return None, Problem(path.name, None, "", "", f"not a readable .xlsx workbook ({type(error).__name__}): save it again from Excel as .xlsx, or move it out of the period folder")


def _plain_sheets(path: Path) -> dict[str, bool]:
    """Sheet name -> whether its XML holds no formula and no error cell ({} when unsure)."""
    try:
        with zipfile.ZipFile(path) as archive:
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
            plain = {}
            for sheet in book.iter(f"{_MAIN}sheet"):
                target = targets.get(sheet.get(_REL))
                if not target:
                    return {}
                part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
                plain[sheet.get("name", "")] = _CAREFUL.search(archive.read(part)) is None
            return plain
    except Exception:  # noqa: BLE001 - not a workbook we understand: openpyxl decides
        return {}


class _Careful(Exception):
    """A value openpyxl must read (see the module docstring)."""


def _value_text(value: object) -> str:
    """:func:`cell_text` of a calamine value that is not a text (raises :class:`_Careful` from 2**53 on)."""
    if type(value) is float:
        if value != value:  # NaN, as cell_text
            return ""
        if abs(value) >= _EXACT:
            raise _Careful
        return str(int(value)) if value.is_integer() else str(value)
    return cell_text(value)


def _calamine_grid(rows: list[list[object]]) -> Grid | None:
    """Rows of calamine values as a Grid, or None when openpyxl must read the sheet."""
    grid = Grid(encoding="xlsx")
    try:
        for number, values in enumerate(rows, start=1):
            texts = [value if type(value) is str else _value_text(value) for value in values]
            if "#" in "".join(texts):  # rows that may hold an error value only
                for column, text in enumerate(texts):
                    if text and text.strip() in EXCEL_ERRORS:
                        grid.bad[(len(grid.cells), column)] = _error_rule(text)
            grid.cells.append(texts)
            grid.rows.append(number)
    except _Careful:
        return None
    return grid


def _error_rule(value: object) -> str:
    return f"Excel error value {value}: enter the value (leave the cell empty only if the column is optional)"


def cell_text(value: object) -> str:
    """The text of a workbook value as a person sees it (a whole float without ``.0``, a date as YYYY-MM-DD)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.strftime("%Y-%m-%d")
    return str(value)


def read_sheet(path: Path, book: object, sheet: str, source: str) -> tuple[Grid | None, list[Problem]]:
    """Read one sheet of an openpyxl workbook into a :class:`Grid` with Excel row numbers
    (Excel error values and formulas without a saved value are bad cells)."""
    try:
        grid = _sheet_grid(book[sheet], _formulas(path, sheet))  # type: ignore[index]
    except Exception as error:  # noqa: BLE001 - a damaged sheet is a file problem
        return None, [Problem(source, None, "", "", f"cannot read this sheet ({type(error).__name__}: {error}); save the workbook again from Excel")]
    if not any(any(c.strip() for c in row) for row in grid.cells):
        return None, [Problem(source, None, "", "", "the sheet is empty: it needs a header row and one row per record")]
    return grid, []


def _formulas(path: Path, sheet: str) -> Callable[[int, int], str | None]:
    """Look up the formula of a cell (row, column, 1-based) whose saved value is empty."""
    import openpyxl

    cache: dict[tuple[int, int], str] = {}
    loaded: list[bool] = []

    def formula(row: int, column: int) -> str | None:
        if not loaded:
            book = openpyxl.load_workbook(path, read_only=True, data_only=False)
            for r, values in enumerate(book[sheet].iter_rows(values_only=True), start=1):
                for c, value in enumerate(values, start=1):
                    if isinstance(value, str) and value.startswith("="):
                        cache[(r, c)] = value
            book.close()
            loaded.append(True)
        return cache.get((row, column))

    return formula


def _sheet_grid(sheet: object, formula: Callable[[int, int], str | None]) -> Grid:
    grid = Grid(encoding="xlsx")
    blanks: list[tuple[int, int]] = []
    for number, cells in enumerate(sheet.iter_rows(), start=1):  # type: ignore[attr-defined]
        texts = []
        for column, cell in enumerate(cells):
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) == "e" or (isinstance(value, str) and value.strip() in EXCEL_ERRORS):
                grid.bad[(len(grid.cells), column)] = _error_rule(value)
            elif value is None:
                blanks.append((len(grid.cells), column))
            texts.append(cell_text(value))
        grid.cells.append(texts)
        grid.rows.append(number)
    if blanks:
        for index, column in blanks:
            text = formula(grid.rows[index], column + 1)
            if text is not None:
                grid.bad[(index, column)] = f"formula {text} has no saved value: open the workbook in Excel and save it (or type the value)"
    return grid


