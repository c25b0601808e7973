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
    digits = standard.compare_decimals
    limits = {stage: float_at_most(standard.cv_limit(stage), digits) for stage in pd.unique(stages)}
    bound = pd.Series(stages).map(limits).to_numpy(float)
    return np.asarray(cv <= bound) & ~np.isnan(cv)


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
    students = rows["students"].to_numpy(float)
    cv, _ = grouped_pupil_weighted_cv(rows["value"].to_numpy(float), students, group, n)
    first = first_rows(group, n)
    out = rows.iloc[first][[*keys, "stage", "indicator", "name"]].reset_index(drop=True)
    student_sum = np.bincount(group, weights=students, minlength=n)
    scale = out["indicator"].map({i: float(standard.indicators[i].scale) for i in ind_rank}).to_numpy(float)
    out["sections"] = np.bincount(group, minlength=n)
    out["students"] = student_sum.astype(int)
    out["district_value"] = section_value(np.bincount(group, weights=rows["numerator"].to_numpy(float), minlength=n), scale, student_sum)
    out["cv"] = cv
    out["limit"] = out["stage"].map({s: float(standard.cv_limit(s)) for s in stage_rank}).to_numpy(float)
    out["passed"] = cv_passes(cv, out["stage"].to_numpy(object), standard)
    out["sections_met"] = np.bincount(group, weights=rows["met"].to_numpy(bool), minlength=n).astype(int)
    out["sections_below_floor"] = np.bincount(group, weights=~rows["above_floor"].to_numpy(bool), minlength=n).astype(int)
    return out[[*keys, *BALANCE_COLUMNS]]
