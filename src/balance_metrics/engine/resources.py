"""Resource-allocation evaluation: :func:`evaluate_resources`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from balance_metrics.common.results import Result, verdict_word
from balance_metrics.engine.balance import district_balance
from balance_metrics.engine.verdicts import judge_sections
from balance_metrics.contract.dataset import Dataset
from balance_metrics.engine.indicators import compute_indicators, exact_numerators, section_value
from balance_metrics.engine.sections import DISTRICT_KEYS, Sections, build_sections
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, exact, load_standard

SECTION_COLUMNS = [
    "school_id", "school_name", "school_type", "area_type", "ownership", "stage", "students",
    "share", "campuses", "indicator", "name", "unit", "numerator", "value", "threshold", "floor",
    "met", "above_floor", "ratio", "shortfall",
]


@dataclass(frozen=True, repr=False)
class ResourceEvaluation(Result):
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
    basis : Sections, optional
        The evaluated sections behind ``sections`` (row ``i`` of ``sections``
        is section ``i // 7`` of it); lets :meth:`exact_numerators` give the
        exact numbers.
    """

    sections: pd.DataFrame
    verdicts: pd.DataFrame
    balance: pd.DataFrame
    excluded: pd.DataFrame
    standard: Standard
    period: str
    basis: Sections | None = field(default=None, repr=False, compare=False)

    def select(self, district_id: str) -> "ResourceEvaluation":
        """The evaluation of one district of a multi-district period (the same
        numbers as evaluating that district alone)."""
        if "district_id" not in self.sections.columns:
            raise ValueError("this evaluation holds one district (no district_id)")

        def rows(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["district_id"] == district_id].reset_index(drop=True) if len(frame) else frame

        basis = None
        if self.basis is not None:
            basis = Sections(rows(self.basis.sections), rows(self.basis.excluded))
        return ResourceEvaluation(rows(self.sections), rows(self.verdicts), rows(self.balance), rows(self.excluded),
                                  self.standard, self.period, basis)

    def exact_numerators(self, rows: Sequence[int] | np.ndarray | None = None) -> list[Fraction]:
        """Exact numerators of ``sections`` rows (positions; default all).

        From the input amounts (shortest decimal form) and exact shares; without
        :attr:`basis`, from the float numerators' shortest decimal form.
        """
        positions = np.arange(len(self.sections)) if rows is None else np.asarray(rows, dtype=int)
        indicators = self.sections["indicator"].to_numpy(object)[positions]
        if self.basis is None:
            return [exact(float(v)) for v in self.sections["numerator"].to_numpy(float)[positions]]
        per_section = len(self.standard.indicator_ids)
        return exact_numerators(self.basis, self.standard, positions // per_section, indicators)

    def exact_values(self, rows: Sequence[int] | np.ndarray | None = None) -> list[Fraction]:
        """Exact indicator values of ``sections`` rows (positions; default all)."""
        positions = np.arange(len(self.sections)) if rows is None else np.asarray(rows, dtype=int)
        numerators = self.exact_numerators(positions)
        students = self.sections["students"].to_numpy()[positions]
        scales = {i: self.standard.indicators[i].scale for i in self.standard.indicator_ids}
        indicators = self.sections["indicator"].to_numpy(object)[positions]
        return [section_value(n, scales[i], int(s)) for n, i, s in zip(numerators, indicators, students)]

    def exact_shares(self, rows: Sequence[int] | np.ndarray | None = None) -> list[Fraction]:
        """Exact facility shares of ``sections`` rows (positions; default all)."""
        positions = np.arange(len(self.sections)) if rows is None else np.asarray(rows, dtype=int)
        if self.basis is None:
            return [exact(float(v)) for v in self.sections["share"].to_numpy(float)[positions]]
        return self.basis.exact_shares(positions // len(self.standard.indicator_ids))

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

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result table by name: summary, sections, verdicts, balance, excluded."""
        return {
            "summary": self.summary(),
            "sections": self.sections,
            "verdicts": self.verdicts,
            "balance": self.balance,
            "excluded": self.excluded,
        }

    def cv_table(self) -> pd.DataFrame:
        """CVs as stage × indicator, with each stage's limit (a compact view)."""
        wide = self.balance.pivot(index="stage", columns="indicator", values="cv")
        wide = wide.reindex(index=[s for s in self.standard.stages if s in wide.index],
                            columns=[i for i in self.standard.indicator_ids if i in wide.columns])
        limits = self.balance.groupby("stage")["limit"].first()
        return wide.assign(limit=limits).reset_index()

    def _display(self) -> tuple[str, str, list[str], list[tuple[str, pd.DataFrame]]]:
        lines = [f"{r['stage']}: {r['sections_passed']}/{r['sections']} sections pass, "
                 f"{r['cv_passed']}/{r['indicators']} CVs within the limit" for r in self.summary().to_dict("records")]
        failing = self.verdicts.loc[~self.verdicts["passed"], ["school_id", "school_name", "stage", "failed_indicators"]]
        return (f"ResourceEvaluation {self.period} ({self.standard.label})", verdict_word(self.passed), lines,
                [("CV by stage × indicator", self.cv_table()), ("failing sections", failing)])


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
    scales = {i: std.indicators[i].scale for i in std.indicator_ids}

    def exact_values(rows: np.ndarray) -> list[Fraction]:
        part = indicators.iloc[rows]
        numerators = exact_numerators(sections, std, part["section"].to_numpy(), part["indicator"].to_numpy(object))
        return [section_value(n, scales[i], int(s)) for n, i, s in zip(numerators, part["indicator"], part["students"])]

    judged, verdicts = judge_sections(indicators, std, exact_values, group=indicators["section"].to_numpy())
    balance = district_balance(judged, std)
    keys = [k for k in DISTRICT_KEYS if k in judged.columns]
    return ResourceEvaluation(
        sections=judged[[*keys, *SECTION_COLUMNS]],
        verdicts=verdicts,
        balance=balance,
        excluded=sections.excluded,
        standard=std,
        period=dataset.period,
        basis=sections,
    )
