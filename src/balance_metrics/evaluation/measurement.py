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
from balance_metrics.evaluation.checks import CHECK_COLUMNS, NUMBER_COLUMNS
from balance_metrics.evaluation.context import Context, district_key
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
    details : dict of str to ndarray
        The per-school (or per-year) checks, one array per column of
        :data:`DETAIL_COLUMNS` (:func:`detail_columns`): ``_district`` is the
        row's district position; within a district the rows are in the order
        the measure checks them. Kept as arrays: the plan's checks become one
        frame at the end (:func:`details_frame`), not one per target.
    note : ndarray of str
        One note per district ("" for none).
    incomplete : ndarray of bool
        Per district: some schools lacked the data, the value covers only the others.
    met : ndarray of bool, optional
        Whether the value meets the target, when the measure judges it itself
        (e.g. a minimum, judged exactly on all the values it is the minimum of).
    """

    value: Ratios
    details: dict[str, np.ndarray]
    note: np.ndarray
    incomplete: np.ndarray
    met: np.ndarray | None = None


def scope(ctx: Context, spec: Mapping[str, Any]) -> pd.DataFrame:
    """The schools of every district evaluated that a target applies to (``school_types``,
    ``area_types``, ``ownerships``; ``_district`` their position), found once per scope."""
    key = ("plan.scope", *scope_key(spec))

    def find() -> pd.DataFrame:
        schools = in_scope(ctx.schools, dict(spec))
        return schools[schools["_district"].to_numpy() >= 0]

    return ctx.once(key, find)


def scope_key(spec: Mapping[str, Any]) -> tuple:
    """What decides a target's schools (the same key: the same schools)."""
    return tuple(tuple(spec.get(k, ())) if k in spec else None for k in ("school_types", "area_types", "ownerships"))


def scope_column(ctx: Context, spec: Mapping[str, Any], column: str, dtype: object = None) -> np.ndarray:
    """One column of :func:`scope` as an array (``dtype``), converted once per context."""
    key = ("plan.scope_column", *scope_key(spec), column, str(dtype))
    return ctx.once(key, lambda: scope(ctx, spec)[column].to_numpy(dtype))


def section_districts(ctx: Context) -> np.ndarray:
    """District position of every evaluated school section (row of ``ctx.resources.sections``), found once."""
    return ctx.once("plan.section_districts", lambda: ctx.position(district_key(ctx.resources.sections)))


def rows_of(frame: pd.DataFrame, column: str, rows: np.ndarray, dtype: object = None) -> np.ndarray:
    """``frame[column]`` at the positions ``rows``, as an array (only those rows converted)."""
    return np.asarray(frame[column].array.take(rows), dtype=dtype)


def no_details() -> dict[str, np.ndarray]:
    """No checks (:func:`detail_columns` of none)."""
    return detail_columns(np.zeros(0, dtype=np.int64), {})


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


def detail_columns(where: np.ndarray, columns: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Check rows as :data:`DETAIL_COLUMNS` arrays: ``columns`` by
    :data:`~balance_metrics.evaluation.checks.CHECK_COLUMNS` name (arrays, or one value for
    all; texts missing from ``columns`` are "", numbers NaN), ``where`` their district positions."""
    where = np.asarray(where, dtype=np.int64)
    n = len(where)
    out = {"_district": where}
    for name in CHECK_COLUMNS:  # a loop over the check columns
        value = columns.get(name, np.nan if name in NUMBER_COLUMNS else "")
        dtype = float if name in NUMBER_COLUMNS else object
        if isinstance(value, (np.ndarray, pd.Series, pd.api.extensions.ExtensionArray, list)):
            out[name] = np.asarray(value, dtype=dtype).reshape(-1)
        else:
            out[name] = np.full(n, value, dtype=dtype)
    return out


def frame_details(checks: pd.DataFrame) -> dict[str, np.ndarray]:
    """A :func:`~balance_metrics.evaluation.checks.check_frame` whose ``district_id`` holds
    district positions, as :func:`detail_columns`."""
    return detail_columns(checks["district_id"].to_numpy(np.int64),
                          {c: checks[c].to_numpy(float if c in NUMBER_COLUMNS else object) for c in CHECK_COLUMNS if c != "district_id"})


def take_rows(columns: Mapping[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """Each column's values at ``rows`` (positions or a mask), e.g. some of the checks."""
    return {c: v[rows] for c, v in columns.items()}


def details_frame(parts: list[Mapping[str, np.ndarray]], ids: np.ndarray) -> pd.DataFrame:
    """All the targets' checks as one frame, district by district (stable: within a district
    the targets in order), ``district_id`` the district's id (texts kept as objects)."""
    where = np.concatenate([p["_district"] for p in parts])
    order = np.argsort(where, kind="stable")
    texts = [c for c in CHECK_COLUMNS[1:] if c not in NUMBER_COLUMNS]
    # The texts as one object block (kept as objects, as the concatenated frames gave them), then
    # the numbers and the district ids (text dtype inferred, as assigning them gave it) put in place.
    frame = pd.DataFrame(np.stack([np.concatenate([p[c] for p in parts]) for c in texts], axis=1)[order], columns=texts, dtype=object)
    for name in NUMBER_COLUMNS:  # a loop over the three number columns
        frame.insert(CHECK_COLUMNS.index(name) - 1, name, np.concatenate([p[name] for p in parts])[order])
    frame.insert(0, "district_id", np.asarray(ids, dtype=object)[where[order]])
    return frame


def fraction_of(value: Ratios, position: int) -> Fraction | None:
    """One district's value as a Fraction (None when missing), e.g. for tests."""
    if value.missing[position]:
        return None
    return Fraction(int(value.num[position]), int(value.den[position]))
