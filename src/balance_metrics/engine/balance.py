"""District balance: each indicator's district value and 差异系数 per stage."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from balance_metrics.engine.verdicts import round_half_up
from balance_metrics.engine.cv import pupil_weighted_cv
from balance_metrics.standard.loader import Standard, exact


def district_balance(judged: pd.DataFrame, standard: Standard) -> pd.DataFrame:
    """One row per stage × indicator.

    Parameters
    ----------
    judged : DataFrame
        Judged indicator rows (see :func:`balance_metrics.compliance.judge_sections`).

    Returns
    -------
    DataFrame
        stage, indicator, name, sections, students, district_value (ratio of
        totals: Σ numerator × scale ÷ Σ students), cv (pupil-weighted), limit,
        passed, sections_met, sections_below_floor.
    """
    rows = []
    for stage in standard.stages:
        for ind in standard.indicator_ids:
            part = judged[(judged["stage"] == stage) & (judged["indicator"] == ind)]
            if part.empty:
                continue
            students = part["students"].astype(float)
            scale = float(exact(standard.indicator(ind)["scale"]))
            cv = pupil_weighted_cv(part["value"].to_numpy(float), students.to_numpy())
            limit = standard.cv_limit(stage)
            compared = round_half_up(Fraction(cv), standard.compare_decimals) if cv == cv else None
            rows.append(
                {
                    "stage": stage,
                    "indicator": ind,
                    "name": part["name"].iloc[0],
                    "sections": len(part),
                    "students": int(students.sum()),
                    "district_value": part["numerator"].sum() * scale / students.sum(),
                    "cv": cv,
                    "limit": float(limit),
                    "passed": compared is not None and compared <= limit,
                    "sections_met": int(part["met"].sum()),
                    "sections_below_floor": int((~part["above_floor"]).sum()),
                }
            )
    return pd.DataFrame(rows)
