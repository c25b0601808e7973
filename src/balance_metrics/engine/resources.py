"""Resource-allocation evaluation: :func:`evaluate_resources`.

The engine works on (indicators × sections) arrays (:class:`IndicatorMatrix`,
:class:`Judgement`); the long table :attr:`ResourceEvaluation.sections` (one row
per section × indicator) is built from them the first time it is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np
import pandas as pd

from balance_metrics.common.results import Result, verdict_word
from balance_metrics.contract.dataset import Dataset
from balance_metrics.engine.balance import matrix_balance
from balance_metrics.engine.indicators import IndicatorMatrix, exact_numerators, indicator_matrix, long_columns, section_value
from balance_metrics.engine.sections import DISTRICT_KEYS, Sections, build_sections
from balance_metrics.engine.verdicts import Judgement, judge_matrix, matrix_verdicts
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, exact, load_standard

SECTION_COLUMNS = [
    "school_id", "school_name", "school_type", "area_type", "ownership", "stage", "students",
    "share", "campuses", "indicator", "name", "unit", "numerator", "value", "threshold", "floor",
    "met", "above_floor", "ratio", "shortfall",
]


@dataclass(frozen=True, repr=False, init=False)
class ResourceEvaluation(Result):
    """Result of :func:`evaluate_resources`.

    Attributes
    ----------
    sections : DataFrame
        One row per section × indicator (R1..R7): numerator, students, value,
        threshold, floor, met, above_floor, ratio (value ÷ threshold), shortfall.
        Built on first access from :attr:`matrix` and :attr:`judgement`.
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
        is section ``i // 7`` of it, and row ``i`` of ``verdicts`` is section
        ``i``); lets :meth:`exact_numerators` give the exact numbers.
    matrix : IndicatorMatrix, optional
        Numerators and values as (indicators × sections) arrays, sections as in ``basis``.
    judgement : Judgement, optional
        Thresholds, floors and marks as (indicators × sections) arrays.
    """

    verdicts: pd.DataFrame
    balance: pd.DataFrame
    excluded: pd.DataFrame
    standard: Standard
    period: str
    basis: Sections | None
    matrix: IndicatorMatrix | None
    judgement: Judgement | None

    def __init__(self, sections: pd.DataFrame | None, verdicts: pd.DataFrame, balance: pd.DataFrame, excluded: pd.DataFrame,
                 standard: Standard, period: str, basis: Sections | None = None, *,
                 matrix: IndicatorMatrix | None = None, judgement: Judgement | None = None) -> None:
        if sections is None and (basis is None or matrix is None or judgement is None):
            raise ValueError("give the sections table, or basis, matrix and judgement to build it from")
        for name, value in [("verdicts", verdicts), ("balance", balance), ("excluded", excluded), ("standard", standard),
                            ("period", period), ("basis", basis), ("matrix", matrix), ("judgement", judgement)]:
            object.__setattr__(self, name, value)
        if sections is not None:
            self.__dict__["sections"] = sections

    @cached_property
    def sections(self) -> pd.DataFrame:
        """One row per section × indicator (see class doc)."""
        frame, k = self.basis.sections, len(self.matrix.ids)
        columns = long_columns(frame, self.standard, k)
        columns["numerator"] = self.matrix.numerator.T.ravel()
        columns["value"] = self.matrix.value.T.ravel()
        for name in ("threshold", "floor", "met", "above_floor", "ratio", "shortfall"):
            columns[name] = getattr(self.judgement, name).T.ravel()
        keys = [c for c in DISTRICT_KEYS if c in frame.columns]
        return pd.DataFrame(columns, copy=False)[[*keys, *SECTION_COLUMNS]]

    def wide(self, field: str = "value") -> pd.DataFrame:
        """One row per section (as in ``verdicts``), one column per indicator.

        Parameters
        ----------
        field : {"value", "numerator", "met", "above_floor", "ratio", "shortfall", "threshold", "floor"}

        Returns
        -------
        DataFrame
            [district_id,] school_id, stage, then R1 … R7.
        """
        keys = [c for c in ("district_id", "school_id", "stage") if c in self.verdicts.columns]
        if self.matrix is not None and self.judgement is not None:
            source = self.matrix if field in ("value", "numerator") else self.judgement
            table = pd.DataFrame(getattr(source, field).T, columns=list(self.matrix.ids))
        else:
            table = self.sections.pivot(index=keys, columns="indicator", values=field).reset_index(drop=True)
        return pd.concat([self.verdicts[keys].reset_index(drop=True), table], axis=1)

    def select(self, district_id: str) -> "ResourceEvaluation":
        """The evaluation of one district of a multi-district period (the same
        numbers as evaluating that district alone)."""
        if "district_id" not in self.verdicts.columns:
            raise ValueError("this evaluation holds one district (no district_id)")
        empty = np.zeros(0, dtype=np.int64)

        def rows(frame: pd.DataFrame, name: str) -> pd.DataFrame:
            if not len(frame):
                return frame
            return frame.take(self._district_rows(name).get(district_id, empty)).reset_index(drop=True)

        at = self._district_rows("verdicts").get(district_id, empty)
        basis = None if self.basis is None else Sections(
            rows(self.basis.sections, "basis"), rows(self.basis.excluded, "excluded"),
            None if self.basis.stage_code is None else self.basis.stage_code[at],
            None if self.basis.district_code is None else np.zeros(len(at), dtype=np.int64),
            None if self.basis.districts is None else np.array([district_id], dtype=object),
        )
        lazy = "sections" not in self.__dict__ and self.matrix is not None and self.judgement is not None
        matrix = judgement = None
        if self.matrix is not None and self.judgement is not None:
            matrix = IndicatorMatrix(self.matrix.ids, *(a[:, at] for a in (self.matrix.numerator, self.matrix.value, self.matrix.magnitude)))
            judgement = self.judgement.take(at)
        return ResourceEvaluation(None if lazy else rows(self.sections, "sections"), rows(self.verdicts, "verdicts"),
                                  rows(self.balance, "balance"), rows(self.excluded, "excluded"),
                                  self.standard, self.period, basis, matrix=matrix, judgement=judgement)

    def _district_rows(self, name: str) -> dict[str, np.ndarray]:
        """District id -> row positions of one table (``name``), computed once."""
        cache = self.__dict__.setdefault("_rows_by_district", {})
        if name not in cache:
            frame = {"basis": self.basis.sections if self.basis is not None else None,
                     "excluded": self.excluded, "verdicts": self.verdicts, "balance": self.balance}.get(name)
            if name == "sections":
                frame = self.sections
            cache[name] = positions_by(frame["district_id"]) if frame is not None and len(frame) else {}
        return cache[name]

    def _positions(self, rows: Sequence[int] | np.ndarray | None) -> np.ndarray:
        count = len(self.verdicts) * len(self.standard.indicator_ids) if self._compact else len(self.sections)
        return np.arange(count) if rows is None else np.asarray(rows, dtype=int)

    @property
    def _compact(self) -> bool:
        return self.basis is not None and self.matrix is not None

    def _indicator_of(self, positions: np.ndarray) -> np.ndarray:
        if self._compact:
            return np.asarray(self.matrix.ids, dtype=object)[positions % len(self.matrix.ids)]
        return self.sections["indicator"].to_numpy(object)[positions]

    def exact_numerators(self, rows: Sequence[int] | np.ndarray | None = None) -> list[Fraction]:
        """Exact numerators of ``sections`` rows (positions; default all).

        From the input amounts (shortest decimal form) and exact shares; without
        :attr:`basis`, from the float numerators' shortest decimal form.
        """
        positions = self._positions(rows)
        if self.basis is None:
            return [exact(float(v)) for v in self.sections["numerator"].to_numpy(float)[positions]]
        per_section = len(self.standard.indicator_ids)
        return exact_numerators(self.basis, self.standard, positions // per_section, self._indicator_of(positions))

    def exact_values(self, rows: Sequence[int] | np.ndarray | None = None) -> list[Fraction]:
        """Exact indicator values of ``sections`` rows (positions; default all)."""
        positions = self._positions(rows)
        numerators = self.exact_numerators(positions)
        if self._compact:
            students = self.basis.sections["students"].to_numpy(np.int64)[positions // len(self.matrix.ids)]
        else:
            students = self.sections["students"].to_numpy()[positions]
        scales = {i: self.standard.indicators[i].scale for i in self.standard.indicator_ids}
        indicators = self._indicator_of(positions)
        return [section_value(n, scales[i], int(s)) for n, i, s in zip(numerators, indicators, students)]

    def exact_shares(self, rows: Sequence[int] | np.ndarray | None = None) -> list[Fraction]:
        """Exact facility shares of ``sections`` rows (positions; default all)."""
        positions = self._positions(rows)
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


def positions_by(column: pd.Series) -> dict[str, np.ndarray]:
    """Value -> row positions where ``column`` has it (one stable sort, no loop over rows)."""
    code, values = pd.factorize(column)
    order = np.argsort(code, kind="stable")
    bounds = np.flatnonzero(np.diff(code[order])) + 1
    return dict(zip(np.asarray(values, dtype=object).tolist(), np.split(order, bounds)))


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
    matrix = indicator_matrix(sections, std)
    stage_code, district_code, districts = sections.codes(std)
    scales = [std.indicators[i].scale for i in matrix.ids]
    k = len(matrix.ids)
    students = sections.sections["students"].to_numpy(np.int64)

    n = len(students)

    def exact_values(rows: np.ndarray) -> list[Fraction]:  # flat positions of the (k × n) arrays
        section, indicator = rows % n, rows // n
        numerators = exact_numerators(sections, std, section, [matrix.ids[j] for j in indicator])
        return [section_value(n, scales[j], int(s)) for n, j, s in zip(numerators, indicator, students[section])]

    judgement = judge_matrix(matrix.value, matrix.magnitude, stage_code, matrix.ids, std, exact_values)
    verdicts = matrix_verdicts(sections.sections, judgement, matrix.ids, std)
    has_districts = "district_id" in sections.sections.columns
    balance = matrix_balance(matrix.value, matrix.numerator, students, judgement.met, judgement.above_floor,
                             stage_code, district_code, districts if has_districts else None, std)
    return ResourceEvaluation(None, verdicts, balance, sections.excluded, std, dataset.period, sections,
                              matrix=matrix, judgement=judgement)
