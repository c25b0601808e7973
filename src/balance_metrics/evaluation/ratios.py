"""Exact rational numbers a whole column at a time: :class:`Ratios`.

The item rules compare measured values with requirements exactly (a value on
its limit is judged as the standard says), like :class:`fractions.Fraction`
but for a column at once: every value is a numerator and a positive
denominator held as Python integers in NumPy object arrays, so sums, products
and comparisons are exact and never overflow, and the element-wise work runs
in NumPy's loops rather than in a Python loop per row.

Data values enter as the decimals they were written with (``12.5`` is 25/2,
``0.1`` is 1/10, as :func:`balance_metrics.standard.loader.exact` reads a
float through its shortest ``repr``): a column is scaled by the smallest power
of ten that makes every value whole. :meth:`Ratios.floats` gives each value
correctly rounded (``int / int`` true division), i.e. the same float as
``float(Fraction)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from balance_metrics.standard.loader import exact

_MAX_DECIMALS = 12


_SAFE = 2.0**62  # int64 products below this cannot overflow
_EXACT_FLOAT = 2**53  # ints below this convert to float exactly


def _ints(values: np.ndarray) -> np.ndarray:
    """Whole-valued floats (or ints) as int64 (exact below 2**53)."""
    return np.asarray(values).astype(np.int64)


def _largest(a: np.ndarray) -> float:
    return float(np.abs(a).max()) if a.size else 0.0


def _mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact element-wise product: int64 while it cannot overflow, else Python ints."""
    if a.dtype != object and b.dtype != object and _largest(a) * _largest(b) < _SAFE:
        return a * b
    return a.astype(object) * b.astype(object)


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype != object and b.dtype != object and _largest(a) + _largest(b) < _SAFE:
        return a + b
    return a.astype(object) + b.astype(object)


def _neg(a: np.ndarray) -> np.ndarray:
    return -a


def _decimal_parts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numerators and denominators of finite floats read as their shortest decimals."""
    for k in range(_MAX_DECIMALS + 1):
        scale = 10.0**k
        scaled = np.round(values * scale)
        if np.all(scaled / scale == values) and np.all(np.abs(scaled) < 2**53):
            return _ints(scaled), np.full(values.shape, 10**k, dtype=np.int64)
    # More decimals than any reported figure has: the exact reading, value by value.
    fractions = [exact(float(v)) for v in values.tolist()]
    return (np.array([f.numerator for f in fractions], dtype=object),
            np.array([f.denominator for f in fractions], dtype=object))


@dataclass(frozen=True)
class Ratios:
    """A column of exact rationals; ``missing`` marks absent values (num 0, den 1).

    Attributes
    ----------
    num, den : ndarray of object (Python int)
        Numerators and positive denominators.
    missing : ndarray of bool
    """

    num: np.ndarray
    den: np.ndarray
    missing: np.ndarray

    #: Numerators and denominators are int64 while every value fits, else
    #: object arrays of Python ints; each operation picks the exact one.

    def __len__(self) -> int:
        return len(self.num)

    @classmethod
    def of(cls, values: object) -> "Ratios":
        """Floats (NaN = missing) read exactly as the decimals they print as."""
        x = np.asarray(values, dtype=float).reshape(-1)
        missing = ~np.isfinite(x)
        if not (~missing).any():
            return cls(np.zeros(x.shape, dtype=np.int64), np.ones(x.shape, dtype=np.int64), missing)
        parts = _decimal_parts(x[~missing])
        dtype = object if parts[0].dtype == object or parts[1].dtype == object else np.int64
        num = np.zeros(x.shape, dtype=dtype)
        den = np.ones(x.shape, dtype=dtype)
        num[~missing], den[~missing] = parts
        return cls(num, den, missing)

    @classmethod
    def binary(cls, values: object) -> "Ratios":
        """Floats (NaN = missing) at their exact binary value (``Fraction(float)``)."""
        x = np.asarray(values, dtype=float).reshape(-1)
        missing = ~np.isfinite(x)
        parts = [v.as_integer_ratio() for v in np.where(missing, 0.0, x).tolist()]  # rare: CVs, Wilson bounds
        num, den = np.empty(x.shape, dtype=object), np.empty(x.shape, dtype=object)
        num[:], den[:] = [p[0] for p in parts], [p[1] for p in parts]
        return cls(num, den, missing)

    @classmethod
    def const(cls, value: Fraction | int | str, n: int) -> "Ratios":
        """``n`` copies of one exact number."""
        f = exact(value) if not isinstance(value, Fraction) else value
        small = abs(f.numerator) < _EXACT_FLOAT and f.denominator < _EXACT_FLOAT
        dtype = np.int64 if small else object
        return cls(np.full(n, f.numerator, dtype=dtype), np.full(n, f.denominator, dtype=dtype), np.zeros(n, dtype=bool))

    @classmethod
    def whole(cls, values: object, missing: np.ndarray | None = None) -> "Ratios":
        """Whole numbers (counts of pupils, teachers, rooms)."""
        x = np.asarray(values)
        miss = np.zeros(x.shape, dtype=bool) if missing is None else np.asarray(missing, dtype=bool)
        return cls(_ints(np.where(miss, 0, x)), np.ones(x.shape, dtype=np.int64), miss)

    @classmethod
    def mapped(cls, keys: object, mapping: "dict[object, Fraction]") -> "Ratios":
        """The exact number ``mapping[key]`` of each key (missing for a key not in it).

        Each distinct key is looked up once (the keys coded by :func:`pandas.factorize`).
        """
        values = keys.array if isinstance(keys, pd.Series) else np.asarray(keys, dtype=object).reshape(-1)
        codes, uniques = pd.factorize(values)  # a missing key is coded -1: the extra last entry
        found = [mapping.get(u) if u is not None and u == u else None for u in np.asarray(uniques, dtype=object).tolist()] + [None]
        missing = np.array([f is None for f in found], dtype=bool)[codes]
        small = all(abs(v.numerator) < _EXACT_FLOAT and v.denominator < _EXACT_FLOAT for v in mapping.values())
        dtype = np.int64 if small else object
        num = np.array([0 if f is None else f.numerator for f in found], dtype=dtype)[codes]
        den = np.array([1 if f is None else f.denominator for f in found], dtype=dtype)[codes]
        return cls(num, den, missing)

    @classmethod
    def concat(cls, parts: "list[Ratios]") -> "Ratios":
        """The parts one after the other (exact: int64 beside Python ints gives objects)."""
        return cls(*(np.concatenate([getattr(p, a) for p in parts]) for a in ("num", "den", "missing")))

    def take(self, positions: np.ndarray) -> "Ratios":
        return Ratios(self.num[positions], self.den[positions], self.missing[positions])

    def where(self, mask: np.ndarray, other: "Ratios") -> "Ratios":
        """This value where ``mask``, else ``other``'s."""
        def pick(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            if a.dtype != b.dtype:
                a, b = a.astype(object), b.astype(object)
            return np.where(mask, a, b)

        return Ratios(pick(self.num, other.num), pick(self.den, other.den), np.where(mask, self.missing, other.missing))

    def with_missing(self, mask: np.ndarray) -> "Ratios":
        """Also missing where ``mask``."""
        mask = np.asarray(mask, dtype=bool)
        return Ratios(np.where(mask, 0, self.num).astype(self.num.dtype), np.where(mask, 1, self.den).astype(self.den.dtype), self.missing | mask)

    def __add__(self, other: "Ratios") -> "Ratios":
        return Ratios(_add(_mul(self.num, other.den), _mul(other.num, self.den)), _mul(self.den, other.den), self.missing | other.missing)

    def __sub__(self, other: "Ratios") -> "Ratios":
        return Ratios(_add(_mul(self.num, other.den), _neg(_mul(other.num, self.den))), _mul(self.den, other.den), self.missing | other.missing)

    def __mul__(self, other: "Ratios | int") -> "Ratios":
        if isinstance(other, int):
            other = Ratios.const(Fraction(other), len(self))
        return Ratios(_mul(self.num, other.num), _mul(self.den, other.den), self.missing | other.missing)

    def __truediv__(self, other: "Ratios | int") -> "Ratios":
        """Exact quotient; missing where the divisor is 0 or missing."""
        if isinstance(other, int):
            other = Ratios.const(Fraction(other), len(self))
        zero = np.asarray(other.num == 0, dtype=bool)
        sign = np.where(other.num < 0, -1, 1).astype(np.int64)
        num = _mul(_mul(self.num, other.den), sign)
        den = _mul(_mul(self.den, other.num), sign)
        return Ratios(np.where(zero, 0, num).astype(num.dtype), np.where(zero, 1, den).astype(den.dtype),
                      self.missing | other.missing | zero)

    def is_zero(self) -> np.ndarray:
        """Present and equal to 0."""
        return ~self.missing & np.asarray(self.num == 0, dtype=bool)

    def compare(self, other: "Ratios", comparison: str) -> np.ndarray:
        """``self <comparison> other`` exactly (False where either is missing)."""
        left, right = _mul(self.num, other.den), _mul(other.num, self.den)
        if left.dtype != right.dtype:
            left, right = left.astype(object), right.astype(object)
        ops = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less}
        if comparison not in ops:
            raise ValueError(f"unknown comparison {comparison!r}; use one of {', '.join(ops)}")
        return ops[comparison](left, right).astype(bool) & ~self.missing & ~other.missing

    def clip0(self) -> "Ratios":
        """max(0, value)."""
        return Ratios(np.where(self.num < 0, 0, self.num).astype(self.num.dtype), self.den, self.missing)

    def floats(self) -> np.ndarray:
        """Each value correctly rounded to float (NaN where missing)."""
        out = np.full(len(self.num), np.nan)
        present = ~self.missing
        if not present.any():
            return out
        num, den = self.num, self.den
        if num.dtype != object and den.dtype != object and _largest(num) < _EXACT_FLOAT and _largest(den) < _EXACT_FLOAT:
            # both exact as floats: one correctly rounded division, written in place (no rows taken)
            np.divide(num, den, out=out, where=present)
        else:
            out[present] = (num[present].astype(object) / den[present].astype(object)).astype(float)
        return out
