"""District balance: each indicator's district value and 差异系数 per stage.

All districts, stages and indicators at once: grouped sums (``np.bincount``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from balance_metrics.common.grouped import dense_codes, first_rows
from balance_metrics.engine.cv import grouped_pupil_weighted_cv
from balance_metrics.engine.indicators import section_value
from balance_metrics.engine.verdicts import float_at_most
from balance_metrics.standard.loader import Standard

BALANCE_COLUMNS = [
    "stage", "indicator", "name", "sections", "students", "district_value", "cv", "limit", "passed",
    "sections_met", "sections_below_floor",
]


def cv_passes(cv: np.ndarray, stages: np.ndarray, standard: Standard) -> np.ndarray:
    """Whether each 差异系数 is within its stage's limit (after the standard's rounding), exactly."""
    code = pd.Index(list(standard.stages), dtype=object).get_indexer(np.asarray(stages, dtype=object))
    return _within(cv, np.where(code < 0, len(standard.stages), code), standard)


def _within(cv: np.ndarray, stage_code: np.ndarray, standard: Standard) -> np.ndarray:
    """:func:`cv_passes` with each CV's stage as a position in ``standard.stages``."""
    digits = standard.compare_decimals
    bound = np.array([float_at_most(standard.cv_limit(s), digits) for s in standard.stages] + [np.nan])[stage_code]
    return np.asarray(cv <= bound) & ~np.isnan(cv)


def _grouped(group: np.ndarray, n: int, values: np.ndarray, numerators: np.ndarray, students: np.ndarray,
             met: np.ndarray, below: np.ndarray, scale: np.ndarray, stage_code: np.ndarray, standard: Standard,
             counts: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The numeric balance columns of ``n`` groups from per-row arrays (``scale``,
    ``stage_code`` — position in ``standard.stages`` — one per group; ``counts``:
    each group's rows and Σ students when already known)."""
    sections, student_sum = counts if counts is not None else (np.bincount(group, minlength=n), np.bincount(group, weights=students, minlength=n))
    cv, _ = grouped_pupil_weighted_cv(values, students, group, n, total=student_sum)
    limits = np.array([float(standard.cv_limit(s)) for s in standard.stages] + [np.nan])
    return {
        "sections": sections,
        "students": student_sum.astype(int),
        "district_value": section_value(np.bincount(group, weights=numerators, minlength=n), scale, student_sum),
        "cv": cv,
        "limit": limits[stage_code],
        "passed": _within(cv, stage_code, standard),
        "sections_met": np.bincount(group, weights=met, minlength=n).astype(int),
        "sections_below_floor": np.bincount(group, weights=below, minlength=n).astype(int),
    }


def district_balance(judged: pd.DataFrame, standard: Standard) -> pd.DataFrame:
    """One row per [district ×] stage × indicator.

    Parameters
    ----------
    judged : DataFrame
        Judged indicator rows (see :func:`balance_metrics.engine.verdicts.judge_sections`).

    Returns
    -------
    DataFrame
        [district_id,] stage, indicator, name, sections, students,
        district_value (ratio of totals: Σ numerator × scale ÷ Σ students),
        cv (pupil-weighted), limit, passed, sections_met, sections_below_floor.
        Districts in id order, then stages and indicators in the standard's order.
    """
    keys = ["district_id"] if "district_id" in judged.columns else []
    stage_rank = {s: i for i, s in enumerate(standard.stages)}
    ind_rank = {s: i for i, s in enumerate(standard.indicator_ids)}
    known = judged["stage"].isin(list(stage_rank)) & judged["indicator"].isin(list(ind_rank))
    rows = judged[known.to_numpy()]
    if rows.empty:
        return pd.DataFrame(columns=[*keys, *BALANCE_COLUMNS])
    if {"stage_code", "indicator_code", "district_code"} <= set(rows.columns):
        stage_code, ind_code, district_code = (rows[c].to_numpy() for c in ("stage_code", "indicator_code", "district_code"))
    else:
        stage_code = pd.Categorical(rows["stage"], categories=list(stage_rank)).codes
        ind_code = pd.Categorical(rows["indicator"], categories=list(ind_rank)).codes
        district_code = pd.factorize(rows["district_id"], sort=True)[0] if keys else np.zeros(len(rows), dtype=np.int64)
    raw = (district_code.astype(np.int64) * len(stage_rank) + stage_code) * len(ind_rank) + ind_code
    _, group = dense_codes(raw)
    n = int(group.max()) + 1
    first = first_rows(group, n)
    out = rows.iloc[first][[*keys, "stage", "indicator", "name"]].reset_index(drop=True)
    scale = out["indicator"].map({i: float(standard.indicators[i].scale) for i in ind_rank}).to_numpy(float)
    stage_of = np.asarray(stage_code, dtype=np.int64)[first]
    numbers = _grouped(group, n, rows["value"].to_numpy(float), rows["numerator"].to_numpy(float), rows["students"].to_numpy(float),
                       rows["met"].to_numpy(float), (~rows["above_floor"].to_numpy(bool)).astype(float), scale, stage_of, standard)
    return out.assign(**numbers)[[*keys, *BALANCE_COLUMNS]]


def matrix_balance(values: np.ndarray, numerators: np.ndarray, students: np.ndarray, met: np.ndarray, above_floor: np.ndarray,
                   stage_code: np.ndarray, district_code: np.ndarray, districts: np.ndarray | None, standard: Standard) -> pd.DataFrame:
    """:func:`district_balance` from (indicators × sections) arrays.

    Parameters
    ----------
    values, numerators, met, above_floor : ndarray, shape (k, n)
        Indicators in ``standard.indicator_ids`` order.
    students : ndarray, shape (n,)
    stage_code, district_code : ndarray of int, shape (n,)
        Position in ``standard.stages`` and district rank of each section.
    districts : ndarray or None
        District id of each rank; ``None`` for a single district (no district_id column).
    """
    ids = standard.indicator_ids
    stages = standard.stages
    k = len(ids)
    keys = [] if districts is None else ["district_id"]
    if values.size == 0:  # no sections (or no indicators)
        return pd.DataFrame(columns=[*keys, *BALANCE_COLUMNS])
    used, group = dense_codes(np.asarray(district_code, dtype=np.int64) * len(stages) + stage_code)
    n = len(used)
    stage_of = used % len(stages)
    stage_text = np.array(stages, dtype=object)[stage_of]
    weights = np.asarray(students, dtype=float)
    # One indicator at a time over the sections (a loop over the k indicators, not over rows);
    # rows come out group by group, indicators inside, as in the long table.
    counts = (np.bincount(group, minlength=n), np.bincount(group, weights=weights, minlength=n))
    parts = [_grouped(group, n, values[j], numerators[j], weights, met[j], ~above_floor[j],
                      np.full(n, float(standard.indicators[ind].scale)), stage_of, standard, counts)
             for j, ind in enumerate(ids)]
    numbers = {name: np.stack([p[name] for p in parts], axis=1).ravel() for name in parts[0]}
    indicator_of = np.tile(np.arange(k), n)
    columns = {}
    if districts is not None:
        columns["district_id"] = pd.array(np.asarray(districts, dtype=object)[np.repeat(used // len(stages), k)], dtype="str")
    columns |= {
        "stage": pd.array(np.repeat(stage_text, k), dtype="str"),
        "indicator": pd.array(np.array(ids, dtype=object)[indicator_of], dtype="str"),
        "name": pd.array(np.array([standard.indicators[i].name for i in ids], dtype=object)[indicator_of], dtype="str"),
    }
    return pd.DataFrame(columns | numbers, copy=False)[[*keys, *BALANCE_COLUMNS]]
