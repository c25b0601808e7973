"""What drives a 差异系数: each section's share of it and the leave-one-out CV.

For one stage × indicator with section values X_i, enrolments P_i, P = Σ P_i
and district value X̄ = Σ P_i X_i / P, the CV² is Σ P_i (X_i − X̄)² / (P X̄²)
(STANDARD.md §3). Section i's share of it is

    share_i = P_i (X_i − X̄)² / Σ_j P_j (X_j − X̄)²

(the shares add up to 1). The leave-one-out CV is the CV of the other
sections; ``loo_cv < limit ≤ cv`` marks a section that alone makes a CV fail.
All sections are computed at once from running sums (no loop per section).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from balance_metrics.engine.resources import ResourceEvaluation

DIAGNOSTIC_COLUMNS = [
    "stage", "indicator", "name", "school_id", "school_name", "area_type", "students", "value", "district_value",
    "deviation", "share_of_cv2", "loo_cv", "cv", "limit", "cv_passed", "passes_without", "rank",
]


def _loo_cv(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """CV of every subset that leaves one section out (``nan`` when nothing is left)."""
    total = p.sum()
    mean = np.dot(p, x) / total
    d = x - mean  # centred for numerical stability
    s1, s2 = np.dot(p, d), np.dot(p, d * d)
    rest = total - p
    with np.errstate(divide="ignore", invalid="ignore"):
        rest_mean_d = (s1 - p * d) / rest
        rest_var = (s2 - p * d * d) / rest - rest_mean_d**2
        loo = np.sqrt(np.clip(rest_var, 0, None)) / np.abs(rest_mean_d + mean)
    return np.where(rest > 0, loo, np.nan)


def cv_contributions(evaluation: ResourceEvaluation) -> pd.DataFrame:
    """Every section's part in every CV of its stage.

    Returns
    -------
    DataFrame
        One row per section × indicator: stage, indicator, name, school_id,
        school_name, area_type, students, value (unit of the indicator),
        district_value, deviation (value − district value), share_of_cv2
        (share of the CV², 0–1, summing to 1 per stage × indicator), loo_cv
        (CV without the section), cv, limit, cv_passed, passes_without
        (loo_cv ≤ limit) and rank (1 = largest share within the stage ×
        indicator).
    """
    rows = evaluation.sections
    names = [k for k in ("district_id", "stage", "indicator") if k in rows.columns and k in evaluation.balance.columns]
    balance = evaluation.balance.set_index(names)
    keys = [rows[k] for k in names]
    x = rows["value"].to_numpy(float)
    p = rows["students"].to_numpy(float)
    grouped = rows.assign(px=p * x).groupby(keys, sort=False)
    mean = (grouped["px"].transform("sum") / grouped["students"].transform("sum")).to_numpy(float)
    dev = x - mean
    contrib = p * dev * dev
    total = pd.Series(contrib, index=rows.index).groupby(keys, sort=False).transform("sum").to_numpy(float)
    loo = np.full(len(rows), np.nan)
    for _, idx in rows.groupby(keys, sort=False).indices.items():
        loo[idx] = _loo_cv(x[idx], p[idx])
    joined = balance.reindex(pd.MultiIndex.from_arrays(keys) if len(keys) > 1 else keys[0])
    out = rows[[*names[:-2], "stage", "indicator", "name", "school_id", "school_name", "area_type", "students", "value"]].copy()
    out["district_value"] = mean
    out["deviation"] = dev
    out["share_of_cv2"] = np.divide(contrib, total, out=np.zeros_like(contrib), where=total > 0)
    out["loo_cv"] = loo
    out["cv"] = joined["cv"].to_numpy(float)
    out["limit"] = joined["limit"].to_numpy(float)
    out["cv_passed"] = joined["passed"].to_numpy(bool)
    out["passes_without"] = out["loo_cv"] <= out["limit"]
    out["rank"] = out.groupby(names, sort=False)["share_of_cv2"].rank(ascending=False, method="first").astype(int)
    return out[[*names[:-2], *DIAGNOSTIC_COLUMNS]].reset_index(drop=True)


def cv_drivers(evaluation: ResourceEvaluation, top: int | None = 10, failing_only: bool = True) -> pd.DataFrame:
    """The sections that drive each (failing) CV, largest share first.

    Parameters
    ----------
    evaluation : ResourceEvaluation
    top : int or None, default 10
        Sections kept per stage × indicator; ``None`` keeps all.
    failing_only : bool, default True
        Only the stage × indicators whose CV is over its limit.

    Returns
    -------
    DataFrame
        Rows of :func:`cv_contributions`, sorted by stage, indicator and rank.
    """
    rows = cv_contributions(evaluation)
    if failing_only:
        rows = rows[~rows["cv_passed"]]
    if top is not None:
        rows = rows[rows["rank"] <= top]
    order = {s: i for i, s in enumerate(evaluation.standard.stages)}
    first = ["district_id"] if "district_id" in rows.columns else []
    rows = rows.assign(_s=rows["stage"].map(order)).sort_values([*first, "_s", "indicator", "rank"], kind="stable")
    return rows.drop(columns="_s").reset_index(drop=True)
