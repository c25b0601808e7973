"""Whole-column wording at national scale: integer codes of a column, numbers
written as :func:`~balance_metrics.evaluation.checks.fmt` writes them, and texts
joined per group — each text built once per distinct value, never per row in
Python.

At 200,000 sections the 问题清单 and the RS notes write about a million numbers
and sentences. What costs there is hashing strings (``pandas.factorize`` of a
text column) and one Python call per value; so

- :func:`codes_of` takes the codes of a categorical column as they are and
  hashes a text column only once;
- :func:`fmt_values` formats every distinct number with *one* ``str.format``
  call and strips trailing zeros with ``str.replace`` over the joined text
  (C loops), giving exactly the texts of :func:`~.checks.fmt`;
- :func:`join_groups` joins the texts of every group in one pass
  (:func:`~balance_metrics.common.grouped.join_by_group`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import first_rows, join_by_group, mixed_radix

# Decimals shown per unit; whole-number units show no decimals.
DECIMALS: dict[str, int] = {"%": 1, "人/百生": 2, "m²": 1, "万元": 1, "": 3}
WHOLE_UNITS = frozenset({"人", "间", "个", "所", "项", "元", "元/生", "元/生·年"})
MONEY_UNITS = frozenset({"元", "元/生", "元/生·年", "万元"})


def unit_decimals(unit: str) -> tuple[int, bool]:
    """Decimals a value in ``unit`` is shown with, and whether it is an amount of money.

    Whole-number units (人, 间, 元 …) show none; the rest follow the unit's usual
    precision (``"%"`` one decimal, ``"人/百生"`` two).
    """
    digits = 0 if unit in WHOLE_UNITS else DECIMALS.get(unit, 2)
    return digits, unit in MONEY_UNITS


# Separates the numbers in the one formatted text (never in a number or a unit).
_SEP = "\x00"


def codes_of(values: object) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (0 … k − 1, int64) of a column and its distinct values (object array).

    Every code is used. A categorical column gives its own codes (no hashing;
    its unused categories dropped, the rest in category order); anything else
    is factorized (in order of first appearance), a missing value being a
    value of its own.
    """
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.Categorical) and not (values.codes < 0).any():
        codes = np.asarray(values.codes, dtype=np.int64)
        present = np.bincount(codes, minlength=len(values.categories)) > 0
        uniques = np.asarray(values.categories, dtype=object)
        if present.all():
            return codes, uniques
        return (np.cumsum(present) - 1)[codes], uniques[present]  # unused categories dropped
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))  # (asking for NaN as a value costs an isna pass)
    codes, uniques = codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=object)
    missing = codes < 0
    if missing.any():
        codes[missing] = len(uniques)
        uniques = np.append(uniques, np.array([values[np.flatnonzero(missing)[0]]], dtype=object))
    return codes, uniques


def codes_within(key: np.ndarray, k: int, values: object) -> tuple[np.ndarray, np.ndarray]:
    """:func:`codes_of` of a text column that is constant within each group of
    ``key`` (codes 0 … k − 1, all used) — e.g. a check's unit within its item
    and part: the groups' first values are coded and each row is only compared
    with its group's (no hashing of every row); a column that is not constant
    within its groups is coded row by row."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.Categorical):
        return codes_of(values)
    values = np.asarray(values, dtype=object)
    first = first_rows(key, k)
    if len(values) and not (values == values[first][key]).all():
        return codes_of(values)
    codes, uniques = codes_of(values[first])
    return codes[key], uniques


def float_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes of a float column (NaN a value of its own) and how many distinct values (for :func:`dense`)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=float), use_na_sentinel=False)
    return codes.astype(np.int64, copy=False), len(uniques)


def dense(*codes: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    """One code per distinct combination of several codes, and how many there are.

    Parameters
    ----------
    codes : (array of int, int) pairs
        Each column's codes and its number of distinct codes (a mixed-radix key,
        renumbered whenever the next column would overflow int64).

    Returns
    -------
    (array of int64, int)
        Codes 0 … k − 1 in order of first appearance, and k.
    """
    key = mixed_radix(codes)[0]
    combined, uniques = pd.factorize(key)
    return combined.astype(np.int64, copy=False), len(uniques)


def fmt_values(values: object, unit: str = "", digits: int | None = None, prefix: str = "") -> np.ndarray:
    """:func:`~balance_metrics.evaluation.checks.fmt` of every value (object array of str).

    Each distinct value is written once: fixed decimals (the unit's, or
    ``digits``), thousands separators for money, trailing zeros and a bare
    decimal point dropped, ``-0`` written ``0`` (and ``-inf`` ``inf``, as fmt does), the unit appended, NaN ``—``.
    A whole number in a whole-number unit (人, 间, 元 …) shows no decimals; that
    is what stripping the zeros of its fixed-decimal text gives too. ``prefix``
    is put before each text (in the same pass, no concatenation per value).
    """
    x = np.asarray(values, dtype=float).reshape(-1)
    if not len(x):
        return np.zeros(0, dtype=object)
    codes, uniques = pd.factorize(x, use_na_sentinel=False)
    places, money = unit_decimals(unit)
    places = places if digits is None else digits
    spec = ("{:,.%df}" if money else "{:.%df}") % places + _SEP
    text = _SEP + (spec * len(uniques)).format(*uniques.tolist())
    if places > 0:  # each finite number has exactly `places` decimals: strip at most that many zeros
        for _ in range(places):
            text = text.replace("0" + _SEP, _SEP)
        text = text.replace("." + _SEP, _SEP)
    for signed in ("-0", "-inf"):  # fmt drops the sign of a text without a digit 1–9
        for _ in range(2):  # twice: adjacent matches overlap
            text = text.replace(_SEP + signed + _SEP, _SEP + signed[1:] + _SEP)
    if unit or prefix:
        text = text.replace(_SEP, unit + _SEP + prefix)
    out = np.empty(len(uniques), dtype=object)
    out[:] = text.split(_SEP)[1:-1]
    out[np.isnan(uniques)] = prefix + "—"
    return out[codes]


def fmt_coded(values: object, unit_codes: np.ndarray, units: np.ndarray, digits: int | None = None) -> np.ndarray:
    """:func:`fmt_values` of a column whose unit varies by row, given as codes
    into ``units`` (one pass per unit)."""
    x = np.asarray(values, dtype=float).reshape(-1)
    out = np.empty(len(x), dtype=object)
    unit_codes = np.asarray(unit_codes, dtype=np.int64)
    present = np.flatnonzero(np.bincount(unit_codes, minlength=len(units)))
    if len(present) == 1:
        return fmt_values(x, str(units[present[0]]), digits)
    for k in present:  # a loop over the few units
        mask = unit_codes == k
        out[mask] = fmt_values(x[mask], str(units[k]), digits)
    return out


def join_groups(codes: np.ndarray, texts: np.ndarray, n_groups: int, sep: str = "；") -> np.ndarray:
    """The texts of each group joined with ``sep`` in their order of appearance
    ("" for a group without texts): :func:`~balance_metrics.common.grouped.join_by_group`
    (a group of one text gets that text object itself, only groups of several are concatenated).

    Examples
    --------
    >>> join_groups(np.array([1, 0, 1, 3]), np.array(["a", "b", "c", "d"], dtype=object), 4).tolist()
    ['b', 'a；c', '', 'd']
    """
    return join_by_group(codes, texts, n_groups, sep)


def join_notes(*parts: np.ndarray, sep: str = "；") -> np.ndarray:
    """Element-wise ``sep.join`` of the non-empty texts."""
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        part = np.asarray(part, dtype=object)
        out = np.where(out == "", part, np.where(part == "", out, out + sep + part))
    return np.asarray(out, dtype=object)
