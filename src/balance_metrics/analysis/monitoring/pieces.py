"""One period reduced to what the panel keeps: :func:`period_pieces` -> :class:`PeriodPieces`.

A period is loaded, evaluated (resources always; plan targets only when the
standard has some and they are asked for) and reduced at once to a few
compact tables; the :class:`~balance_metrics.contract.dataset.Dataset` is
dropped before the next period is read, so memory is bounded by one period.
:func:`period_pieces` is a top-level function of plain arguments so that it
runs unchanged in a worker process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from balance_metrics.analysis.monitoring.roster import roster, stage_students
from balance_metrics.analysis.monitoring.stacking import INDICATOR_COLUMNS, WideIndicators
from balance_metrics.common.errors import PROBLEM_COLUMNS, DataValidationError, Problem
from balance_metrics.contract.dataset import Dataset, load_period
from balance_metrics.engine.resources import evaluate_resources
from balance_metrics.evaluation.evaluate import evaluate_plan_targets
from balance_metrics.standard.loader import Standard

VERDICT_COLUMNS = [
    "period", "district_id", "school_id", "stage", "school_name", "school_type", "area_type", "students",
    "indicators_met", "indicators_below_floor", "failed_indicators", "passed",
]
BALANCE_COLUMNS = [
    "period", "district_id", "stage", "indicator", "name", "sections", "students", "district_value", "cv", "limit",
    "passed", "sections_met", "sections_below_floor",
]
EXCLUDED_COLUMNS = ["period", "district_id", "school_id", "school_name", "school_type", "stage", "students", "reason"]
PLAN_TARGET_COLUMNS = [
    "period", "district_id", "target_id", "name", "scope", "measured", "requirement", "unit", "comparison", "deadline",
    "status",
]
SOURCE_COLUMNS = ["period", "table", "file", "sheet", "sha256", "rows"]
WARNING_COLUMNS = ["period", *PROBLEM_COLUMNS]


@dataclass(frozen=True)
class PeriodPieces:
    """What the panel keeps of one period (each table starts with ``period``).

    Attributes
    ----------
    period : str
    roster : DataFrame
        :func:`~.roster.roster`.
    stage_students : DataFrame
        :func:`~.roster.stage_students`: every reported section (for the school changes).
    indicators : WideIndicators or DataFrame
        The resource evaluation's long table, in wide form when the
        evaluation has its arrays (a fraction of the size to hand over;
        :class:`~.stacking.LongStack` makes it long).
    verdicts, balance, excluded : DataFrame
        The resource evaluation's tables (``district_id`` when the period holds many districts).
    plan_targets : DataFrame or None
        The plan targets; None when not evaluated.
    warnings, sources : DataFrame
        The dataset's plausibility warnings and the files read.
    """

    period: str
    roster: pd.DataFrame
    stage_students: pd.DataFrame
    indicators: WideIndicators | pd.DataFrame
    verdicts: pd.DataFrame
    balance: pd.DataFrame
    excluded: pd.DataFrame
    plan_targets: pd.DataFrame | None
    warnings: pd.DataFrame
    sources: pd.DataFrame


@dataclass(frozen=True)
class PeriodFailure:
    """A period whose data break the contract: its folder and every problem."""

    period: str
    folder: str
    problems: list[Problem]

    def error(self) -> DataValidationError:
        """The error naming the period and its folder."""
        return DataValidationError(self.problems, f"period {self.period} ({self.folder})")

    def rows(self) -> pd.DataFrame:
        """period, folder, file, row, column, value, rule: one row per problem."""
        problems = self.error().problems
        problems.insert(0, "folder", self.folder)
        problems.insert(0, "period", self.period)
        return problems


def with_period(frame: pd.DataFrame, period: str, columns: Sequence[str]) -> pd.DataFrame:
    """``frame``'s ``columns`` that it has, led by a ``period`` column (one copy)."""
    out = frame[[c for c in columns if c in frame.columns and c != "period"]].copy()
    out.insert(0, "period", period)
    return out


def check_plan_targets(frame: object, period: str) -> pd.DataFrame:
    """The plan-target table of ``period`` with its period, or a clear error if it is not one."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"period {period}: evaluation .plan_targets is {type(frame).__name__}, expected a DataFrame")
    missing = [c for c in PLAN_TARGET_COLUMNS[2:] if c not in frame.columns]
    if missing:
        raise ValueError(f"period {period}: evaluation .plan_targets lacks column(s) {', '.join(missing)}")
    extra = [c for c in frame.columns if c not in PLAN_TARGET_COLUMNS]
    return with_period(frame, period, PLAN_TARGET_COLUMNS + extra)


def plan_targets(dataset: Dataset, standard: Standard):
    """Resources and plan targets of a period (:func:`~balance_metrics.evaluation.evaluate.evaluate_plan_targets`)."""
    return evaluate_plan_targets(dataset, standard)


def reduce_period(dataset: Dataset, standard: Standard, with_plan_targets: bool, label: str | None = None) -> PeriodPieces:
    """Evaluate what the panel needs of ``dataset`` and keep only that.

    Resources always; the plan targets when ``with_plan_targets`` and the
    standard has any (national-2017 has none: an empty table, nothing run).
    ``label`` names the period (default ``dataset.period``, the name of the
    resolved folder: a period folder that is a link would take its target's name).
    """
    period = label if label is not None else dataset.period
    targets: pd.DataFrame | None = None
    if with_plan_targets and standard.plan_targets:
        resources, found = plan_targets(dataset, standard)
        targets = check_plan_targets(found, period)
    else:
        resources = evaluate_resources(dataset, standard)
        if with_plan_targets:
            targets = pd.DataFrame(columns=[c for c in PLAN_TARGET_COLUMNS if c != "district_id"])
    stages = stage_students(dataset.sections, dataset.schools)
    wide = WideIndicators.of(resources, period)
    return PeriodPieces(
        period=period,
        roster=roster(dataset.schools, stages, period),
        stage_students=stages,
        indicators=wide if wide is not None else with_period(resources.sections, period, INDICATOR_COLUMNS),
        verdicts=with_period(resources.verdicts, period, VERDICT_COLUMNS),
        balance=with_period(resources.balance, period, BALANCE_COLUMNS),
        excluded=with_period(resources.excluded, period, EXCLUDED_COLUMNS),
        plan_targets=targets,
        warnings=with_period(dataset.warnings, period, WARNING_COLUMNS),
        sources=with_period(dataset.sources, period, SOURCE_COLUMNS),
    )


def period_pieces(folder: str | Path, label: str, standard: Standard, with_plan_targets: bool) -> PeriodPieces | PeriodFailure:
    """Load the period folder ``folder`` (label ``label``) and reduce it (:func:`reduce_period`).

    Returns
    -------
    PeriodPieces or PeriodFailure
        The failure (every problem) when the data break the contract; the
        caller decides whether to raise it or to record it.
    """
    try:
        return reduce_period(load_period(Path(folder)), standard, with_plan_targets, label)
    except DataValidationError as error:
        return PeriodFailure(label, str(folder), list(error.problem_list))
