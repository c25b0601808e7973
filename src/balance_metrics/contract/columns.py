"""Parse a whole column of text cells at once (the fast path of :func:`~balance_metrics.contract.cells.parse_cell`).

The column is joined into one UTF-8 byte buffer and every cell is classified with
numpy on those bytes: its length, whether it starts or ends with a character that
``str.strip`` removes, how many ASCII digits and points it holds. Plain cells —
ASCII digits (with one decimal point for amounts), known category codes and labels,
yes/no words, ids and texts without surrounding white space — get their value
whole-column; every other cell (white space around it, thousands separators,
full-width digits, exponents, placeholders, errors …) goes through
:func:`parse_cell` one by one, so the rules and messages are exactly those of the
cell parser.

Numbers are exact: a count of at most 15 digits is summed from its digits in
float64 (every partial sum is an integer below 2**53); an amount with at most 15
digits is that integer mantissa divided by a power of ten ≤ 10**15, both exact
doubles, so the IEEE division rounds correctly and gives the same float as
``float(text)`` (Clinger's fast path). Longer amounts are parsed by ``float``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from balance_metrics.contract.cells import parse_cell
from balance_metrics.contract.schema import BOOLEANS, MAX_AMOUNT, MAX_COUNT, Column

MAX_DIGITS = 15
_AMOUNT = re.compile(r"[0-9]{1,15}(?:\.[0-9]+)?", re.ASCII)
_SEP = "\x00"


def _space_codes() -> tuple[np.ndarray, np.ndarray, frozenset[int], frozenset[int]]:
    """Byte patterns of the characters ``str.strip`` removes (all below U+3001)."""
    spaces = [chr(c).encode("utf-8") for c in range(0x3001) if chr(c).isspace()]
    one = np.zeros(256, bool)
    one[[s[0] for s in spaces if len(s) == 1]] = True
    lead = np.zeros(256, bool)  # lead bytes of the multi-byte spaces
    lead[[s[0] for s in spaces if len(s) > 1]] = True
    two = frozenset(int.from_bytes(s, "big") for s in spaces if len(s) == 2)
    three = frozenset(int.from_bytes(s, "big") for s in spaces if len(s) == 3)
    assert max(len(s) for s in spaces) <= 3
    return one, lead, two, three


_SPACE_1, _SPACE_LEAD, _SPACE_2, _SPACE_3 = _space_codes()
_CONT = np.zeros(256, bool)
_CONT[0x80:0xC0] = True


class Cells:
    """Byte-level facts about every cell of a column (whole-column numpy).

    ``length`` (UTF-8 bytes) and ``padded`` (starts or ends with white space that
    ``str.strip`` removes) of every cell; :meth:`numbers` classifies the cells as
    numbers.
    """

    def __init__(self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray):
        n = len(starts)
        self.buf, self.starts = buf, starts
        self.length = length = ends - starts
        some = length > 0
        self.padded = self._padded(buf, starts, ends, length) & some if some.any() else np.zeros(n, bool)

    def _at(self, index: np.ndarray) -> np.ndarray:
        return self.buf[np.clip(index, 0, len(self.buf) - 1)].astype(np.int64)

    def _padded(self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, length: np.ndarray) -> np.ndarray:
        # The first and last byte of each cell (of an empty cell some byte: the caller masks it).
        first, last = buf[np.minimum(starts, len(buf) - 1)], buf[ends - 1]
        head = _SPACE_1[first]
        multi = _SPACE_LEAD[first]
        if multi.any():  # a cell starting with a multi-byte character (rare): compare whole characters
            a1, a2, a3 = self._at(starts), self._at(starts + 1), self._at(starts + 2)
            head |= multi & (length >= 2) & np.isin(a1 * 256 + a2, list(_SPACE_2))
            head |= multi & (length >= 3) & np.isin((a1 * 256 + a2) * 256 + a3, list(_SPACE_3))
        tail = _SPACE_1[last]
        cont = _CONT[last]
        if cont.any():
            z1, z2, z3 = self._at(ends - 1), self._at(ends - 2), self._at(ends - 3)
            tail |= cont & (length >= 2) & np.isin(z2 * 256 + z1, list(_SPACE_2))
            tail |= cont & (length >= 3) & np.isin((z3 * 256 + z2) * 256 + z1, list(_SPACE_3))
        return head | tail

    def numbers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(plain count, plain amount, value, long) of every cell of at most ``MAX_DIGITS + 1`` bytes.

        A plain count matches ``[0-9]{1,15}``, a plain amount ``[0-9]{1,15}(\\.[0-9]+)?``
        with at most 15 digits in all; ``value`` is exact for them (NaN elsewhere).
        ``long`` marks the longer cells, which the caller checks itself.
        """
        n = len(self.length)
        index = np.flatnonzero((self.length > 0) & (self.length <= MAX_DIGITS + 1))
        order = np.argsort(-self.length[index].astype(np.int16), kind="stable")  # radix sort; longest first: the cells reaching byte j are a prefix
        index = index[order]
        starts, length = self.starts[index], self.length[index].astype(np.int64)
        width = int(length.max(initial=0))
        reaching = len(index) - np.cumsum(np.bincount(length, minlength=width + 1))  # cells longer than j
        mantissa = np.zeros(len(index), np.int64)
        digits = np.zeros(len(index), np.int8)
        points = np.zeros(len(index), np.int8)
        point_at = np.full(len(index), -1, np.int8)
        for j in range(width):  # a loop over byte positions, each over the cells that long
            k = int(reaching[j])
            byte = self.buf[starts[:k] + j]
            value = byte - np.uint8(48)  # wraps above 9 for every non-digit byte
            digit = value <= 9
            head = mantissa[:k]  # a view: updated in place where the byte is a digit
            np.multiply(head, 10, out=head, where=digit)
            np.add(head, value, out=head, where=digit)
            digits[:k] += digit
            point = byte == 46
            if point.any():
                point_at[:k] = np.where(point & (points[:k] == 0), j, point_at[:k])
                points[:k] += point
        last = self.buf[starts + length - 1]
        ends_digit = (last >= 48) & (last <= 57)
        first = self.buf[starts]
        starts_digit = (first >= 48) & (first <= 57)
        count = np.zeros(n, bool)
        amount = np.zeros(n, bool)
        value = np.full(n, np.nan)
        count[index] = (digits == length) & (length <= MAX_DIGITS)
        amount_here = (digits + points == length) & (points <= 1) & starts_digit & ends_digit & (digits <= MAX_DIGITS)
        amount[index] = amount_here
        decimals = np.where(points == 1, length - 1 - point_at.astype(np.int64), 0)
        good = count[index] | amount_here
        value[index[good]] = mantissa[good] / _POW10[decimals[good]]
        return count, amount, value, (self.length > MAX_DIGITS + 1)


_POW10 = 10.0 ** np.arange(MAX_DIGITS + 2)


def _cells(texts: Sequence[str]) -> Cells | None:
    """The :class:`Cells` of a column (None when a cell holds NUL: then cell by cell)."""
    if isinstance(texts, ByteColumn):
        return Cells(texts.buf, texts.starts, texts.ends)
    n = len(texts)
    buf = np.frombuffer(_SEP.join(texts).encode("utf-8", "surrogatepass"), np.uint8)
    sep = np.flatnonzero(buf == 0)
    if len(sep) != max(n - 1, 0):
        return None
    starts = np.concatenate([[0], sep + 1]) if n else np.zeros(0, np.int64)
    ends = np.concatenate([sep, [len(buf)]]) if n else np.zeros(0, np.int64)
    return Cells(buf, starts, ends)


class ByteColumn(Sequence[str]):
    """The cells of one column as byte spans ``[starts, ends)`` of a shared UTF-8 buffer
    (a CSV file's body); a cell's text is made only when asked for."""

    def __init__(self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray):
        self.buf, self.starts, self.ends = buf, np.ascontiguousarray(starts), np.ascontiguousarray(ends)
        self._texts: list[str] | None = None

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return self.texts()[index]
        return self.buf[self.starts[index]: self.ends[index]].tobytes().decode("utf-8", "surrogatepass")

    def __iter__(self):
        return iter(self.texts())

    def take(self, keep: np.ndarray) -> "ByteColumn":
        """The cells where ``keep`` holds."""
        return ByteColumn(self.buf, self.starts[keep], self.ends[keep])

    def factorize(self) -> tuple[np.ndarray, "ByteColumn"] | None:
        """(code of each cell, one cell of each code), codes numbered in order of first
        appearance, equal exactly for cells with equal bytes; ``None`` when a cell is longer
        than ``4 * 8`` bytes.

        The cells are grouped by their bytes packed into 64-bit words (zero-padded: a cell
        never holds NUL, which sends a file to the careful reader) and factorized as
        integers; the texts of a column are then made once per distinct cell.
        """
        n = len(self)
        length = self.ends - self.starts
        width = int(length.max(initial=0))
        if width > 4 * 8:
            return None
        if n == 0 or width == 0:
            return np.zeros(n, np.intp), self.take(np.zeros(min(n, 1), np.intp))
        codes = None
        for lane in range(-(-width // 8)):  # a loop over at most four 8-byte words
            lane_codes, uniques = pd.factorize(_words(self.buf, self.starts + 8 * lane, length - 8 * lane))
            codes = lane_codes if codes is None else pd.factorize(codes * len(uniques) + lane_codes)[0]
        top = np.maximum.accumulate(codes)  # codes are numbered in order of first appearance
        first = np.flatnonzero(np.concatenate([[True], top[1:] > top[:-1]]))
        return codes, self.take(first)

    def lookup(self, mapping: dict[str, object]) -> tuple[np.ndarray, np.ndarray]:
        """(found, position in ``mapping``) of each cell by exact text, as :func:`_lookup`,
        without making a text per cell (each distinct cell is looked up once, :meth:`factorize`)."""
        grouped = self.factorize()
        if grouped is None:
            return _lookup(self.texts(), mapping)
        codes, distinct = grouped
        found, position = _lookup(distinct.texts(), mapping)
        return found[codes], position[codes]

    def _repeats(self, sample: int = 1024) -> bool:
        """Whether the first cells repeat often enough (a quarter of them) that grouping pays."""
        if len(self) <= sample:
            return True
        head = _words(self.buf, self.starts[:sample], self.ends[:sample] - self.starts[:sample])
        return len(np.unique(head)) <= 3 * sample // 4

    def objects(self) -> np.ndarray:
        """Every cell's text as an object array, one ``str`` per distinct cell shared by its
        repeats (fewer texts to make, hash and keep), when :meth:`factorize` can group them."""
        grouped = self.factorize() if len(self) and self._repeats() else None
        if grouped is None:
            return _object_array(self.texts())
        codes, distinct = grouped
        return _object_array(distinct.texts())[codes]

    def texts(self) -> list[str]:
        """Every cell's text (gathered whole-column: one decode and one split)."""
        if self._texts is None:
            n = len(self)
            if n == 0 or len(self.buf) == 0:
                self._texts = [""] * n
                return self._texts
            # Gather each cell with the byte after it (its delimiter), then make those NUL:
            # one index array built by a cumulative sum of steps (1 inside a cell, a jump between cells).
            size = self.ends - self.starts + 1
            where = np.cumsum(size) - size
            small = np.int32 if len(self.buf) < 2**31 - 1 else np.int64
            step = np.ones(int(size.sum()), small)
            step[where] = self.starts - np.concatenate([[0], self.ends[:-1]])
            step[0] = self.starts[0]
            index = np.cumsum(step, dtype=small)
            index[-1] = min(int(index[-1]), len(self.buf) - 1)  # the byte after the file's last cell
            out = self.buf[index]
            out[where[1:] - 1] = 0  # NUL between cells (a CSV text on the fast path has none)
            self._texts = out[:-1].tobytes().decode("utf-8", "surrogatepass").split(_SEP)
        return self._texts


def _object_array(texts: list[str]) -> np.ndarray:
    out = np.empty(len(texts), dtype=object)
    out[:] = texts
    return out


#: The low ``k`` bytes of a little-endian word set, for k = 0 … 8.
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)


def _words(buf: np.ndarray, starts: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The first ``min(length, 8)`` bytes at each start as one zero-padded little-endian
    64-bit word (0 where ``length <= 0``), gathered through an overlapping 8-byte view of ``buf``."""
    if len(buf) < 8:
        buf = np.concatenate([buf, np.zeros(8 - len(buf), np.uint8)])
    last = len(buf) - 8
    windows = np.ndarray(shape=(last + 1,), dtype="<u8", buffer=np.ascontiguousarray(buf), strides=(1,))
    begin = np.minimum(starts, last)  # a cell in the last 8 bytes: read them, then shift it down
    shift = np.minimum(starts - begin, 7).astype(np.uint64) * np.uint64(8)
    return (windows[begin] >> shift) & _LOW_BYTES[np.clip(length, 0, 8)]


def nonblank(texts: Sequence[str]) -> np.ndarray:
    """Whether each cell holds anything but white space."""
    cells = _cells(texts)
    if cells is None:
        return np.array([bool(t.strip()) for t in texts], bool)
    result = cells.length > 0
    for i in np.flatnonzero(cells.padded):  # cells with white space around them only
        result[i] = bool(texts[i].strip())
    return result


def _lookup(texts: list[str], mapping: dict[str, object]) -> tuple[np.ndarray, np.ndarray]:
    """(found, position in ``mapping``) of each cell, by exact text."""
    keys = pd.Index(list(mapping), dtype=object)
    position = keys.get_indexer(pd.Index(texts, dtype=object)) if texts else np.zeros(0, np.int64)
    return position >= 0, position


def parse_column(col: Column, texts: Sequence[str], known_bad: dict[int, str] | None = None) -> tuple[pd.api.extensions.ExtensionArray, dict[int, str]]:
    """Parse every cell of one column.

    Parameters
    ----------
    col : Column
    texts : sequence of str
        The cells, one per record.
    known_bad : dict, optional
        Record -> rule already broken when reading (the cell gets no value).

    Returns
    -------
    (ExtensionArray, dict)
        The values as the column's typed array (``Int64`` counts, ``Float64``
        amounts, ``boolean`` yes/no, ``string`` otherwise; missing where empty or
        broken) and record -> rule broken, records ascending.
    """
    known_bad = known_bad or {}
    n = len(texts)
    kind = col.kind
    cells = _cells(texts)
    if not isinstance(texts, ByteColumn):
        texts = list(texts)
    numeric = kind in ("count", "amount")
    data: np.ndarray = np.zeros(n, np.int64 if kind == "count" else float if kind == "amount" else bool) if numeric or kind == "bool" \
        else np.full(n, None, dtype=object)
    fast = np.zeros(n, bool)
    if cells is None:
        empty = np.array([not t.strip() for t in texts], bool)
    else:
        empty = cells.length == 0
        clean = ~cells.padded & ~empty
        if kind in ("id", "text"):
            fast = clean
            data = texts.objects() if isinstance(texts, ByteColumn) else _object_array(texts)
            data[~fast] = None
        elif kind in ("bool", "category"):
            choices = dict(BOOLEANS) if kind == "bool" else \
                {label: code for code, label in (col.choices or {}).items()} | {code: code for code in (col.choices or {})}
            found, position = _lookup(texts, choices) if not isinstance(texts, ByteColumn) else texts.lookup(choices)
            fast = found & clean
            values = np.array(list(choices.values()), dtype=bool if kind == "bool" else object)
            data[fast] = values[position[fast]]
        elif kind == "count":
            plain, _, value, _ = cells.numbers()
            fast = plain & clean & (value <= MAX_COUNT)
            data[fast] = value[fast].astype(np.int64)
        elif kind == "amount":
            _, plain, value, long = cells.numbers()
            plain &= clean
            data[plain] = value[plain]
            for i in np.flatnonzero(long & clean):  # long cells (many decimals) one by one
                if _AMOUNT.fullmatch(texts[i]):
                    plain[i], data[i] = True, float(texts[i])
            fast = plain & (data <= MAX_AMOUNT)
    if cells is not None:
        for i in np.flatnonzero(cells.padded):  # cells with white space around them only
            empty[i] = not texts[i].strip()
    missing = ~fast
    optional_empty = empty & (not col.required)
    problems: dict[int, str] = {}
    for record in np.flatnonzero(~fast & ~optional_empty):  # cells outside the plain forms only
        record = int(record)
        rule = known_bad.get(record)
        value = None
        if rule is None:
            value, rule = parse_cell(col, texts[record])
        if value is not None:
            data[record] = value
            missing[record] = False
        if rule is not None:
            problems[record] = rule
    for record, rule in known_bad.items():  # a cell broken when reading has no value
        missing[record] = True
        problems[record] = rule
    return _typed(kind, data, missing), dict(sorted(problems.items()))


def _typed(kind: str, data: np.ndarray, missing: np.ndarray) -> pd.api.extensions.ExtensionArray:
    if kind == "count":
        return pd.arrays.IntegerArray(np.where(missing, 0, data).astype(np.int64), missing.copy())
    if kind == "amount":
        return pd.arrays.FloatingArray(np.where(missing, 0.0, data).astype(float), missing.copy())
    if kind == "bool":
        return pd.arrays.BooleanArray(np.where(missing, False, data).astype(bool), missing.copy())
    data[missing] = None  # ``data`` is the caller's own array
    return pd.arrays.StringArray(data)
