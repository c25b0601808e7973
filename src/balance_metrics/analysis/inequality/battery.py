"""The equity battery: every inequality measure per stage × indicator (× district)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from balance_metrics.analysis.inequality.base import ratio, weighted_percentile
from balance_metrics.analysis.inequality.gini import gini
from balance_metrics.analysis.inequality.mcloone import mcloone
from balance_metrics.analysis.inequality.ranges import HIGH, LOW
from balance_metrics.analysis.inequality.theil import theil_decomposition
from balance_metrics.analysis.inequality.verstegen import verstegen
from balance_metrics.engine.cv import pupil_weighted_cv
from balance_metrics.engine.indicators import section_value
from balance_metrics.engine.resources import ResourceEvaluation

EQUITY_COLUMNS = [
    "district_id", "stage", "indicator", "name", "unit", "weighted", "by", "sections", "students", "mean",
    "min_value", "max_value", "range", "p5", "p95", "restricted_range", "federal_range_ratio", "mcloone",
    "verstegen", "gini", "theil_t", "theil_between", "theil_within", "theil_between_share", "cv",
]


def _district_column(rows: pd.DataFrame) -> pd.Series:
    if "district_id" in rows.columns:
        return rows["district_id"].astype(str)
    return pd.Series("", index=rows.index)


def equity(evaluation: ResourceEvaluation, by: str = "area_type", weighted: bool = True) -> pd.DataFrame:
    """Every inequality measure of every indicator, per district and stage.

    Parameters
    ----------
    evaluation : ResourceEvaluation
        From :func:`balance_metrics.evaluate_resources`.
    by : str, default "area_type"
        Column of ``evaluation.sections`` that groups the sections for the
        Theil decomposition (城区/镇区/乡村 by default; any column works).
    weighted : bool, default True
        Pupil-weighted (each section counts as its students, the method's
        view); ``False`` counts every section once.

    Returns
    -------
    DataFrame
        One row per district × stage × indicator: ``mean`` (Σ P·X ÷ Σ P, the
        district value when weighted; unit of the indicator), min_value,
        max_value, range, p5, p95, restricted_range (P95 − P5), federal_range_ratio
        ((P95 − P5) ÷ P5), mcloone, verstegen, gini, theil_t, theil_between,
        theil_within (between + within = theil_t), theil_between_share and cv
        (the 差异系数 formula with the same weights). ``district_id`` is "" when
        the period has a single district.
    """
    rows = evaluation.sections
    if by not in rows.columns:
        raise ValueError(f"cannot group by {by!r}: not a column of the evaluated sections ({', '.join(rows.columns)})")
    rows = rows.assign(district_id=_district_column(rows))
    std = evaluation.standard
    order = {(s, i): k for k, (s, i) in enumerate((s, i) for s in std.stages for i in std.indicator_ids)}
    out = []
    for (district, stage, ind), part in rows.groupby(["district_id", "stage", "indicator"], sort=False):
        x = part["value"].to_numpy(float)
        p = part["students"].to_numpy(float) if weighted else np.ones(len(part))
        p5, p95 = weighted_percentile(x, p, LOW), weighted_percentile(x, p, HIGH)
        theil = theil_decomposition(x, part[by].astype(str).to_numpy(), p)
        out.append(
            {
                "district_id": district,
                "stage": stage,
                "indicator": ind,
                "name": part["name"].iloc[0],
                "unit": part["unit"].iloc[0],
                "weighted": weighted,
                "by": by,
                "sections": len(part),
                "students": int(part["students"].sum()),
                # Weighted: the district value, Σ numerator × scale ÷ Σ students (the engine's formula).
                "mean": float(section_value(part["numerator"].sum(), float(std.indicators[ind].scale), part["students"].sum()))
                if weighted else float(x.mean()),
                "min_value": float(x.min()),
                "max_value": float(x.max()),
                "range": float(x.max() - x.min()),
                "p5": p5,
                "p95": p95,
                "restricted_range": p95 - p5,
                "federal_range_ratio": ratio(p95 - p5, p5),
                "mcloone": mcloone(x, p),
                "verstegen": verstegen(x, p),
                "gini": gini(x, p),
                "theil_t": theil.total,
                "theil_between": theil.between,
                "theil_within": theil.within,
                "theil_between_share": theil.between_share,
                "cv": pupil_weighted_cv(x, p),
                "_order": order.get((stage, ind), len(order)),
            }
        )
    frame = pd.DataFrame(out, columns=[*EQUITY_COLUMNS, "_order"])
    return frame.sort_values(["district_id", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)
