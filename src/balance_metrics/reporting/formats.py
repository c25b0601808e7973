"""Numbers and the report language: half-up rounding to fixed decimals, exact policy
numbers, whole numbers, money, percentages. Re-exported by :mod:`.presentation`.

Examples
--------
>>> format_number(0.5255, 3), format_exact(0.765), format_percent(0.853)
('0.526', '0.765', '85.3%')
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pandas as pd

#: Report languages implemented. Reports are written in Simplified Chinese.
LANGUAGES: tuple[str, ...] = ("zh-CN",)

_DASH = "—"


def check_lang(lang: str) -> str:
    """Validate a report language.

    Parameters
    ----------
    lang : str
        Language tag of the report.

    Returns
    -------
    str
        The tag, normalised (``"zh"`` and ``"zh-Hans"`` mean ``"zh-CN"``).

    Raises
    ------
    ValueError
        If the language is not implemented.
    """
    normalised = {"zh": "zh-CN", "zh-hans": "zh-CN", "zh-cn": "zh-CN", "zh_cn": "zh-CN"}.get(str(lang).lower())
    if normalised not in LANGUAGES:
        raise ValueError(f"lang={lang!r} is not supported: reports are written in {', '.join(LANGUAGES)} (简体中文)")
    return normalised


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_number(value: Any, decimals: int) -> str:
    """A number rounded half-up to ``decimals`` places.

    Parameters
    ----------
    value : number
        Float, int, Fraction or Decimal. Missing values give "—".
    decimals : int
        Decimal places (the standard's ``display_decimals``).

    Returns
    -------
    str
        E.g. ``format_number(0.5255, 3) == "0.526"``. Floats are rounded from
        their shortest decimal form, so 2.675 gives "2.68" (Python's
        ``round`` gives 2.67 because of the binary representation).
    """
    if _missing(value):
        return _DASH
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        from fractions import Fraction

        if isinstance(value, Fraction):
            number = Decimal(value.numerator) / Decimal(value.denominator)
        else:
            try:
                number = Decimal(repr(float(value)))
            except (TypeError, ValueError):
                return str(value)
    quantum = Decimal(1).scaleb(-decimals)
    rounded = number.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # never print "-0.000"
    return f"{rounded:f}"


def format_exact(value: Any) -> str:
    """A number as written in a standard file: shortest form, no trailing zeros.

    Thresholds and floors are exact policy numbers (4.2, 0.765, 2000); padding
    them to the display decimals would suggest a precision they do not have.
    """
    if _missing(value):
        return _DASH
    number = Decimal(repr(float(value))).normalize()
    return f"{number:f}"


def format_int(value: Any) -> str:
    """A count as an integer ("—" when missing)."""
    if _missing(value):
        return _DASH
    return str(int(round(float(value))))


def format_money(value: Any) -> str:
    """An amount in 元, whole, with thousands separators ("1,640,100")."""
    if _missing(value):
        return _DASH
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    return f"{Decimal(repr(float(value))).quantize(Decimal(1), rounding=ROUND_HALF_UP):,f}"


def format_percent(value: Any, decimals: int = 1) -> str:
    """A share (0.853) as a percentage ("85.3%")."""
    if _missing(value):
        return _DASH
    return format_number(float(value) * 100, decimals) + "%"
