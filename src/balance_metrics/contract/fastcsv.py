"""The fast path for reading a CSV table: whole-file operations on the text, no Python loop per row.

It serves the common file — no quote character, ``\\n`` or ``\\r\\n`` line ends,
every record on one line with as many fields as the header — and gives up
(returns ``None``) as soon as a file is anything else. The caller then reads it
with the careful reader (:func:`~balance_metrics.contract.reading.read_csv` and
:func:`~balance_metrics.contract.reading.split_header`), which locates every
problem; so both paths agree on every file the fast path accepts (property test
``tests/test_fast_reading.py``), and every problem message comes from one place.

The header is found exactly as the careful reader finds it, on the first lines only;
the shape of the records below it (fields per line, line length) is checked with
numpy on the UTF-8 bytes, and each column is kept as byte spans of those bytes
(:class:`~balance_metrics.contract.columns.ByteColumn`): numbers are parsed from the
bytes, and texts are made only for the columns that hold texts.
"""

from __future__ import annotations

import csv
from codecs import BOM_UTF8
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from balance_metrics.contract.columns import ByteColumn, nonblank
from balance_metrics.contract.reading import COMMENT, MAX_TITLE_ROWS, choose_header, decode, header_cells

#: Lines read to find the header (comment and blank lines above it included).
HEAD_LINES = 64
#: The csv module's default field size limit: a longer line goes to the careful reader.
MAX_LINE_BYTES = 131_072


@dataclass(frozen=True)
class FastRead:
    """A CSV table read by the fast path: what :func:`~balance_metrics.contract.reading.split_header` returns."""

    header_row: int
    headers: list[str]
    rows: np.ndarray  # row number (file line) of each record
    columns: list[ByteColumn]  # the cells of each header's column
    encoding: str


def read_csv_fast(path: Path, name: str, score: Callable[[list[str]], int]) -> FastRead | None:
    """Read a plain CSV table, or return ``None`` when the careful reader must do it."""
    data = path.read_bytes()
    if not data or data.isspace():  # (``strip`` would copy the file)
        return None
    # From here on the UTF-8 bytes (the file itself when it is UTF-8): b"\n", b"," and b'"'
    # never occur inside a multi-byte character.
    raw, encoding = _ascii_body(data), "utf-8"
    if raw is None:
        text, encoding, problems = decode(data, name)
        if text is None or problems:
            return None
        raw = (data[len(BOM_UTF8):] if data.startswith(BOM_UTF8) else data) if encoding == "utf-8" else text.encode("utf-8", "surrogatepass")
        del text
    if b'"' in raw or b"\x00" in raw:
        return None
    if b"\r" in raw:
        if raw.count(b"\r") != raw.count(b"\r\n"):
            return None  # a lone carriage return: the careful reader splits lines as csv does
        raw = raw.replace(b"\r\n", b"\n")
    lines, more = _head_lines(raw)
    head_lines = [line.decode("utf-8", "surrogatepass") for line in lines]
    skipped = 0
    while skipped < len(head_lines) and (not head_lines[skipped].strip() or head_lines[skipped].lstrip().startswith(COMMENT)):
        skipped += 1
    if skipped == len(head_lines):
        return None
    delimiter = "\t" if head_lines[skipped].count("\t") > head_lines[skipped].count(",") else ","
    rows = [next(csv.reader([line], delimiter=delimiter), []) for line in head_lines[skipped:]]
    head, best, nonblank_rows = choose_header(rows, score)
    if best == 0 or (more and len(nonblank_rows) <= MAX_TITLE_ROWS):
        return None  # no header (the careful reader reports it), or the header search would read further
    head += skipped
    fields_per_line = len(rows[head - skipped])
    headers = header_cells(rows[head - skipped])
    width = len(headers)
    if fields_per_line < 2:
        return None
    offset = sum(len(line) + 1 for line in lines[: head + 1])
    end = len(raw)
    while end > offset and raw[end - 1] == 10:  # the body without its last line ends (no copy)
        end -= 1
    if end <= offset:
        return FastRead(head + 1, headers, np.zeros(0, np.int64), [[] for _ in headers], encoding)
    shape = _line_shape(np.frombuffer(raw, np.uint8, count=end - offset, offset=offset), delimiter, fields_per_line)
    if shape is None:
        return None
    buf, starts, ends = shape
    count = len(starts)
    columns = [ByteColumn(buf, starts[:, j], ends[:, j]) for j in range(fields_per_line)]
    for extra in columns[width:]:
        if nonblank(extra).any():
            return None  # a value beyond the header: the careful reader says where
    numbers = np.arange(head + 2, head + 2 + count)
    maybe_blank = np.flatnonzero(~nonblank(columns[0]))  # a blank line has a blank first cell
    if len(maybe_blank):
        blank = [i for i in maybe_blank if not any(c[i].strip() for c in columns)]
        if blank:
            keep = np.ones(count, bool)
            keep[blank] = False
            numbers = numbers[keep]
            columns = [c.take(keep) for c in columns]
    return FastRead(head + 1, headers, numbers, columns[:width], encoding)


def _ascii_body(data: bytes) -> bytes | None:
    """The file's bytes when they are all ASCII without NUL (what
    :func:`~balance_metrics.contract.reading.decode` reads as UTF-8 as they are), else ``None``:
    the check is much cheaper than decoding."""
    return data if data.isascii() and b"\x00" not in data else None


def _head_lines(raw: bytes) -> tuple[list[bytes], bool]:
    """The first ``HEAD_LINES`` lines (all when there are fewer), and whether more follow;
    as ``raw.split(b"\\n", HEAD_LINES)`` without copying the rest of the file."""
    cut = 0
    for _ in range(HEAD_LINES):  # a loop over the first lines only
        at = raw.find(b"\n", cut)
        if at < 0:
            return raw.split(b"\n"), False
        cut = at + 1
    return raw[: cut - 1].split(b"\n"), True


def _line_shape(buf: np.ndarray, delimiter: str, fields: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(bytes, field starts, field ends), one row of ``fields`` per line of the body's bytes
    ``buf``, when every line has ``fields`` fields and fits the csv field limit."""
    low = np.flatnonzero(buf <= 44)  # one pass: "\n" (10), "\t" (9) and "," (44) are all <= 44
    kind = buf[low]
    line_ends = low[kind == 10]
    delimiters = low[kind == ord(delimiter)]
    count = len(line_ends) + 1
    if len(delimiters) != count * (fields - 1):
        return None
    # the k-th line end must lie between its line's last delimiter and the next line's first
    if count > 1 and not ((delimiters[fields - 2:-1:fields - 1][: count - 1] < line_ends).all()
                          and (line_ends < delimiters[fields - 1::fields - 1]).all()):
        return None
    bounds = np.concatenate([[-1], line_ends, [len(buf)]])
    if int(np.diff(bounds).max()) > MAX_LINE_BYTES:
        return None
    # Byte positions fit 32 bits in any file below 2 GiB: half the memory of every cell's span.
    small = np.int32 if len(buf) < 2**31 - 1 else np.int64
    delimiters = delimiters.astype(small).reshape(count, fields - 1)
    bounds = bounds.astype(small)
    ends = np.concatenate([delimiters, bounds[1:, None]], axis=1)
    starts = np.concatenate([bounds[:-1, None] + 1, delimiters + 1], axis=1)
    return buf, starts, ends
