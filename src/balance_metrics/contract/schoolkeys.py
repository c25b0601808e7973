"""Where each school id lies in the ``schools`` table, looked up once and shared by the rules.

Many validation rules ask, for a table's ``school_id`` column, which row of ``schools``
each id names (or that it names none). Hashing a few hundred thousand id texts is the
costly part, so :func:`school_index` keeps one :class:`SchoolIndex` for the current
``schools`` table and each id column is looked up once (both remembered by weak
reference to the column's array: nothing outlives the tables, and a new table is
looked up afresh).

Ids of at most eight ASCII characters (the common case) are compared as 64-bit integers
(:func:`id_words`), whose hash table is several times faster than one of Python texts;
other ids as texts. The words and missing cells of a column are worked out once per load
(:func:`column_words`, forgotten when ``load_period`` ends) and shared by the lookups, the
duplicate-key and the district-key rules.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import mixed_radix


def id_words(values: np.ndarray) -> np.ndarray | None:
    """Each text of an object array (no missing value) as one 64-bit integer, equal exactly
    when the texts are equal; ``None`` when a text is not ASCII or longer than 8 characters.

    The texts are encoded as ASCII into zero-padded 9-byte fields.
    """
    if not len(values):
        return np.zeros(0, np.uint64)
    if pd.api.types.infer_dtype(values, skipna=False) != "string":
        return None
    try:
        fields = values.astype("S9")
    except (UnicodeEncodeError, TypeError, ValueError):
        return None
    raw = fields.view(np.uint8).reshape(len(values), 9)
    # A longer text sets a 9th byte; a NUL character would vanish in the padding, so the
    # bytes that are not NUL must be as many as the characters.
    if raw[:, 8].any() or np.count_nonzero(raw) != sum(map(len, values)):
        return None
    return np.ascontiguousarray(raw[:, :8]).view("<u8").ravel()


_WORDS: dict[int, tuple[weakref.ref, np.ndarray, np.ndarray | None]] = {}


def column_words(column: pd.Series) -> tuple[np.ndarray, np.ndarray | None]:
    """(given, words) of a column: which cells are not missing, and :func:`id_words` of
    every cell (0 where missing) or ``None``. Remembered for the column's array while a
    period is loaded (:func:`forget_words`), since several rules key on the same columns."""
    array = column.array
    held = _WORDS.get(id(array))
    if held is not None and held[0]() is array:
        return held[1], held[2]
    given = column.notna().to_numpy(bool)
    words = id_words(column.to_numpy(object)[given])
    full = None
    if words is not None:
        full = np.zeros(len(column), np.uint64)
        full[given] = words
    try:
        _WORDS[id(array)] = (weakref.ref(array), given, full)
    except TypeError:  # an array without weak references is not remembered
        pass
    return given, full


def column_codes(column: pd.Series, where: np.ndarray, words: bool = True) -> np.ndarray:
    """An integer per cell of ``column`` where ``where`` holds (no missing cell there),
    equal exactly when the cells are equal: its words (``words``, and when every cell has
    one), or the codes of ``pd.factorize`` (cheaper for few distinct texts, shared objects)."""
    held = column_words(column)[1] if words else None
    return held[where].view(np.int64) if held is not None else pd.factorize(column.to_numpy(object)[where])[0]


def row_codes(columns: list[np.ndarray]) -> np.ndarray:
    """One integer per row of several integer columns, equal exactly when every column is
    (:func:`~balance_metrics.common.grouped.mixed_radix`: small non-negative codes are used
    as they are, others factorized first)."""
    return mixed_radix(_radix_codes(column) for column in columns)[0]


def _radix_codes(column: np.ndarray) -> tuple[np.ndarray, int]:
    if len(column) and column.min() >= 0 and column.max() < 2**31:
        return column.astype(np.int64), int(column.max()) + 1
    codes, uniques = pd.factorize(column)
    return codes, len(uniques)


def found_in(column: pd.Series, other: pd.Series) -> np.ndarray:
    """Whether each cell of ``column`` is given and equals a given cell of ``other``."""
    given, words = column_words(column)
    other_given, other_words = column_words(other)
    found = np.zeros(len(column), bool)
    if words is not None and other_words is not None:
        found[given] = pd.Index(pd.unique(other_words[other_given])).get_indexer(words[given]) >= 0
    else:
        found[given] = pd.Index(pd.unique(other.to_numpy(object)[other_given]), dtype=object).get_indexer(column.to_numpy(object)[given]) >= 0
    return found


def forget_words() -> None:
    """Let go of what :func:`column_words` remembers (the end of a load)."""
    _WORDS.clear()


class SchoolIndex:
    """The first row of each school id in ``schools``: :meth:`rows` gives it for any id column."""

    def __init__(self, schools: pd.DataFrame):
        ids = schools["school_id"]
        given, words = column_words(ids)
        texts = ids.to_numpy(object)[given]
        words = words[given] if words is not None else None
        keys = pd.Index(texts if words is None else words)
        first = ~keys.duplicated(keep="first")
        self.positions = np.flatnonzero(given)[first]
        self.index = keys[first]
        self.texts = texts[first]
        self.words = words is not None
        self._looked_up: list[tuple[weakref.ref, np.ndarray]] = []

    def rows(self, ids: pd.Series) -> np.ndarray:
        """Row in ``schools`` (first of the id) of each id; -1 where the id is missing or unknown."""
        array = ids.array
        for ref, rows in self._looked_up:
            if ref() is array:
                return rows
        rows = self._rows(ids)
        try:
            self._looked_up.append((weakref.ref(array), rows))
        except TypeError:  # an array without weak references is looked up each time
            pass
        return rows

    def _rows(self, ids: pd.Series) -> np.ndarray:
        rows = np.full(len(ids), -1, np.int64)
        if not len(self.positions):
            return rows
        given, words = column_words(ids)
        texts = ids.to_numpy(object)[given]
        keys = words[given] if self.words and words is not None else None
        if keys is not None:
            where = self.index.get_indexer(keys)
        else:  # ids as texts (an id that is no short ASCII text matches no school here)
            where = pd.Index(self.texts, dtype=object).get_indexer(texts) if self.words else self.index.get_indexer(texts)
        rows[given] = np.where(where >= 0, self.positions[np.maximum(where, 0)], -1)
        return rows


_CURRENT: list[tuple[weakref.ref, SchoolIndex]] = []


def school_index(schools: pd.DataFrame) -> SchoolIndex:
    """The :class:`SchoolIndex` of ``schools`` (built once per schools table)."""
    array = schools["school_id"].array
    current = next(iter(_CURRENT), None)  # one read: another thread may replace it meanwhile
    if current is not None and current[0]() is array:
        return current[1]
    index = SchoolIndex(schools)
    try:
        _CURRENT[:] = [(weakref.ref(array), index)]
        weakref.finalize(array, _forget, index)  # the table is gone: so is its index
    except TypeError:
        pass
    return index


def _forget(index: SchoolIndex) -> None:
    if _CURRENT and _CURRENT[0][1] is index:
        _CURRENT.clear()
