"""Monitoring over many periods: panels, trends, changes and progress.

The Beichen plan (§四(四)) asks for monthly and quarterly reports on every
school and on the district. This module evaluates every period folder under
``data/raw`` with the same standard and lines the results up by period:

- :func:`find_periods`, :func:`latest_period`: the period folders, in order;
- :func:`build_panel` -> :class:`Panel`: every period evaluated, plus the
  schools that opened, closed or changed between consecutive periods;
- :func:`write_panel`: the panel (and derived tables) as CSV files;
- :func:`trends`: district values and CVs over time;
- :func:`section_changes`: sections that newly fail or newly pass;
- :func:`progress`: straight-line projection of every target to the plan
  deadline and to the next inspection;
- :func:`school_history`: one school over time, for the per-school report.

Schools are identified by ``school_id`` across periods. Policy dates and the
at-risk tolerance come from the standard's ``[monitoring]`` table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from balance_metrics.common.atomic import atomic_write_text
from balance_metrics.contract.dataset import Dataset, is_period_label, load_period, period_sort_key
from balance_metrics.common.errors import PROBLEM_COLUMNS, DataValidationError, StandardError
from balance_metrics.evaluation.evaluate import evaluate
from balance_metrics.engine.resources import SECTION_COLUMNS, ResourceEvaluation, evaluate_resources
from balance_metrics.contract.schema import SCHOOL_TYPES, STAGES
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, exact, load_standard
from balance_metrics.standard.model import MonitoringRules

__all__ = [
    "MonitoringRules",
    "Panel",
    "Projection",
    "build_panel",
    "find_periods",
    "latest_period",
    "linear_projection",
    "monitoring_rules",
    "panel_tables",
    "period_end",
    "progress",
    "school_history",
    "section_changes",
    "trends",
    "write_panel",
]

Frequency = Literal["monthly", "quarterly"]
DAYS_PER_YEAR = 365.25
MAX_REACH_DAYS = 100 * DAYS_PER_YEAR

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

STATUS_LABELS = {
    "met": "已达标",
    "on track": "按趋势可按期达标",
    "at risk": "按趋势接近目标，有风险",
    "off track": "按趋势难以按期达标",
    "missed": "期限已过，仍未达标",
    "cannot project": "数据不足两期，无法做趋势预测",
    "no deadline": "未设定期限",
    "data missing": "数据缺失",
}


# -- periods -------------------------------------------------------------------


def period_end(period: str) -> pd.Timestamp:
    """Last day of a period, e.g. ``"2022Q4"`` -> 2022-12-31, ``"2022-10"`` -> 2022-10-31.

    Raises
    ------
    ValueError
        ``period`` is not a period label.
    """
    year, month = period_sort_key(period)
    return pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)


def _frequency(period: str) -> Frequency:
    return "quarterly" if "Q" in period else "monthly"


def _chronological(period: str) -> tuple[int, int, bool]:
    """Sort key: month of period end, then a month before the quarter ending with it."""
    return (*period_sort_key(period), _frequency(period) == "quarterly")


def find_periods(data_dir: str | Path, frequency: Frequency | None = None) -> list[str]:
    """Period folders under ``data_dir``, oldest first.

    Parameters
    ----------
    data_dir : str or Path
        Folder holding one sub-folder per period (``2022Q4``, ``2022-10`` …);
        files and folders with other names (``README.md``) are ignored.
    frequency : {"monthly", "quarterly"}, optional
        Keep only monthly (``2022-10``) or quarterly (``2022Q4``) folders.

    Returns
    -------
    list of str
        Period labels in chronological order (by the month the period ends;
        a quarter sorts after the monthly folder ending in the same month).

    Raises
    ------
    FileNotFoundError
        ``data_dir`` does not exist.
    """
    folder = Path(data_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"data folder not found: {folder}")
    if frequency not in (None, "monthly", "quarterly"):
        raise ValueError(f"frequency must be 'monthly' or 'quarterly', got {frequency!r}")
    labels = [p.name for p in folder.iterdir() if p.is_dir() and is_period_label(p.name)]
    if frequency is not None:
        labels = [p for p in labels if _frequency(p) == frequency]
    return sorted(labels, key=_chronological)


def latest_period(data_dir: str | Path, frequency: Frequency | None = None) -> str:
    """The most recent period label under ``data_dir`` (see :func:`find_periods`).

    Raises
    ------
    FileNotFoundError
        No period folder in ``data_dir``.
    """
    periods = find_periods(data_dir, frequency)
    if not periods:
        raise FileNotFoundError(f"no period folders (named like 2022Q4 or 2022-10) in {data_dir}")
    return periods[-1]


def _check_period_list(periods: Sequence[str]) -> list[str]:
    """Validate labels and refuse two periods ending in the same month."""
    for label in periods:
        if not is_period_label(label):
            raise ValueError(f"not a period label (expected like 2022Q4 or 2022-10): {label!r}")
    if len(set(periods)) != len(periods):
        raise ValueError(f"periods listed twice: {sorted(p for p in set(periods) if list(periods).count(p) > 1)}")
    ordered = sorted(periods, key=_chronological)
    for before, after in zip(ordered, ordered[1:]):
        # A quarter and the monthly report of its last month describe the same
        # date; both in one series would count that date twice in the trend.
        if period_sort_key(before) == period_sort_key(after):
            raise ValueError(
                f"periods {before} and {after} both end in {period_end(after):%Y-%m}; "
                "choose one with periods=[...] or frequency='monthly'/'quarterly'"
            )
    return ordered


# -- monitoring rules from the standard ----------------------------------------


def _date_or_none(value: Any, what: str) -> pd.Timestamp | None:
    """A date given by the caller (ISO text or Timestamp); ``None`` for none."""
    if value is None or value == "":
        return None
    try:
        return pd.Timestamp(value).normalize()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: expected an ISO date like 2022-12-31, got {value!r}") from exc


def monitoring_rules(standard: Standard) -> MonitoringRules:
    """The ``[monitoring]`` table of ``standard``, parsed and checked at load."""
    return standard.monitoring


# -- the panel ------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
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
    labels = _check_period_list(list(periods) if periods is not None else find_periods(data_dir, frequency))
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
        changes=_school_changes(rosters, stage_students),
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


# -- school changes between consecutive periods ------------------------------------


def _type_zh(code: str) -> str:
    return SCHOOL_TYPES.get(code, code)


def _stage_zh(code: str) -> str:
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
                            description=f"{school['school_name']}（{key[0]}）新设{_stage_zh(key[1])}学段，在校生{after[key]}人"))
    for key in sorted(before.keys() - after.keys()):
        school = names.loc[key[0]]
        rows.append(_change(period, previous, school, "stage_removed", stage=key[1], before=key[1], students=before[key],
                            description=f"{school['school_name']}（{key[0]}）不再设{_stage_zh(key[1])}学段（上期{before[key]}人）"))
    return rows


def _school_changes(rosters: list[pd.DataFrame], stage_students: list[pd.DataFrame]) -> pd.DataFrame:
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


# -- writing -------------------------------------------------------------------------


def panel_tables(panel: Panel, *, derived: bool = True) -> dict[str, pd.DataFrame]:
    """The tables :func:`write_panel` writes, by file name.

    Parameters
    ----------
    panel : Panel
    derived : bool, default True
        Add ``trends``, ``section_changes`` (when the panel has two periods
        or more) and ``progress`` to :meth:`Panel.tables`.
    """
    tables = dict(panel.tables())
    if derived:
        tables["trends"] = trends(panel)
        if len(panel.periods) >= 2:
            tables["section_changes"] = section_changes(panel)
        tables["progress"] = progress(panel)
    return tables


def write_panel(panel: Panel, out_dir: str | Path, *, derived: bool = True) -> list[Path]:
    """Write the panel's tables as ``<name>.csv`` (UTF-8 with BOM, for Excel).

    Each file is written to a temporary file in ``out_dir`` and moved into
    place, so readers never see a half-written table.

    Parameters
    ----------
    panel : Panel
    out_dir : str or Path
        Destination folder (e.g. ``data/processed/monitoring``); created if needed.
    derived : bool, default True
        Also write ``trends.csv``, ``section_changes.csv`` (when the panel has
        two periods or more) and ``progress.csv``.

    Returns
    -------
    list of Path
        The files written.
    """
    tables = panel_tables(panel, derived=derived)
    out = Path(out_dir)
    # "utf-8-sig" puts the BOM Excel needs to detect UTF-8 Chinese text.
    return [atomic_write_text(out / f"{name}.csv", frame.to_csv(index=False), encoding="utf-8-sig")
            for name, frame in tables.items()]


# -- trends ----------------------------------------------------------------------------


def _by_period(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``frame`` sorted by ``keys`` then chronologically."""
    order = frame["period"].map(period_sort_key)
    return frame.assign(_order=order).sort_values([*keys, "_order"]).drop(columns="_order").reset_index(drop=True)


def trends(panel: Panel) -> pd.DataFrame:
    """District value and CV of every stage × indicator over time.

    Returns
    -------
    DataFrame
        One row per stage × indicator × period: stage, indicator, name,
        period, period_end, sections, students, district_value (the
        indicator's unit), cv, limit, passed, sections_met,
        district_value_change and cv_change (since the previous period in
        which the pair was evaluated; NaN in its first), baseline_period (the
        first such period), district_value_since_baseline and
        cv_since_baseline.
    """
    columns = ["stage", "indicator", "name", "period", "period_end", "sections", "students", "district_value", "cv",
               "limit", "passed", "sections_met", "district_value_change", "cv_change", "baseline_period",
               "district_value_since_baseline", "cv_since_baseline"]
    if panel.balance.empty:
        return pd.DataFrame(columns=columns)
    frame = _by_period(panel.balance, ["stage", "indicator"])
    frame["period_end"] = frame["period"].map(period_end)
    groups = frame.groupby(["stage", "indicator"], sort=False)
    for col in ("district_value", "cv"):
        frame[f"{col}_change"] = groups[col].diff()
        frame[f"{col}_since_baseline"] = frame[col] - groups[col].transform("first")
    frame["baseline_period"] = groups["period"].transform("first")
    frame = frame.sort_values(["stage", "indicator"], key=_standard_order(panel.standard), kind="stable")
    return frame[columns].reset_index(drop=True)


def _standard_order(standard: Standard) -> Callable[[pd.Series], pd.Series]:
    """Sort key putting stages and indicators in the standard's order (R2 before R10)."""
    rank = {s: i for i, s in enumerate(standard.stages)} | {ind: i for i, ind in enumerate(standard.indicator_ids)}
    return lambda column: column.map(lambda v: rank.get(v, -1))


# -- sections newly failing / passing ---------------------------------------------------


def _pair(panel: Panel, since: str | None, until: str | None) -> tuple[str, str] | None:
    if since is None and until is None and len(panel.periods) < 2:
        return None
    until = until if until is not None else panel.periods[-1]
    for label in (since, until):
        if label is not None and label not in panel.periods:
            raise ValueError(f"period {label} is not in the panel (periods: {', '.join(panel.periods) or 'none'})")
    if since is None:
        position = panel.periods.index(until)
        if position == 0:
            raise ValueError(f"period {until} is the first of the panel: nothing to compare it with")
        since = panel.periods[position - 1]
    if period_sort_key(since) >= period_sort_key(until):
        raise ValueError(f"since ({since}) must come before until ({until})")
    return since, until


def _fmt(value: Any, decimals: int) -> str:
    return "—" if pd.isna(value) else f"{float(value):.{decimals}f}"


def _flips(before: pd.DataFrame, after: pd.DataFrame, keys: list[str], flag: str) -> pd.DataFrame:
    """Rows of ``after`` whose ``flag`` turned False (or is False for a new row) or turned True."""
    merged = after.merge(before[[*keys, flag, "value"]], on=keys, how="left", suffixes=("", "_before"))
    merged[f"{flag}_before"] = merged[f"{flag}_before"].astype("boolean")
    was_failing = merged[f"{flag}_before"].eq(False).fillna(False)
    was_not_failing = ~was_failing  # passing before, or the row is new
    newly_failing = ~merged[flag].astype(bool) & was_not_failing
    newly_passing = merged[flag].astype(bool) & was_failing
    merged["change"] = np.where(newly_failing, "newly failing", np.where(newly_passing, "newly passing", ""))
    return merged[merged["change"] != ""]


def section_changes(panel: Panel, since: str | None = None, until: str | None = None) -> pd.DataFrame:
    """Sections that newly fail or newly pass between two periods.

    A section *newly fails* an indicator (or the per-section rule) when it
    fails in ``until`` and did not fail in ``since`` — it passed, or it did
    not exist yet (a new school or stage). It *newly passes* when it passes in
    ``until`` after failing in ``since``. Sections gone by ``until`` are not
    listed here (see :attr:`Panel.changes`).

    Parameters
    ----------
    panel : Panel
    since, until : str, optional
        Period labels; default the last two periods of the panel. With only
        ``until``, ``since`` is the period before it.

    Returns
    -------
    DataFrame
        since, until, school_id, school_name, stage, level ("indicator" or
        "section"), indicator ("" for the section verdict), name, before
        (boolean, <NA> for a new section), after, value_before, value_after
        (indicator value in its unit, or the number of indicators met),
        threshold, change ("newly failing" / "newly passing"), description.
        Empty when the panel has fewer than two periods.
    """
    columns = ["since", "until", "school_id", "school_name", "stage", "level", "indicator", "name", "before", "after",
               "value_before", "value_after", "threshold", "change", "description"]
    pair = _pair(panel, since, until)
    if pair is None:
        return pd.DataFrame(columns=columns)
    since, until = pair
    keys = ["school_id", "stage"]
    ind = panel.indicators
    ind_flips = _flips(ind[ind["period"] == since], ind[ind["period"] == until], [*keys, "indicator"], "met")
    ind_flips = ind_flips.assign(level="indicator", before=ind_flips["met_before"], after=ind_flips["met"],
                                 value_after=ind_flips["value"])
    ver = panel.verdicts.assign(value=panel.verdicts["indicators_met"].astype(float))
    ver_flips = _flips(ver[ver["period"] == since], ver[ver["period"] == until], keys, "passed")
    ver_flips = ver_flips.assign(level="section", indicator="", name="学段综合判定", before=ver_flips["passed_before"],
                                 after=ver_flips["passed"], value_after=ver_flips["value"],
                                 threshold=float(panel.standard.min_indicators_met))
    parts = [f for f in (ver_flips, ind_flips) if len(f)]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True).assign(since=since, until=until)
    frame["before"] = frame["before"].astype("boolean")
    frame["after"] = frame["after"].astype(bool)
    frame["description"] = [_flip_text(r, panel.standard.display_decimals) for r in frame.itertuples()]
    # Failures first: they are what a monthly report must act on.
    frame = frame.sort_values(["change", "stage", "school_id", "level", "indicator"], ascending=[True, True, True, False, True])
    return frame[columns].reset_index(drop=True)


def _flip_text(row: Any, decimals: int) -> str:
    who = f"{row.school_name}（{row.school_id}）{_stage_zh(row.stage)}"
    what = "由达标变为未达标" if row.change == "newly failing" else "由未达标变为达标"
    if pd.isna(row.before):
        # New school, new stage, or a teaching point newly over 50 pupils.
        what = "为新纳入计算的学段，未达标"
    if row.level == "section":
        return f"{who}学段综合判定{what}（达标指标{_fmt(row.value_before, 0)}→{_fmt(row.value_after, 0)}项）"
    return (f"{who}{row.indicator}{row.name}{what}（{_fmt(row.value_before, decimals)}→{_fmt(row.value_after, decimals)}，"
            f"标准{_fmt(row.threshold, decimals)}）")


# -- projection and progress --------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """A least-squares straight line through a dated series.

    Attributes
    ----------
    origin : pandas.Timestamp
        Date of x = 0 (the first observation).
    intercept : float
        Fitted value at ``origin`` (the series' unit).
    slope_per_day : float
        Change per day (the series' unit per day).
    points : int
        Observations used.
    """

    origin: pd.Timestamp
    intercept: float
    slope_per_day: float
    points: int

    @property
    def slope_per_year(self) -> float:
        """Change per year of 365.25 days."""
        return self.slope_per_day * DAYS_PER_YEAR

    def at(self, when: pd.Timestamp) -> float:
        """Fitted value on date ``when``."""
        return self.intercept + self.slope_per_day * (pd.Timestamp(when) - self.origin).days

    def reaches(self, target: float) -> pd.Timestamp | None:
        """Date on which the line crosses ``target`` (``None`` if it is flat)."""
        if self.slope_per_day == 0:
            return None
        days = (target - self.intercept) / self.slope_per_day
        # A nearly flat line crosses centuries away, beyond what a date can
        # hold and beyond any meaning for a plan: report no date.
        if abs(days) > MAX_REACH_DAYS:
            return None
        return (self.origin + pd.Timedelta(days=days)).normalize()


def linear_projection(dates: Sequence[Any], values: Sequence[float]) -> Projection | None:
    """Fit ``value = a + b × days`` by least squares.

    Parameters
    ----------
    dates : sequence of date-like
        Observation dates (period ends); x is days since the earliest.
    values : sequence of float
        Observed values; NaN observations are ignored.

    Returns
    -------
    Projection or None
        ``None`` when fewer than two distinct dates have a value: a line
        through one point has no slope.
    """
    x_dates = pd.to_datetime(pd.Series(list(dates)))
    y = pd.Series(list(values), dtype=float)
    keep = y.notna().to_numpy()
    x_dates, y = x_dates[keep], y[keep]
    if x_dates.nunique() < 2:
        return None
    origin = x_dates.min()
    x = (x_dates - origin).dt.days.to_numpy(dtype=float)
    slope, intercept = np.polyfit(x, y.to_numpy(), 1)
    return Projection(origin=origin, intercept=float(intercept), slope_per_day=float(slope), points=int(len(y)))


def _margin(value: float, target: float, comparison: str) -> float:
    """How far ``value`` is on the good side of ``target`` (negative = missing it)."""
    return target - value if comparison == "<=" else value - target


def _status(met_now: bool, latest: float, line: Projection | None, when: pd.Timestamp | None,
            last_end: pd.Timestamp, target: float, comparison: str, tolerance: float) -> str:
    if pd.isna(latest):
        return "data missing"
    if met_now:
        return "met"
    if when is not None and when <= last_end:
        return "missed"
    if line is None:
        return "cannot project"
    if when is None:
        return "no deadline"
    margin = _margin(line.at(when), target, comparison)
    if margin >= 0:
        return "on track"
    return "at risk" if margin >= -tolerance * abs(target) else "off track"


@dataclass(frozen=True)
class _Target:
    """One tracked target and its observed series."""

    kind: str
    target_id: str
    name: str
    scope: str
    unit: str
    comparison: str
    target: float
    met_now: bool
    deadline: pd.Timestamp | None
    series: pd.DataFrame  # period, value (chronological)


def _cv_targets(panel: Panel, deadline: pd.Timestamp | None) -> list[_Target]:
    out = []
    for (stage, ind), g in _by_period(panel.balance, ["stage", "indicator"]).groupby(["stage", "indicator"], sort=False):
        last = g.iloc[-1]
        out.append(_Target("cv", f"CV-{stage}-{ind}", f"{_stage_zh(stage)}{ind}差异系数（{last['name']}）", stage, "",
                           "<=", float(last["limit"]), bool(last["passed"]), deadline,
                           g[["period"]].assign(value=g["cv"].astype(float))))
    return out


def _share_targets(panel: Panel, target: float, deadline: pd.Timestamp | None) -> list[_Target]:
    if panel.verdicts.empty:
        return []
    share = panel.verdicts.groupby(["stage", "period"], sort=False)["passed"].mean().rename("value").reset_index()
    out = []
    for stage, g in _by_period(share, ["stage"]).groupby("stage", sort=False):
        latest = float(g["value"].iloc[-1])
        out.append(_Target("section_share", f"SEC-{stage}", f"{_stage_zh(stage)}学段达标比例（校校达标）", stage,
                           "占比(0–1)", ">=", target, latest >= target, deadline, g[["period", "value"]]))
    return out


def _plan_targets(panel: Panel, deadline: pd.Timestamp | None) -> list[_Target]:
    out = []
    frame = panel.plan_targets
    if frame.empty:
        return out
    for (tid, scope), g in _by_period(frame, ["target_id", "scope"]).groupby(["target_id", "scope"], sort=False):
        last = g.iloc[-1]
        own = _date_or_none(last["deadline"], f"plan target {tid} deadline") if pd.notna(last["deadline"]) else None
        out.append(_Target("plan", str(tid), str(last["name"]), str(scope), str(last["unit"]), str(last["comparison"]),
                           float(last["requirement"]), last["status"] == "pass", own if own is not None else deadline,
                           g[["period"]].assign(value=pd.to_numeric(g["measured"], errors="coerce"))))
    return out


def _date_text(value: pd.Timestamp | None) -> str:
    return "" if value is None or pd.isna(value) else f"{value:%Y-%m-%d}"


def _progress_row(t: _Target, inspection: pd.Timestamp | None, tolerance: float) -> dict[str, Any]:
    dates = t.series["period"].map(period_end)
    line = linear_projection(dates, t.series["value"])
    latest = float(t.series["value"].iloc[-1])
    last_end = dates.iloc[-1]
    status = _status(t.met_now, latest, line, t.deadline, last_end, t.target, t.comparison, tolerance)
    at_deadline = line.at(t.deadline) if line is not None and t.deadline is not None else np.nan
    at_inspection = line.at(inspection) if line is not None and inspection is not None else np.nan
    improving = line is not None and _margin(line.slope_per_day, 0.0, t.comparison) > 0
    reach = line.reaches(t.target) if line is not None and improving and status != "met" else None
    return {
        "kind": t.kind, "target_id": t.target_id, "name": t.name, "scope": t.scope, "unit": t.unit,
        "comparison": t.comparison, "target": t.target, "periods": int(t.series["value"].notna().sum()),
        "first_period": t.series["period"].iloc[0], "latest_period": t.series["period"].iloc[-1],
        "baseline_value": float(t.series["value"].iloc[0]), "latest_value": latest,
        "margin": _margin(latest, t.target, t.comparison),
        "slope_per_year": line.slope_per_year if line is not None else np.nan,
        "deadline": _date_text(t.deadline), "projected_at_deadline": at_deadline,
        "next_inspection": _date_text(inspection), "projected_at_inspection": at_inspection,
        "reach_date": _date_text(reach), "status": status,
        "inspection_status": _status(t.met_now, latest, line, inspection, last_end, t.target, t.comparison, tolerance),
        "status_zh": STATUS_LABELS[status], "note": _progress_note(t, status, line, at_deadline),
    }


def _progress_note(t: _Target, status: str, line: Projection | None, at_deadline: float) -> str:
    if status == "cannot project":
        return f"仅有{int(t.series['value'].notna().sum())}期数据，无法做趋势外推"
    if status == "met" and line is not None and pd.notna(at_deadline) and _margin(at_deadline, t.target, t.comparison) < 0:
        # Met today but drifting the wrong way: worth a warning in the report.
        return f"目前达标，但按趋势到{_date_text(t.deadline)}将不达标（预测值{at_deadline:.3f}）"
    return ""


def progress(panel: Panel, deadline: Any = None, next_inspection: Any = None) -> pd.DataFrame:
    """Progress towards every target, with a straight-line projection.

    Targets tracked: every CV limit per stage × indicator (CV ≤ limit), the
    share of sections passing per stage (≥ the standard's
    ``monitoring.section_pass_target``, 100 %), and the plan targets of the
    evaluation module when the panel has them. Each target's observed series
    is fitted by least squares against the period end dates
    (:func:`linear_projection`) and the line is read at the deadline and at
    the next inspection.

    Parameters
    ----------
    panel : Panel
    deadline, next_inspection : date-like, optional
        Override the standard's ``monitoring.deadline`` and
        ``monitoring.next_inspection``. A plan target's own deadline wins over
        both defaults.

    Returns
    -------
    DataFrame
        One row per target: kind ("cv", "section_share", "plan"), target_id,
        name, scope (stage or plan scope), unit, comparison ("<=" / ">="),
        target, periods (observations used), first_period, latest_period,
        baseline_value, latest_value, margin (distance on the good side of
        the target, negative = missing it), slope_per_year (unit per year),
        deadline, projected_at_deadline, next_inspection,
        projected_at_inspection, reach_date (when the fitted line reaches an
        unmet target, "" if it moves away), status, inspection_status,
        status_zh, note.

        status is "met" (the latest period meets the target), "on track"
        (projection meets it by the deadline), "at risk" (misses it by less
        than ``at_risk_tolerance`` × target), "off track", "missed" (deadline
        passed, not met), "cannot project" (one observation only),
        "no deadline" or "data missing".
    """
    rules = monitoring_rules(panel.standard)
    due = _date_or_none(deadline, "deadline") if deadline is not None else rules.deadline
    inspection = _date_or_none(next_inspection, "next_inspection") if next_inspection is not None else rules.next_inspection
    targets = [*_cv_targets(panel, due), *_share_targets(panel, rules.section_pass_target, due), *_plan_targets(panel, due)]
    rows = [_progress_row(t, inspection, rules.at_risk_tolerance) for t in targets]
    columns = ["kind", "target_id", "name", "scope", "unit", "comparison", "target", "periods", "first_period",
               "latest_period", "baseline_value", "latest_value", "margin", "slope_per_year", "deadline",
               "projected_at_deadline", "next_inspection", "projected_at_inspection", "reach_date", "status",
               "inspection_status", "status_zh", "note"]
    return pd.DataFrame(rows, columns=columns)


# -- one school over time -------------------------------------------------------------------


def school_history(panel: Panel, school_id: str) -> pd.DataFrame:
    """One school's indicator values, verdicts and changes over time.

    Parameters
    ----------
    panel : Panel
    school_id : str

    Returns
    -------
    DataFrame
        One row per period × evaluated stage × indicator: period, period_end,
        school_id, school_name, school_type, stage, students, indicator, name,
        unit, value (the indicator's unit), threshold, met, value_change (since
        the school's previous period), section_passed, indicators_met,
        failed_indicators, events (the period's changes, Chinese, "；"-joined)
        and note. Periods in which the school was reported but not evaluated
        (excluded, merged into a parent campus) or in which it closed get one
        row with an empty indicator and the reason in ``note``.

    Raises
    ------
    KeyError
        The school appears in no period of the panel.
    """
    roster = panel.schools[panel.schools["school_id"] == school_id]
    changes = panel.changes[panel.changes["school_id"] == school_id]
    if roster.empty and changes.empty:
        span = f"{panel.periods[0]}–{panel.periods[-1]}" if panel.periods else "empty panel"
        raise KeyError(f"school {school_id} is in no period of the panel ({span})")
    events = changes.groupby("period")["description"].agg("；".join)
    values = _school_values(panel, school_id)
    others = _school_notes(panel, school_id, roster, changes, set(values["period"]))
    frame = pd.concat([f for f in (values, others) if len(f)], ignore_index=True)
    frame["events"] = frame["period"].map(lambda p: events.get(p, ""))
    frame["period_end"] = frame["period"].map(period_end)
    frame = frame.sort_values(["stage", "indicator"], key=_standard_order(panel.standard), kind="stable")
    frame = frame.sort_values("period_end", kind="stable")
    return frame[HISTORY_COLUMNS].reset_index(drop=True)


HISTORY_COLUMNS = [
    "period", "period_end", "school_id", "school_name", "school_type", "stage", "students", "indicator", "name",
    "unit", "value", "threshold", "met", "value_change", "section_passed", "indicators_met", "failed_indicators",
    "events", "note",
]


def _school_values(panel: Panel, school_id: str) -> pd.DataFrame:
    ind = panel.indicators[panel.indicators["school_id"] == school_id]
    if ind.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    ind = _by_period(ind, ["stage", "indicator"])
    ind["value_change"] = ind.groupby(["stage", "indicator"], sort=False)["value"].diff()
    verdicts = panel.verdicts[panel.verdicts["school_id"] == school_id][
        ["period", "stage", "passed", "indicators_met", "failed_indicators"]
    ].rename(columns={"passed": "section_passed"})
    out = ind.merge(verdicts, on=["period", "stage"], how="left")
    out["note"] = ""
    return out


def _school_notes(panel: Panel, school_id: str, roster: pd.DataFrame, changes: pd.DataFrame,
                  evaluated: set[str]) -> pd.DataFrame:
    """Rows for periods without indicator values: why the school has none."""
    rows = []
    excluded = panel.excluded[panel.excluded["school_id"] == school_id]
    names = panel.schools.set_index(["period", "school_id"])["school_name"]
    for r in roster.itertuples():
        if r.period in evaluated:
            continue
        reasons = excluded.loc[excluded["period"] == r.period, "reason"].tolist()
        if pd.notna(r.parent_school_id) and r.parent_school_id:
            parent = names.get((r.period, r.parent_school_id), r.parent_school_id)
            reasons.append(f"不计校数的分校区，并入{parent}（{r.parent_school_id}）计算")
        rows.append({"period": r.period, "school_id": school_id, "school_name": r.school_name,
                     "school_type": r.school_type, "stage": r.stages, "students": r.students, "indicator": "",
                     "note": "；".join(reasons) or "本期未参与计算"})
    for c in changes[changes["change"] == "closed"].itertuples():
        rows.append({"period": c.period, "school_id": school_id, "school_name": c.school_name,
                     "school_type": c.before, "stage": "", "students": pd.NA, "indicator": "", "note": c.description})
    return pd.DataFrame(rows, columns=[c for c in HISTORY_COLUMNS if c not in ("events", "period_end")])
