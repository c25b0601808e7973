"""Whole-column helpers for grouped text: join the texts of each group without a
Python loop over groups."""

from __future__ import annotations

import numpy as np


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
    out = np.full(n_groups, "", dtype=object)
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size == 0:
        return out
    texts = np.asarray(texts, dtype=object)
    size = np.bincount(codes, minlength=n_groups)
    alone = size[codes] == 1
    out[codes[alone]] = texts[alone]  # a group of one text is that text (no concatenation)
    many = np.flatnonzero(~alone)
    if many.size:
        grouped = codes[many]
        if not is_sorted(grouped):
            order = np.argsort(grouped, kind="stable")
            many, grouped = many[order], grouped[order]
        first = np.r_[True, grouped[1:] != grouped[:-1]]
        parts = texts[many]
        parts[~first] = sep + parts[~first]
        starts = np.flatnonzero(first)
        out[grouped[starts]] = np.add.reduceat(parts, starts)
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

