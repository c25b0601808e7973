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


def _ints(values: np.ndarray) -> np.ndarray:
    """Whole-valued floats (or ints) as an object array of Python ints."""
    return np.asarray(values).astype(np.int64).astype(object)


def _decimal_parts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numerators and denominators of finite floats read as their shortest decimals."""
    for k in range(_MAX_DECIMALS + 1):
        scale = 10.0**k
        scaled = np.round(values * scale)
        if np.all(scaled / scale == values) and np.all(np.abs(scaled) < 2**53):
            return _ints(scaled), np.full(values.shape, 10**k, dtype=object)
    # More decimals than any reported figure has: the exact reading, value by value.
    fractions = [exact(float(v)) for v in values]
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

    def __len__(self) -> int:
        return len(self.num)

    @classmethod
    def of(cls, values: object) -> "Ratios":
        """Floats (NaN = missing) read exactly as the decimals they print as."""
        x = np.asarray(values, dtype=float).reshape(-1)
        missing = ~np.isfinite(x)
        num = np.zeros(x.shape, dtype=object)
        den = np.ones(x.shape, dtype=object)
        if (~missing).any():
            num[~missing], den[~missing] = _decimal_parts(x[~missing])
        return cls(num, den, missing)

    @classmethod
    def binary(cls, values: object) -> "Ratios":
        """Floats (NaN = missing) at their exact binary value (``Fraction(float)``)."""
        x = np.asarray(values, dtype=float).reshape(-1)
        missing = ~np.isfinite(x)
        parts = [v.as_integer_ratio() for v in np.where(missing, 0.0, x).tolist()]
        return cls(np.array([p[0] for p in parts], dtype=object).reshape(x.shape),
                   np.array([p[1] for p in parts], dtype=object).reshape(x.shape), missing)

    @classmethod
    def const(cls, value: Fraction | int | str, n: int) -> "Ratios":
        """``n`` copies of one exact number."""
        f = exact(value) if not isinstance(value, Fraction) else value
        return cls(np.full(n, f.numerator, dtype=object), np.full(n, f.denominator, dtype=object), np.zeros(n, dtype=bool))

    @classmethod
    def whole(cls, values: object, missing: np.ndarray | None = None) -> "Ratios":
        """Whole numbers (counts of pupils, teachers, rooms)."""
        x = np.asarray(values)
        miss = np.zeros(x.shape, dtype=bool) if missing is None else np.asarray(missing, dtype=bool)
        return cls(_ints(np.where(miss, 0, x)), np.ones(x.shape, dtype=object), miss)

    @classmethod
    def mapped(cls, keys: object, mapping: "dict[object, Fraction]") -> "Ratios":
        """The exact number ``mapping[key]`` of each key (missing for a key not in it)."""
        keys = pd.Series(np.asarray(keys, dtype=object).reshape(-1))
        num = keys.map({k: v.numerator for k, v in mapping.items()})
        missing = num.isna().to_numpy(bool)
        den = keys.map({k: v.denominator for k, v in mapping.items()})
        return cls(num.fillna(0).to_numpy(object), den.fillna(1).to_numpy(object), missing)

    def take(self, positions: np.ndarray) -> "Ratios":
        return Ratios(self.num[positions], self.den[positions], self.missing[positions])

    def where(self, mask: np.ndarray, other: "Ratios") -> "Ratios":
        """This value where ``mask``, else ``other``'s."""
        return Ratios(np.where(mask, self.num, other.num), np.where(mask, self.den, other.den), np.where(mask, self.missing, other.missing))

    def with_missing(self, mask: np.ndarray) -> "Ratios":
        """Also missing where ``mask``."""
        mask = np.asarray(mask, dtype=bool)
        return Ratios(np.where(mask, 0, self.num), np.where(mask, 1, self.den), self.missing | mask)

    def __add__(self, other: "Ratios") -> "Ratios":
        return Ratios(self.num * other.den + other.num * self.den, self.den * other.den, self.missing | other.missing)

    def __sub__(self, other: "Ratios") -> "Ratios":
        return Ratios(self.num * other.den - other.num * self.den, self.den * other.den, self.missing | other.missing)

    def __mul__(self, other: "Ratios | int") -> "Ratios":
        if isinstance(other, int):
            return Ratios(self.num * other, self.den, self.missing)
        return Ratios(self.num * other.num, self.den * other.den, self.missing | other.missing)

    def __truediv__(self, other: "Ratios | int") -> "Ratios":
        """Exact quotient; missing where the divisor is 0 or missing."""
        if isinstance(other, int):
            other = Ratios.const(Fraction(other), len(self))
        zero = other.num == 0
        sign = np.where(other.num < 0, -1, 1).astype(object)
        return Ratios(np.where(zero, 0, self.num * other.den * sign), np.where(zero, 1, self.den * other.num * sign),
                      self.missing | other.missing | zero.astype(bool))

    def is_zero(self) -> np.ndarray:
        """Present and equal to 0."""
        return ~self.missing & (self.num == 0).astype(bool)

    def compare(self, other: "Ratios", comparison: str) -> np.ndarray:
        """``self <comparison> other`` exactly (False where either is missing)."""
        left, right = self.num * other.den, other.num * self.den
        ops = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less}
        if comparison not in ops:
            raise ValueError(f"unknown comparison {comparison!r}; use one of {', '.join(ops)}")
        return ops[comparison](left, right).astype(bool) & ~self.missing & ~other.missing

    def clip0(self) -> "Ratios":
        """max(0, value)."""
        return Ratios(np.where(self.num < 0, 0, self.num), self.den, self.missing)

    def floats(self) -> np.ndarray:
        """Each value correctly rounded to float (NaN where missing)."""
        out = np.full(len(self.num), np.nan)
        present = ~self.missing
        if present.any():
            out[present] = (self.num[present] / self.den[present]).astype(float)
        return out
