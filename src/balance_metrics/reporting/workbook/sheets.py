"""Writing sheets with openpyxl: tables, the legend, the 说明 (provenance) sheet.

Every table sheet has a bold header row that stays frozen with the row's key
columns, an autofilter over the whole table, widths fitted to the text (East
Asian characters count double), number formats that round only the display,
and fills on failing rows and cells. Sheets print on A4 landscape; the
问题清单 fits the page width, wraps its text and repeats its header row.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from balance_metrics.reporting.workbook import formats as fm
from balance_metrics.reporting.workbook.content import Sheet

__all__ = ["write_about", "write_legend", "write_table"]

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_FONT = Font(bold=True)
HEADER_BORDER = Border(bottom=Side(style="thin", color="8EA9DB"))
MIN_WIDTH = 6
MAX_WIDTH = 50
# A header wraps onto more lines rather than widening a narrow numeric column past this.
MAX_HEADER_WIDTH = 16
PRINT_WIDTH = 20
MAX_PRINT_WIDTH = 44
LINE_HEIGHT = 15
_FILLS = {mark: PatternFill("solid", fgColor=fill) for mark, (fill, _, _) in fm.FILLS.items()}
_FONTS = {mark: Font(color=font, bold=bold) for mark, (_, font, bold) in fm.FILLS.items()}
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")
_DECIMALS = re.compile(r"\.(0+)")


def _shown_width(value: Any, number_format: str | None) -> int:
    """Approximate display width of a cell value under its number format."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, dt.date):
        return len(fm.DATE)
    if isinstance(value, int | float) and not (isinstance(value, float) and not math.isfinite(value)):
        if number_format in (None, fm.GENERAL):
            return min(len(f"{value:.10g}"), 12)
        found = _DECIMALS.search(number_format)
        digits = len(found.group(1)) if found else 0
        scaled = value * 100 if number_format.endswith("%") and '"%"' not in number_format else value
        text = f"{scaled:,.{digits}f}" if number_format.startswith("#,##0") else f"{scaled:.{digits}f}"
        return len(text) + (1 if "%" in number_format else 0)
    return fm.text_width(value)


def _column_widths(sheet: Sheet, max_width: float = MAX_WIDTH) -> tuple[list[float], list[bool]]:
    """Width of each column and whether its cells wrap.

    A print-ready sheet keeps text columns narrow (:data:`PRINT_WIDTH`, the
    widest one :data:`MAX_PRINT_WIDTH`) so that it fits an A4 page width.
    """
    content = []
    for i in range(len(sheet.headers)):
        fmt = sheet.formats.get(i)
        if isinstance(fmt, list):
            content.append(max((_shown_width(r[i], f) for r, f in zip(sheet.rows, fmt, strict=True)), default=0))
        else:
            content.append(max((_shown_width(r[i], fmt) for r in sheet.rows), default=0))
    caps = [max_width] * len(content)
    if sheet.print_ready and content:
        widest = max(range(len(content)), key=content.__getitem__)
        caps = [MAX_PRINT_WIDTH if i == widest else PRINT_WIDTH for i in range(len(content))]
    widths, wraps = [], []
    for values, head, cap in zip(content, sheet.headers, caps, strict=True):
        width = max(values, min(fm.text_width(head), max(values, MAX_HEADER_WIDTH)), MIN_WIDTH) + 2
        widths.append(min(width, cap))
        wraps.append(width > cap or sheet.print_ready)
    return widths, wraps


def _style_header(ws: Worksheet, headers: Sequence[str], widths: Sequence[float], row: int = 1) -> None:
    lines = 1
    for i, head in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=i)
        cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_BORDER, _HEADER_ALIGN
        lines = max(lines, math.ceil(fm.text_width(head) / max(widths[i - 1] - 1, 1)))
    ws.row_dimensions[row].height = LINE_HEIGHT * min(lines, 6)


def _paint(ws: Worksheet, sheet: Sheet) -> None:
    """Fills and fonts of marked rows, then of marked cells.

    A column with cell marks (the R1–R7 values of 各校判定) is marked cell by
    cell only, so that in a failing row the failing values stand out.
    """
    row_columns = [c for c in range(1, len(sheet.columns) + 1) if c - 1 not in sheet.cell_marks]
    for r, mark in enumerate(sheet.row_marks, start=2):
        if mark is None:
            continue
        for c in row_columns:
            cell = ws.cell(row=r, column=c)
            cell.fill, cell.font = _FILLS[mark], _FONTS[mark]
    for c, marks in sheet.cell_marks.items():
        for r, mark in enumerate(marks, start=2):
            if mark is not None:
                cell = ws.cell(row=r, column=c + 1)
                cell.fill, cell.font = _FILLS[mark], _FONTS[mark]


def _page_setup(ws: Worksheet, print_ready: bool) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.print_options.gridLines = print_ready
    if print_ready:
        ws.print_title_rows = "1:1"
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.oddFooter.center.text = "&P / &N"


def write_table(ws: Worksheet, sheet: Sheet) -> None:
    """Write ``sheet`` to the empty worksheet ``ws``.

    Parameters
    ----------
    ws : openpyxl Worksheet
    sheet : Sheet
        From :func:`balance_metrics.reporting.workbook.content.prepare_sheets`.
    """
    ws.append(sheet.headers)
    for row in sheet.rows:
        ws.append(row)
    widths, wraps = _column_widths(sheet)
    last_row = len(sheet.rows) + 1
    for i, width in enumerate(widths):
        letter = get_column_letter(i + 1)
        ws.column_dimensions[letter].width = width
        if i in sheet.hidden:
            ws.column_dimensions[letter].hidden = True
        fmt = sheet.formats.get(i)
        if fmt is None and not wraps[i]:
            continue
        for r, (cell,) in enumerate(ws.iter_rows(min_row=2, max_row=last_row, min_col=i + 1, max_col=i + 1)):
            if fmt is not None:
                cell.number_format = fmt[r] if isinstance(fmt, list) else fmt
            if wraps[i]:
                cell.alignment = _WRAP_TOP
    _style_header(ws, sheet.headers, widths)
    _paint(ws, sheet)
    ws.freeze_panes = ws.cell(row=2, column=sheet.freeze_columns + 1)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.headers))}{last_row}"
    _page_setup(ws, sheet.print_ready)


def write_legend(ws: Worksheet, lang: str, title: str, floor: str) -> None:
    """The colour legend below the table on ``ws`` (the 汇总 sheet); ``floor`` as the standard states it ("85%")."""
    row = ws.max_row + 3
    ws.cell(row=row, column=1, value=title).font = HEADER_FONT
    for mark, label, text in fm.LEGEND[lang]:
        row += 1
        swatch = ws.cell(row=row, column=1, value=label.format(floor=floor))
        swatch.fill, swatch.font = _FILLS[mark], _FONTS[mark]
        ws.cell(row=row, column=2, value=text.format(floor=floor))


def write_about(ws: Worksheet, pairs: Sequence[tuple[str, Any]], inputs: Sheet, headings: Mapping[str, str]) -> None:
    """The 说明 sheet: provenance as label–value rows, then the input files with their SHA-256.

    Parameters
    ----------
    ws : openpyxl Worksheet
    pairs : sequence of (label, value)
        Standard, period, package version, run time …
    inputs : Sheet
        The input files (table, file, sheet, rows, sha256).
    headings : mapping
        ``"item"``, ``"value"`` and ``"inputs"`` headings in the workbook's language.
    """
    ws.append([headings["item"], headings["value"]])
    for label, value in pairs:
        ws.append([label, value])
    widths, _ = _column_widths(inputs, max_width=80)  # a SHA-256 is 64 characters: never cut
    key_width = max(fm.text_width(label) for label, _ in pairs) + 2
    value_width = max(fm.text_width(v) for _, v in pairs) + 2
    _style_header(ws, [headings["item"], headings["value"]], [key_width, value_width])
    start = ws.max_row + 2
    ws.cell(row=start, column=1, value=headings["inputs"]).font = HEADER_FONT
    first = start + 1
    for c, head in enumerate(inputs.headers, start=1):
        ws.cell(row=first, column=c, value=head)
    for r, row in enumerate(inputs.rows, start=first + 1):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=value)
    _style_header(ws, inputs.headers, widths, row=first)
    for i in range(max(len(widths), 2)):
        ws.column_dimensions[get_column_letter(i + 1)].width = max(
            widths[i] if i < len(widths) else 0, key_width if i == 0 else 0, min(value_width, MAX_WIDTH) if i == 1 else 0)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A{first}:{get_column_letter(len(inputs.headers))}{first + len(inputs.rows)}"
    _page_setup(ws, print_ready=False)
