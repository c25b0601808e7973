"""The monitoring panel: every period evaluated under one standard, lined up by period.

:func:`build_panel` -> :class:`Panel` (rosters, indicators, verdicts, balance,
exclusions, school changes, plan targets, failed periods, warnings, sources).
Period discovery is :mod:`balance_metrics.contract.periods`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from balance_metrics.common.results import Result, verdict_word
from balance_metrics.common.errors import PROBLEM_COLUMNS, DataValidationError
from balance_metrics.contract.dataset import Dataset, load_period
from balance_metrics.contract.periods import Frequency, check_period_list, find_periods, period_sort_key
from balance_metrics.contract.schema import SCHOOL_TYPES, STAGES
from balance_metrics.engine.resources import SECTION_COLUMNS, ResourceEvaluation, evaluate_resources
from balance_metrics.evaluation.evaluate import evaluate
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, load_standard

ROSTER_COLUMNS = [
    "period", "school_id", "school_name", "school_type", "area_type", "ownership", "boarding",
    "parent_school_id", "year_built", "stages", "students",
]
VERDICT_COLUMNS = [
    "period", "school_id", "stage", "school_name", "school_type", "area_type", "students",
    "indicators_met", "indicators_below_floor", "failed_indicators", "passed",
]
BALANCE_COLUMNS = [
    "period", "stage", "indicator", "name", "sections", "students", "district_value", "cv", "limit",
    "passed", "sections_met", "sections_below_floor",
]
EXCLUDED_COLUMNS = ["period", "school_id", "school_name", "school_type", "stage", "students", "reason"]
CHANGE_COLUMNS = [
    "period", "previous_period", "school_id", "school_name", "change", "stage", "before", "after",
    "students", "description",
]
PLAN_TARGET_COLUMNS = [
    "period", "target_id", "name", "scope", "measured", "requirement", "unit", "comparison", "deadline", "status",
]
FAILED_COLUMNS = ["period", "folder", *PROBLEM_COLUMNS]
SOURCE_COLUMNS = ["period", "table", "file", "sheet", "sha256", "rows"]
WARNING_COLUMNS = ["period", *PROBLEM_COLUMNS]

# Order in which change kinds are listed within a period.
CHANGE_KINDS = ("opened", "closed", "type_changed", "renamed", "stage_added", "stage_removed")


# -- the panel ------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Panel(Result):
    """Every period evaluated under one standard, lined up by period.

    All tables start with a ``period`` column and are sorted chronologically.

    Attributes
    ----------
    periods : tuple of str
        Periods evaluated, oldest first (failed periods excluded).
    standard : Standard
    schools : DataFrame
        Roster per period: period, school_id, school_name, school_type,
        area_type, ownership, boarding, parent_school_id, year_built, stages
        (comma-separated stage codes), students (all stages).
    indicators : DataFrame
        period × section × indicator: the columns of
        :attr:`ResourceEvaluation.sections` (school_id, stage, indicator,
        numerator, value, threshold, met, students …).
    verdicts : DataFrame
        period × section: indicators_met, indicators_below_floor,
        failed_indicators, passed.
    balance : DataFrame
        period × stage × indicator: district_value, cv, limit, passed …
    excluded : DataFrame
        period × school section left out of the computation, with the reason.
    changes : DataFrame
        Schools that opened, closed, changed type or name, or gained or lost
        a stage since the previous evaluated period: period, previous_period,
        school_id, school_name, change, stage, before, after, students,
        description (Chinese).
    plan_targets : DataFrame
        period × plan target from :mod:`balance_metrics.evaluation` when that
        module exists (target_id, name, scope, measured, requirement, unit,
        comparison, deadline, status); empty otherwise.
    plan_targets_available : bool
        Whether plan targets were evaluated.
    failed_periods : DataFrame
        Periods whose data are invalid (``on_error="skip"``): one row per
        problem: period, folder, file, row, column, value, rule.
    warnings : DataFrame
        Plausibility warnings per period (period, file, row, column, value, rule).
    sources : DataFrame
        Files read per period: period, table, file, sheet, sha256, rows.
    """

    periods: tuple[str, ...]
    standard: Standard
    schools: pd.DataFrame
    indicators: pd.DataFrame
    verdicts: pd.DataFrame
    balance: pd.DataFrame
    excluded: pd.DataFrame
    changes: pd.DataFrame
    plan_targets: pd.DataFrame
    plan_targets_available: bool
    failed_periods: pd.DataFrame
    warnings: pd.DataFrame
    sources: pd.DataFrame

    @property
    def passed(self) -> bool:
        """The latest period passes: every section and every CV (False for an empty panel)."""
        if not self.periods:
            return False
        latest = self.periods[-1]
        return bool(self.verdicts.loc[self.verdicts["period"] == latest, "passed"].all()
                    and self.balance.loc[self.balance["period"] == latest, "passed"].all())

    def summary(self) -> pd.DataFrame:
        """Per period × stage: sections, sections passing, CVs within the limit, largest CV."""
        columns = ["period", "stage", "sections", "sections_passed", "indicators", "cv_passed", "max_cv"]
        if not self.periods:
            return pd.DataFrame(columns=columns)
        sections = self.verdicts.groupby(["period", "stage"], sort=False)["passed"].agg(sections="size", sections_passed="sum")
        cvs = self.balance.groupby(["period", "stage"], sort=False).agg(
            indicators=("passed", "size"), cv_passed=("passed", "sum"), max_cv=("cv", "max"))
        frame = sections.join(cvs, how="outer").reset_index()
        frame = frame.sort_values(["period", "stage"], key=lambda c: c.map(
            period_sort_key if c.name == "period" else {s: i for i, s in enumerate(self.standard.stages)}.get))
        return frame[columns].astype({"sections_passed": int, "cv_passed": int}).reset_index(drop=True)

    def _display(self) -> tuple[str, str, list[str], list[tuple[str, pd.DataFrame]]]:
        span = f"{self.periods[0]}–{self.periods[-1]}" if self.periods else "no period"
        lines = [f"{len(self.periods)} period(s), {self.schools['school_id'].nunique()} schools, "
                 f"{len(self.changes)} school change(s), {self.failed_periods['period'].nunique()} failed period(s)"]
        return (f"Panel {span} ({self.standard.label})", f"latest period {verdict_word(self.passed)}", lines,
                [("per period", self.summary())])

    def tables(self) -> dict[str, pd.DataFrame]:
        """The panel's tables by name (the CSV file names of :func:`write_panel`)."""
        return {
            "schools": self.schools,
            "indicators": self.indicators,
            "verdicts": self.verdicts,
            "balance": self.balance,
            "excluded": self.excluded,
            "changes": self.changes,
            "plan_targets": self.plan_targets,
            "failed_periods": self.failed_periods,
            "warnings": self.warnings,
            "sources": self.sources,
        }


@dataclass(frozen=True)
class _PeriodResult:
    """One period's evaluation, before the periods are stacked."""

    dataset: Dataset
    resources: ResourceEvaluation
    plan_targets: pd.DataFrame | None


def _check_plan_targets(frame: Any, period: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"period {period}: evaluation .plan_targets is {type(frame).__name__}, expected a DataFrame")
    missing = [c for c in PLAN_TARGET_COLUMNS[1:] if c not in frame.columns]
    if missing:
        raise ValueError(f"period {period}: evaluation .plan_targets lacks column(s) {', '.join(missing)}")
    return frame.assign(period=period)


def _evaluate_period(dataset: Dataset, standard: Standard, with_plan_targets: bool) -> _PeriodResult:
    if not with_plan_targets:
        return _PeriodResult(dataset, evaluate_resources(dataset, standard), None)
    result = evaluate(dataset, standard)
    return _PeriodResult(dataset, result.resources, _check_plan_targets(result.plan_targets, dataset.period))


def _stage_students(dataset: Dataset) -> pd.DataFrame:
    """school_id, stage, students of every reported section (campuses unmerged)."""
    return dataset.sections[["school_id", "stage", "students"]].astype({"students": "int64"})


def _roster(dataset: Dataset) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(STAGES)}
    stages = _stage_students(dataset)
    per_school = stages.groupby("school_id").agg(
        stages=("stage", lambda s: ",".join(sorted(s, key=order.get))),
        students=("students", "sum"),
    )
    schools = dataset.schools.drop(columns=["_source", "_row"], errors="ignore")
    roster = schools.join(per_school, on="school_id")
    roster["stages"] = roster["stages"].fillna("")
    roster["students"] = roster["students"].fillna(0).astype("int64")
    roster.insert(0, "period", dataset.period)
    return roster[[c for c in ROSTER_COLUMNS if c in roster.columns]]


def _with_period(frame: pd.DataFrame, period: str, columns: Sequence[str]) -> pd.DataFrame:
    out = frame.assign(period=period)
    return out[[c for c in columns if c in out.columns]]


def _stack(frames: Iterable[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True)


def _failure_rows(period: str, folder: Path, error: DataValidationError) -> pd.DataFrame:
    problems = error.problems
    problems.insert(0, "folder", str(folder))
    problems.insert(0, "period", period)
    return problems


def build_panel(
    data_dir: str | Path,
    standard: str | Path | Standard = DEFAULT_STANDARD,
    periods: Sequence[str] | None = None,
    *,
    on_error: Literal["raise", "skip"] = "raise",
    frequency: Frequency | None = None,
    with_plan_targets: bool = True,
) -> Panel:
    """Evaluate every period under ``data_dir`` and line the results up.

    Parameters
    ----------
    data_dir : str or Path
        Folder of period folders (``data/raw``).
    standard : str, Path or Standard, default "national-2017"
        Applied to every period.
    periods : sequence of str, optional
        Period labels to evaluate (default: all, see :func:`find_periods`).
    on_error : {"raise", "skip"}, default "raise"
        What to do with a period whose data are invalid: raise
        :class:`DataValidationError` naming the period, or record its
        problems in :attr:`Panel.failed_periods` and go on.
    frequency : {"monthly", "quarterly"}, optional
        With ``periods=None``: only monthly or only quarterly folders.
    with_plan_targets : bool, default True
        Run the full evaluation per period to collect its plan targets
        (slower); ``False`` evaluates the resource indicators only.

    Returns
    -------
    Panel

    Raises
    ------
    DataValidationError
        A period's data are invalid (``on_error="raise"``); the message names
        the period and lists every problem.
    FileNotFoundError
        ``data_dir`` holds no period folder.
    ValueError
        A label is not a period, or two periods end in the same month.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    std = load_standard(standard)
    labels = check_period_list(list(periods) if periods is not None else find_periods(data_dir, frequency))
    if not labels:
        raise FileNotFoundError(f"no period folders (named like 2022Q4 or 2022-10) in {data_dir}")

    results: list[_PeriodResult] = []
    failures: list[pd.DataFrame] = []
    for label in labels:
        folder = Path(data_dir) / label
        try:
            results.append(_evaluate_period(load_period(folder), std, with_plan_targets))
        except DataValidationError as error:
            named = DataValidationError(error.problem_list, f"period {label} ({folder})")
            if on_error == "raise":
                raise named from error
            failures.append(_failure_rows(label, folder, named))
    return _assemble(results, failures, std, with_plan_targets)


def _assemble(results: list[_PeriodResult], failures: list[pd.DataFrame], std: Standard, plan: bool) -> Panel:
    rosters = [_roster(r.dataset) for r in results]
    stage_students = [_stage_students(r.dataset) for r in results]
    return Panel(
        periods=tuple(r.dataset.period for r in results),
        standard=std,
        schools=_stack(rosters, ROSTER_COLUMNS),
        indicators=_stack(
            (_with_period(r.resources.sections, r.dataset.period, ["period", *SECTION_COLUMNS]) for r in results),
            ["period", *SECTION_COLUMNS],
        ),
        verdicts=_stack((_with_period(r.resources.verdicts, r.dataset.period, VERDICT_COLUMNS) for r in results), VERDICT_COLUMNS),
        balance=_stack((_with_period(r.resources.balance, r.dataset.period, BALANCE_COLUMNS) for r in results), BALANCE_COLUMNS),
        excluded=_stack((_with_period(r.resources.excluded, r.dataset.period, EXCLUDED_COLUMNS) for r in results), EXCLUDED_COLUMNS),
        changes=school_changes(rosters, stage_students),
        plan_targets=_stack(
            (_plan_columns(r.plan_targets) for r in results if r.plan_targets is not None), PLAN_TARGET_COLUMNS
        ),
        plan_targets_available=plan,
        failed_periods=_stack(failures, FAILED_COLUMNS),
        warnings=_stack((_with_period(r.dataset.warnings, r.dataset.period, WARNING_COLUMNS) for r in results), WARNING_COLUMNS),
        sources=_stack((_with_period(r.dataset.sources, r.dataset.period, SOURCE_COLUMNS) for r in results), SOURCE_COLUMNS),
    )


def _plan_columns(frame: pd.DataFrame) -> pd.DataFrame:
    extra = [c for c in frame.columns if c not in PLAN_TARGET_COLUMNS]
    return frame[PLAN_TARGET_COLUMNS + extra]


# -- school changes between consecutive periods ---------------------------------------


CHANGE_COLUMNS = [
    "period", "previous_period", "school_id", "school_name", "change", "stage", "before", "after",
    "students", "description",
]
# Order in which change kinds are listed within a period.
CHANGE_KINDS = ("opened", "closed", "type_changed", "renamed", "stage_added", "stage_removed")


def _type_zh(code: str) -> str:
    return SCHOOL_TYPES.get(code, code)


def stage_zh(code: str) -> str:
    return STAGES.get(code, code)


def _change(period: str, previous: str, school: pd.Series, kind: str, **fields: Any) -> dict[str, Any]:
    row = {"period": period, "previous_period": previous, "school_id": school["school_id"],
           "school_name": school["school_name"], "change": kind, "stage": "", "before": "", "after": "", "students": pd.NA}
    row.update(fields)
    return row


def _roster_changes(prev: pd.DataFrame, cur: pd.DataFrame, period: str, previous: str) -> list[dict[str, Any]]:
    """Opened, closed, type-changed and renamed schools between two rosters."""
    p, c = prev.set_index("school_id", drop=False), cur.set_index("school_id", drop=False)
    rows = []
    for sid in c.index.difference(p.index):
        s = c.loc[sid]
        rows.append(_change(period, previous, s, "opened", after=s["school_type"], students=s["students"],
                            description=f"{s['school_name']}（{sid}）新设立：{_type_zh(s['school_type'])}，在校生{s['students']}人"))
    for sid in p.index.difference(c.index):
        s = p.loc[sid]
        # We only know the school is no longer reported; the reason is not in the data.
        rows.append(_change(period, previous, s, "closed", before=s["school_type"], students=s["students"],
                            description=f"{s['school_name']}（{sid}）本期不再报送（撤并或停办）；"
                                        f"上期为{_type_zh(s['school_type'])}，在校生{s['students']}人"))
    for sid in c.index.intersection(p.index):
        old, new = p.loc[sid], c.loc[sid]
        if old["school_type"] != new["school_type"]:
            rows.append(_change(period, previous, new, "type_changed", before=old["school_type"], after=new["school_type"],
                                students=new["students"],
                                description=f"{new['school_name']}（{sid}）办学类型由{_type_zh(old['school_type'])}"
                                            f"改为{_type_zh(new['school_type'])}"))
        if old["school_name"] != new["school_name"]:
            rows.append(_change(period, previous, new, "renamed", before=old["school_name"], after=new["school_name"],
                                description=f"{sid} 校名由{old['school_name']}改为{new['school_name']}"))
    return rows


def _stage_changes(prev: pd.DataFrame, cur: pd.DataFrame, roster: pd.DataFrame, period: str, previous: str) -> list[dict[str, Any]]:
    """Stages gained or lost by schools present in both periods."""
    both = set(prev["school_id"]) & set(cur["school_id"])
    before = {(r.school_id, r.stage): r.students for r in prev.itertuples() if r.school_id in both}
    after = {(r.school_id, r.stage): r.students for r in cur.itertuples() if r.school_id in both}
    names = roster.set_index("school_id", drop=False)
    rows = []
    for key in sorted(after.keys() - before.keys()):
        school = names.loc[key[0]]
        rows.append(_change(period, previous, school, "stage_added", stage=key[1], after=key[1], students=after[key],
                            description=f"{school['school_name']}（{key[0]}）新设{stage_zh(key[1])}学段，在校生{after[key]}人"))
    for key in sorted(before.keys() - after.keys()):
        school = names.loc[key[0]]
        rows.append(_change(period, previous, school, "stage_removed", stage=key[1], before=key[1], students=before[key],
                            description=f"{school['school_name']}（{key[0]}）不再设{stage_zh(key[1])}学段（上期{before[key]}人）"))
    return rows


def school_changes(rosters: list[pd.DataFrame], stage_students: list[pd.DataFrame]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for i in range(1, len(rosters)):
        period, previous = rosters[i]["period"].iloc[0], rosters[i - 1]["period"].iloc[0]
        rows += _roster_changes(rosters[i - 1], rosters[i], period, previous)
        rows += _stage_changes(stage_students[i - 1], stage_students[i], rosters[i], period, previous)
    frame = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    if frame.empty:
        return frame
    frame["students"] = frame["students"].astype("Int64")
    rank = {k: i for i, k in enumerate(CHANGE_KINDS)}
    frame = frame.sort_values(
        ["period", "change", "school_id", "stage"],
        key=lambda c: c.map(period_sort_key) if c.name == "period" else c.map(rank) if c.name == "change" else c,
    )
    return frame.reset_index(drop=True)


# -- sections newly failing / passing ---------------------------------------------------


# -- helpers shared by the monitoring modules -----------------------------------------


def by_period(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``frame`` sorted by ``keys`` then chronologically."""
    order = frame["period"].map(period_sort_key)
    return frame.assign(_order=order).sort_values([*keys, "_order"]).drop(columns="_order").reset_index(drop=True)


def standard_order(standard: Standard) -> Callable[[pd.Series], pd.Series]:
    """Sort key putting stages and indicators in the standard's order (R2 before R10)."""
    rank = {s: i for i, s in enumerate(standard.stages)} | {ind: i for i, ind in enumerate(standard.indicator_ids)}
    return lambda column: column.map(lambda v: rank.get(v, -1))

