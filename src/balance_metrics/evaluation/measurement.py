"""What a plan-target measure returns for every district at once: :class:`Measurement`,
and the whole-column helpers the measures share (exact sums per district, the
check rows of school-level measures, the per-district notes)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import join_by_group
from balance_metrics.engine.schoolview import in_scope
from balance_metrics.evaluation.checks import CHECK_COLUMNS, checks_frame
from balance_metrics.evaluation.context import Context
from balance_metrics.evaluation.ratios import Ratios

#: The check columns of a measure's details plus each row's district position.
DETAIL_COLUMNS = ["_district", *CHECK_COLUMNS]


@dataclass(frozen=True)
class Measurement:
    """A target's value this period in every district, and the checks behind it.

    Attributes
    ----------
    value : Ratios
        One exact value per district (position 0 … n − 1 of ``ctx.ids``);
        missing where the district has no value ("data missing").
    details : DataFrame
        The per-school (or per-year) checks, :data:`DETAIL_COLUMNS`:
        ``_district`` is the row's district position; within a district the rows
        are in the order the measure checks them.
    note : ndarray of str
        One note per district ("" for none).
    incomplete : ndarray of bool
        Per district: some schools lacked the data, the value covers only the others.
    met : ndarray of bool, optional
        Whether the value meets the target, when the measure judges it itself
        (e.g. a minimum, judged exactly on all the values it is the minimum of).
    """

    value: Ratios
    details: pd.DataFrame
    note: np.ndarray
    incomplete: np.ndarray
    met: np.ndarray | None = None


def scope(ctx: Context, spec: Mapping[str, Any]) -> pd.DataFrame:
    """The schools of every district evaluated that a target applies to (``school_types``,
    ``area_types``, ``ownerships``; ``_district`` their position), found once per scope."""
    key = ("plan.scope", *(tuple(spec.get(k, ())) if k in spec else None for k in ("school_types", "area_types", "ownerships")))

    def find() -> pd.DataFrame:
        schools = in_scope(ctx.schools, dict(spec))
        return schools[schools["_district"].to_numpy() >= 0]

    return ctx.once(key, find)


def no_details() -> pd.DataFrame:
    """An empty details frame (one shared frame: details are only read)."""
    if not _EMPTY:
        _EMPTY.append(checks_frame([]).assign(_district=np.zeros(0, dtype=np.int64))[DETAIL_COLUMNS])
    return _EMPTY[0]


_EMPTY: list[pd.DataFrame] = []


def missing(n: int) -> Ratios:
    """``n`` missing values."""
    return Ratios(np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64), np.ones(n, dtype=bool))


def texts(n: int, text: str = "") -> np.ndarray:
    """``n`` copies of ``text`` (object array)."""
    return np.full(n, text, dtype=object)


def sum_by_district(values: Ratios, where: np.ndarray, n: int) -> Ratios:
    """Exact sum of ``values`` per district position (missing where a district has no present value).

    Every value is brought to the common denominator of the column (the least
    common multiple of its few distinct denominators) and the numerators are
    added as Python integers, so the sums are exact whatever their size.
    """
    where = np.asarray(where, dtype=np.int64)
    present = ~values.missing
    num, den, where = values.num[present], values.den[present], where[present]
    has = np.bincount(where, minlength=n)[:n] > 0
    if not len(num):
        return missing(n)
    common = reduce(math.lcm, (int(d) for d in np.unique(den.astype(object))), 1)  # a few distinct denominators
    scaled = num.astype(object) * (common // den.astype(object))
    total = np.zeros(n, dtype=object)
    total[:] = 0
    np.add.at(total, where, scaled)
    den_out = np.full(n, common, dtype=object)
    return Ratios(np.where(has, total, 0).astype(object), np.where(has, den_out, 1).astype(object), ~has)


def count_by_district(mask: np.ndarray, where: np.ndarray, n: int) -> np.ndarray:
    """How many rows of each district position have ``mask`` set."""
    return np.bincount(np.asarray(where, dtype=np.int64)[np.asarray(mask, dtype=bool)], minlength=n)[:n]


def lacking_note(lacking: np.ndarray, names: np.ndarray, where: np.ndarray, n: int) -> np.ndarray:
    """``"{k}所学校缺少数据：A、B"`` per district with schools lacking data, else ""."""
    lacking = np.asarray(lacking, dtype=bool)
    counts = count_by_district(lacking, where, n)
    joined = join_by_group(np.asarray(where)[lacking], np.asarray(names, dtype=object)[lacking], n, sep="、")
    return np.where(counts > 0, counts.astype(str).astype(object) + "所学校缺少数据：" + joined, "").astype(object)


def join_notes(*parts: np.ndarray, sep: str = "；") -> np.ndarray:
    """Element-wise ``sep.join`` of the non-empty texts."""
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        part = np.asarray(part, dtype=object)
        out = np.where(out == "", part, np.where(part == "", out, out + sep + part))
    return np.asarray(out, dtype=object)


def detail_frame(where: np.ndarray, columns: dict[str, object]) -> pd.DataFrame:
    """Check rows (``columns`` by :data:`~balance_metrics.evaluation.checks.CHECK_COLUMNS` name,
    arrays or one value for all) with their district positions ``where``."""
    where = np.asarray(where, dtype=np.int64)
    frame = pd.DataFrame({"_district": where, "district_id": "", **columns}, index=range(len(where)))
    for column in ("measured", "requirement", "shortfall"):
        frame[column] = frame[column].astype(float)
    return frame[DETAIL_COLUMNS]


def fraction_of(value: Ratios, position: int) -> Fraction | None:
    """One district's value as a Fraction (None when missing), e.g. for tests."""
    if value.missing[position]:
        return None
    return Fraction(int(value.num[position]), int(value.den[position]))
