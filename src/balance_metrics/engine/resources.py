"""Resource-allocation evaluation: :func:`evaluate_resources`."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from balance_metrics.engine.balance import district_balance
from balance_metrics.engine.verdicts import judge_sections
from balance_metrics.contract.dataset import Dataset
from balance_metrics.engine.indicators import compute_indicators
from balance_metrics.engine.sections import build_sections
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, load_standard

SECTION_COLUMNS = [
    "school_id", "school_name", "school_type", "area_type", "ownership", "stage", "students",
    "share", "campuses", "indicator", "name", "unit", "numerator", "value", "threshold", "floor",
    "met", "above_floor", "ratio", "shortfall",
]


@dataclass(frozen=True)
class ResourceEvaluation:
    """Result of :func:`evaluate_resources`.

    Attributes
    ----------
    sections : DataFrame
        One row per section × indicator (R1..R7): numerator, students, value,
        threshold, floor, met, above_floor, ratio (value ÷ threshold), shortfall.
    verdicts : DataFrame
        One row per section: indicators_met, indicators_below_floor,
        failed_indicators, passed.
    balance : DataFrame
        One row per stage × indicator: district_value, cv, limit, passed.
    excluded : DataFrame
        Schools and stages left out of the computation, with the reason.
    standard : Standard
    period : str
    """

    sections: pd.DataFrame
    verdicts: pd.DataFrame
    balance: pd.DataFrame
    excluded: pd.DataFrame
    standard: Standard
    period: str

    @property
    def passed(self) -> bool:
        """Every section passes and every CV is within its limit."""
        return bool(self.verdicts["passed"].all() and self.balance["passed"].all())

    def summary(self) -> pd.DataFrame:
        """Per stage: sections, sections passing, CVs passing."""
        rows = []
        for stage in self.standard.stages:
            v = self.verdicts[self.verdicts["stage"] == stage]
            b = self.balance[self.balance["stage"] == stage]
            rows.append(
                {
                    "stage": stage,
                    "sections": len(v),
                    "sections_passed": int(v["passed"].sum()),
                    "indicators": len(b),
                    "cv_passed": int(b["passed"].sum()),
                    "max_cv": float(b["cv"].max()) if len(b) else float("nan"),
                }
            )
        return pd.DataFrame(rows)


def evaluate_resources(dataset: Dataset, standard: str | Standard = DEFAULT_STANDARD) -> ResourceEvaluation:
    """Evaluate the seven resource indicators of a period.

    Parameters
    ----------
    dataset : Dataset
        From :func:`balance_metrics.load_period`.
    standard : str, Path or Standard, default "national-2017"
        A built-in standard name or a TOML override file.

    Returns
    -------
    ResourceEvaluation
    """
    std = load_standard(standard)
    sections = build_sections(dataset, std)
    indicators = compute_indicators(sections, std)
    judged, verdicts = judge_sections(indicators, std)
    balance = district_balance(judged, std)
    return ResourceEvaluation(
        sections=judged[SECTION_COLUMNS],
        verdicts=verdicts,
        balance=balance,
        excluded=sections.excluded,
        standard=std,
        period=dataset.period,
    )
