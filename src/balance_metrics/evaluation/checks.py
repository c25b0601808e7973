"""Status vocabulary and the check rows that every evaluation rule returns.

A *check* is one comparison of a measured value with a requirement, for the
district, one school or one school section. Items (G1–G15, Q1–Q9, …) are
judged by combining their checks; the 问题清单 is built from the failing ones.
Comparisons are exact (:class:`fractions.Fraction`) so that a value exactly on
its limit is judged as the standard says.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction

import numpy as np
import pandas as pd

from balance_metrics.common.labels import ITEM_STATUS_LABELS
from balance_metrics.evaluation.ratios import Ratios
from balance_metrics.evaluation.wording import MONEY_UNITS as _MONEY_UNITS, WHOLE_UNITS as _WHOLE_UNITS, fmt_values, unit_decimals

PASS = "pass"
FAIL = "fail"
MISSING = "evidence missing"
NOT_APPLICABLE = "not applicable"
DATA_MISSING = "data missing"  # plan targets only

#: Chinese labels of the status codes (their one home: :mod:`balance_metrics.common.labels`).
STATUS_LABELS: dict[str, str] = ITEM_STATUS_LABELS

COMPARISONS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "<": operator.lt,
    ">": operator.gt,
}
COMPARISON_LABELS: dict[str, str] = {">=": "≥", "<=": "≤", "<": "<", ">": ">"}

CHECK_COLUMNS: list[str] = [
    "district_id", "item_id", "part", "part_name", "school_id", "school_name", "stage", "target",
    "measured", "requirement", "comparison", "unit", "status", "shortfall", "note",
]
#: The check columns holding numbers (float, NaN where missing); the others hold texts.
NUMBER_COLUMNS: tuple[str, ...] = ("measured", "requirement", "shortfall")


def compare(measured: Fraction, requirement: Fraction, comparison: str) -> bool:
    """Whether ``measured <comparison> requirement`` holds (exactly)."""
    try:
        return bool(COMPARISONS[comparison](measured, requirement))
    except KeyError:
        raise ValueError(f"unknown comparison {comparison!r}; use one of {', '.join(COMPARISONS)}") from None


def shortfall(measured: Fraction, requirement: Fraction, comparison: str) -> Fraction:
    """How far ``measured`` is from meeting the requirement (0 when met), in its unit."""
    if comparison in (">=", ">"):
        return max(Fraction(0), requirement - measured)
    return max(Fraction(0), measured - requirement)


def check_row(
    item_id: str,
    part: str,
    part_name: str,
    measured: Fraction | None,
    requirement: Fraction | None,
    comparison: str,
    unit: str,
    *,
    school: Mapping[str, object] | None = None,
    stage: str = "",
    target: str = "",
    note: str = "",
    status: str | None = None,
) -> dict[str, object]:
    """One check: judged here unless ``status`` is given.

    Parameters
    ----------
    measured, requirement : Fraction or None
        In ``unit``. ``measured`` None means the data are missing (status
        "evidence missing").
    school : mapping, optional
        Holds ``school_id`` and ``school_name`` for a school-level check.
    """
    if status is None:
        if measured is None or requirement is None:
            status = MISSING
        else:
            status = PASS if compare(measured, requirement, comparison) else FAIL
    gap = shortfall(measured, requirement, comparison) if measured is not None and requirement is not None else None
    return {
        "district_id": "",
        "item_id": item_id,
        "part": part,
        "part_name": part_name,
        "school_id": "" if school is None else str(school["school_id"]),
        "school_name": "" if school is None else str(school["school_name"]),
        "stage": stage,
        "target": target,
        "measured": _float(measured),
        "requirement": _float(requirement),
        "comparison": comparison,
        "unit": unit,
        "status": status,
        "shortfall": _float(gap) if status == FAIL else 0.0 if status == PASS else math.nan,
        "note": note,
    }


def _float(value: Fraction | None) -> float:
    return math.nan if value is None else float(value)


def checks_frame(rows: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """Check rows as a DataFrame with :data:`CHECK_COLUMNS`."""
    frame = pd.DataFrame(list(rows), columns=CHECK_COLUMNS)
    for column in NUMBER_COLUMNS:
        frame[column] = frame[column].astype(float)
    return frame


def combine(statuses: Iterable[str]) -> str:
    """An item's status from its checks: any fail fails; then missing; all n/a is n/a."""
    found = set(statuses)
    if not found:
        return NOT_APPLICABLE
    if FAIL in found:
        return FAIL
    if MISSING in found or DATA_MISSING in found:
        return MISSING
    if found == {NOT_APPLICABLE}:
        return NOT_APPLICABLE
    return PASS


def fmt(value: float | Fraction | None, unit: str = "", digits: int | None = None) -> str:
    """A number for a Chinese report line, with its unit (``"95%"``, ``"2,400元"``).

    ``digits`` overrides the unit's usual number of decimals (trailing zeros
    are dropped either way).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    number = float(value)
    if unit in _WHOLE_UNITS and number.is_integer():
        text = f"{number:,.0f}" if unit in _MONEY_UNITS else f"{number:.0f}"
    else:
        if digits is None:
            digits = unit_decimals(unit)[0]
        text = f"{number:,.{digits}f}" if unit in _MONEY_UNITS else f"{number:.{digits}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    return f"{_unsigned_zero(text)}{unit}"


def _unsigned_zero(text: str) -> str:
    """``"0"`` for ``"-0"``: a value that rounds to zero is written without a sign."""
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


def requirement_text(comparison: str, requirement: float | Fraction | None, unit: str) -> str:
    """``"≥95%"`` for a check's requirement."""
    return f"{COMPARISON_LABELS.get(comparison, comparison)}{fmt(requirement, unit)}"


# -- whole columns ---------------------------------------------------------------


def fmt_many(values: object, unit: str = "", digits: int | None = None) -> np.ndarray:
    """:func:`fmt` of a whole column of numbers in one unit (object array of str).

    Each distinct value is formatted once, all of them in one ``str.format``
    call (:func:`~balance_metrics.evaluation.wording.fmt_values`).
    """
    return fmt_values(values, unit, digits)


def fmt_by_unit(values: object, units: object, digits: int | None = None) -> np.ndarray:
    """:func:`fmt` of a column whose unit varies by row (one pass per unit)."""
    x = np.asarray(values, dtype=float).reshape(-1)
    units = np.asarray(units, dtype=object).reshape(-1)
    unit_codes, unit_names = pd.factorize(units)
    if len(unit_names) == 1:
        return fmt_many(x, str(unit_names[0]), digits)
    out = np.empty(len(x), dtype=object)
    for k, unit in enumerate(unit_names):  # a loop over the few units
        mask = unit_codes == k
        out[mask] = fmt_many(x[mask], str(unit), digits)
    return out


def requirement_texts(comparisons: object, requirements: object, units: object) -> np.ndarray:
    """:func:`requirement_text` of whole columns."""
    labels = lookup(comparisons, lambda c: COMPARISON_LABELS.get(c, c))
    return labels + fmt_by_unit(requirements, units)


def lookup(values: object, function: Callable[[object], object]) -> np.ndarray:
    """``function`` of each value, computed once per distinct value (object array)."""
    values = np.asarray(values, dtype=object).reshape(-1)
    if not len(values):
        return np.zeros(0, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    out = np.empty(len(uniques), dtype=object)
    out[:] = [function(u) for u in uniques]  # one per distinct value
    return out[codes]


def _column(value: object, n: int) -> np.ndarray:
    if isinstance(value, (np.ndarray, pd.Series, pd.Index, list)):
        out = np.array(value, dtype=object).reshape(-1)  # a copy: the frame does not share the caller's array
        if len(out) != n:
            raise ValueError(f"column of length {len(out)} for {n} checks")
        return out
    return np.full(n, value, dtype=object)


def _positions(value: object, n: int) -> np.ndarray:
    """District positions as int64 when given as integers (no Python int per row), else as :func:`_column`."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        if len(value.reshape(-1)) != n:
            raise ValueError(f"column of length {len(value)} for {n} checks")
        return np.array(value.reshape(-1), dtype=np.int64)  # a copy: the frame does not share the caller's array
    return _column(value, n)


def _text_column(value: object, n: int) -> object:
    """A text column of ``n`` checks: one text for all as a ``str`` array (that text
    taken ``n`` times: no text to check per row), a ``str`` column as it is, any
    other array as given (:func:`_column`)."""
    if isinstance(value, str):
        return repeat_text(value, n)
    if isinstance(value, (pd.Series, pd.api.extensions.ExtensionArray)) and value.dtype == "str":
        if len(value) != n:
            raise ValueError(f"column of length {len(value)} for {n} checks")
        return (value.array if isinstance(value, pd.Series) else value).copy()  # checked texts, copied (not checked again)
    return _column(value, n)


def repeat_text(text: str, n: int) -> object:
    """``n`` copies of ``text`` as a ``str`` array (what a column of texts becomes in a frame)."""
    return coded_texts(np.zeros(n, dtype=np.intp), [text])


def coded_texts(codes: np.ndarray, texts: object) -> object:
    """``texts[codes]`` as a ``str`` array: each of the few texts checked once, then
    taken by position. No codes: an empty object array (as an empty column of texts stays)."""
    codes = np.asarray(codes, dtype=np.intp)
    if not len(codes):
        return np.zeros(0, dtype=object)
    if isinstance(texts, (list, tuple)) and len(texts) <= 8 and all(isinstance(t, str) for t in texts):
        return _few_texts(tuple(texts)).take(codes)
    return pd.array(np.asarray(texts, dtype=object), dtype="str").take(codes)


@functools.lru_cache(maxsize=512)
def _few_texts(texts: tuple[str, ...]) -> object:
    """A few texts as a ``str`` array, made once (only ever taken from, never changed)."""
    return pd.array(np.asarray(texts, dtype=object), dtype="str")


def check_frame(
    item_id: str,
    part: object,
    part_name: object,
    district_id: object,
    measured: Ratios | None,
    requirement: Ratios | Fraction | None,
    comparison: str,
    unit: object,
    *,
    school_id: object = "",
    school_name: object = "",
    stage: object = "",
    target: object = "",
    note: object = "",
    status: object = None,
) -> pd.DataFrame:
    """Many checks at once, judged exactly like :func:`check_row`.

    Parameters
    ----------
    district_id : str or array
        One value per check, or one for all (the length of the frame is that of
        ``measured`` or of the first array given).
    measured, requirement : Ratios, Fraction or None
        Exact values in ``unit``; missing (or None) means "evidence missing".
    status : array of str, optional
        A given status per check (``""`` or None: judge it here).
    """
    lengths = [len(v) for v in (measured, requirement, district_id, school_id, status, note) if isinstance(v, (Ratios, np.ndarray, pd.Series, list))]
    n = lengths[0] if lengths else 1
    measured = Ratios(np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64), np.ones(n, dtype=bool)) if measured is None else measured
    if requirement is None:
        requirement = Ratios(np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64), np.ones(n, dtype=bool))
    elif not isinstance(requirement, Ratios):
        requirement = Ratios.const(requirement, n)
    both = ~measured.missing & ~requirement.missing
    met = measured.compare(requirement, comparison) if both.any() else np.zeros(n, dtype=bool)
    judged = np.where(both, np.where(met, 0, 1), 2).astype(np.int8)  # codes into _JUDGED
    if status is None:
        final = coded_texts(judged, _JUDGED)
        fail, passed = judged == 1, judged == 0
    else:
        given = _column(status, n)
        has_given = ~pd.isna(given)
        has_given[has_given] = given[has_given] != ""
        final = np.where(has_given, given, np.array(_JUDGED, dtype=object)[judged])
        fail, passed = final == FAIL, final == PASS
    gap = (requirement - measured) if comparison in (">=", ">") else (measured - requirement)
    gap_f = gap.clip0().floats()
    shortfall = np.where(fail, np.where(both, gap_f, np.nan), np.where(passed, 0.0, np.nan))
    columns = {
        "district_id": _positions(district_id, n),
        "item_id": _text_column(item_id, n),
        "part": _text_column(part, n),
        "part_name": _text_column(part_name, n),
        "school_id": _text_column(school_id, n),
        "school_name": _text_column(school_name, n),
        "stage": _text_column(stage, n),
        "target": _text_column(target, n),
        "measured": measured.floats(),
        "requirement": requirement.floats(),
        "comparison": _text_column(comparison, n),
        "unit": _text_column(unit, n),
        "status": final,
        "shortfall": shortfall.astype(float),
        "note": _text_column(note, n),
    }
    # every array is new (made or copied here): not copied again; the dict in column
    # order (no ``columns=``: half the fixed cost of a frame of a few checks)
    return pd.DataFrame({c: columns[c] for c in CHECK_COLUMNS}, copy=False)


#: Statuses of a judged check, by code: met, not met, a value missing.
_JUDGED = (PASS, FAIL, MISSING)


def stack_checks(frames: list[pd.DataFrame], order: list[np.ndarray] | None = None) -> pd.DataFrame:
    """Concatenate check frames; with ``order`` (one key array per frame), rows are
    put in ascending key order (stable), e.g. a school's checks kept together."""
    frames_kept = [f for f in frames if len(f)]
    if not frames_kept:
        return checks_frame([])
    frame = pd.concat(frames_kept, ignore_index=True)
    if order is not None:
        keys = np.concatenate([k for f, k in zip(frames, order) if len(f)])
        frame = frame.iloc[np.argsort(keys, kind="stable")].reset_index(drop=True)
    return frame
