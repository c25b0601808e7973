"""Whole-column helpers for grouped text: join the texts of each group without a
Python loop over groups."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def join_by_group(codes: np.ndarray, texts: np.ndarray, n_groups: int, sep: str = ",") -> np.ndarray:
    """The texts of each group joined with ``sep``, in their order of appearance.

    Parameters
    ----------
    codes : array of int
        Group number (0 … n_groups − 1) of each text.
    texts : array of str
    n_groups : int

    Returns
    -------
    ndarray of object
        One string per group ("" for a group without texts).

    Examples
    --------
    >>> join_by_group(np.array([1, 0, 1]), np.array(["a", "b", "c"], dtype=object), 3).tolist()
    ['b', 'a,c', '']
    """
    return join_rows_by_group(codes, [texts], n_groups, sep)


def join_rows_by_group(codes: np.ndarray, columns: list[np.ndarray | str], n_groups: int, sep: str = ",") -> np.ndarray:
    """:func:`join_by_group` of the texts ``columns[0][i] + columns[1][i] + …``
    (a str: the same text in every row), each written straight into its group's
    text (no text per row is made).

    Examples
    --------
    >>> join_rows_by_group(np.array([1, 0, 1]), [np.array(["a", "b", "c"], dtype=object), np.array(["1", "2", "3"], dtype=object)], 3).tolist()
    ['b2', 'a1,c3', '']
    """
    out = np.full(n_groups, "", dtype=object)
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size == 0:
        return out
    # a str stays one text (broadcast where it is written, no column of copies made)
    columns = [c if isinstance(c, str) else np.asarray(c, dtype=object) for c in columns]
    if not is_sorted(codes):
        order = np.argsort(codes, kind="stable")
        codes, columns = codes[order], [c if isinstance(c, str) else c[order] for c in columns]
    last = np.r_[codes[1:] != codes[:-1], True]  # the last text of its group
    joined = _glued(columns, sep, last)
    if joined is None:
        texts = np.full(codes.size, columns[0], dtype=object) if isinstance(columns[0], str) else columns[0]
        for column in columns[1:]:
            texts = texts + column
        return _join_by_group_pairwise(codes, texts, n_groups, sep)
    out[codes[last]] = joined
    return out


# Ends a group in the one text of all groups (never in a report text; checked).
_END = "\x00"


def _glued(columns: list[np.ndarray | str], sep: str, last: np.ndarray) -> list[str] | None:
    """Row by row, the texts of ``columns`` one after another, then ``sep`` (:data:`_END`
    where ``last``), as one text (one ``str.join``, linear in its length), cut at
    :data:`_END`: the texts between the ends. None if a text is not a str or holds
    :data:`_END` itself."""
    n_pieces = int(last.sum())
    flat = np.empty((len(last), len(columns) + 1), dtype=object)
    for j, column in enumerate(columns):
        flat[:, j] = column
    flat[:, -1] = sep
    flat[last, -1] = _END
    try:
        whole = "".join(flat.ravel().tolist())
    except TypeError:
        return None
    pieces = whole.split(_END)
    return pieces[:-1] if len(pieces) == n_pieces + 1 else None


def _join_by_group_pairwise(codes: np.ndarray, texts: np.ndarray, n_groups: int, sep: str) -> np.ndarray:
    """:func:`join_by_group` of sorted codes by adding texts pairwise (any texts that add)."""
    out = np.full(n_groups, "", dtype=object)
    first = np.r_[True, codes[1:] != codes[:-1]]
    parts = texts.copy()
    parts[~first] = sep + parts[~first]
    starts = np.flatnonzero(first)
    out[codes[starts]] = np.add.reduceat(parts, starts)
    return out


def is_sorted(codes: np.ndarray) -> bool:
    """Whether ``codes`` never decrease."""
    return bool(codes.size < 2 or (codes[1:] >= codes[:-1]).all())


def dense_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber non-negative integer codes 0 … k − 1 keeping their order (no sort).

    Returns the used original codes (ascending) and each row's new code.
    """
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size == 0:
        return codes, codes
    present = np.bincount(codes) > 0
    used = np.flatnonzero(present)
    remap = np.cumsum(present) - 1
    return used, remap[codes]


def first_rows(codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Position of each group's first row (codes 0 … n_groups − 1, all present)."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    if is_sorted(codes):
        return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    first = np.full(n_groups, codes.size, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(codes.size))
    return first


def mixed_radix(columns: Iterable[tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
    """One int64 key per row of several columns of codes, equal exactly when every code is.

    Parameters
    ----------
    columns : (array of int, int) pairs
        Each column's codes (0 … size − 1) and its size.

    Returns
    -------
    (array of int64, int)
        The keys and their span (every key is below it). Where the next column would
        overflow int64 the keys so far are renumbered first (:func:`pandas.factorize`).

    Examples
    --------
    >>> mixed_radix([(np.array([0, 1, 1]), 2), (np.array([2, 0, 2]), 3)])[0].tolist()
    [2, 3, 5]
    """
    key, span = None, 1
    for column, size in columns:
        size = max(int(size), 1)
        column = np.asarray(column, dtype=np.int64)
        if key is None:
            key, span = column.copy(), size
            continue
        if span * size >= 2**62:
            codes, uniques = pd.factorize(key)
            key, span = codes.astype(np.int64, copy=False), max(len(uniques), 1)
        key, span = key * size + column, span * size
    if key is None:
        raise ValueError("mixed_radix needs at least one column")
    return key, span
