"""The monitoring panel: every period evaluated under one standard, lined up by period.

:func:`build_panel` -> :class:`Panel` (rosters, indicators, verdicts, balance,
exclusions, school changes, plan targets, failed periods, warnings, sources).
Period discovery is :mod:`balance_metrics.contract.periods`.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, suppress
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from balance_metrics.analysis.monitoring import cache
from balance_metrics.analysis.monitoring.pieces import (
    BALANCE_COLUMNS,
    EXCLUDED_COLUMNS,
    INDICATOR_COLUMNS,
    PLAN_TARGET_COLUMNS,
    SOURCE_COLUMNS,
    VERDICT_COLUMNS,
    WARNING_COLUMNS,
    PeriodFailure,
    PeriodPieces,
    period_pieces,
)
from balance_metrics.analysis.monitoring.roster import CHANGE_COLUMNS, CHANGE_KINDS, ROSTER_COLUMNS, school_changes, stage_zh
from balance_metrics.analysis.monitoring.stacking import LongStack, stack
from balance_metrics.common.errors import PROBLEM_COLUMNS
from balance_metrics.common.results import Result, verdict_word
from balance_metrics.contract.periods import Frequency, check_period_list, find_periods, period_sort_key
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, load_standard

FAILED_COLUMNS = ["period", "folder", *PROBLEM_COLUMNS]
#: Above this many bytes of input in all, periods are evaluated in worker processes
#: by default (below it, starting the workers costs more than it saves).
PARALLEL_BYTES = 16 * 2**20
#: At most this many worker processes by default (each holds one period in memory).
MAX_JOBS = 4
#: Where workers leave each period's pieces for this process: a RAM-backed folder when there is one.
HANDOVER_ROOT = "/dev/shm"

__all__ = [
    "BALANCE_COLUMNS", "CHANGE_COLUMNS", "CHANGE_KINDS", "EXCLUDED_COLUMNS", "FAILED_COLUMNS", "INDICATOR_COLUMNS",
    "PLAN_TARGET_COLUMNS", "ROSTER_COLUMNS", "SOURCE_COLUMNS", "VERDICT_COLUMNS", "WARNING_COLUMNS", "Panel",
    "as_text", "build_panel", "by_period", "stage_zh", "standard_order",
]


# -- the panel ------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Panel(Result):
    """Every period evaluated under one standard, lined up by period.

    All tables start with a ``period`` column and are sorted chronologically;
    for periods holding many districts (``schools.district_id``) every table
    but ``failed_periods``, ``warnings`` and ``sources`` has ``district_id``
    next (``district`` scopes below then mean each district).

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

    @property
    def keys(self) -> list[str]:
        """``["district_id"]`` when the tables carry it, else ``[]``."""
        return ["district_id"] if "district_id" in self.balance.columns else []

    @property
    def district_ids(self) -> list[str]:
        """The districts of the panel, sorted (empty for a one-district panel)."""
        if not self.keys:
            return []
        return sorted(set(self._district_rows("schools")) | set(self._district_rows("balance")))

    def _district_rows(self, name: str) -> dict[str, np.ndarray]:
        """district_id -> row positions in table ``name`` (grouped once per table, kept)."""
        positions = self.__dict__.setdefault("_rows_by_district", {})
        if name not in positions:
            frame = getattr(self, name)
            keyed = "district_id" in frame.columns and len(frame)
            positions[name] = frame.groupby(frame["district_id"].astype(object), sort=False).indices if keyed else {}
        return positions[name]

    def select(self, district_id: str) -> "Panel":
        """One district's panel: its rows of every table, without ``district_id``.

        The same tables as a panel built from that district's data alone
        (the derived tables — trends, changes, progress, school history — then
        work on it unchanged); ``warnings``, ``sources`` and
        ``failed_periods`` are the period's, shared by all districts. Each
        table is grouped by district once, on the first call.

        Raises
        ------
        ValueError
            The panel holds one district (no district_id).
        KeyError
            No such district in the panel.
        """
        if not self.keys:
            raise ValueError("this panel holds one district (no district_id); nothing to select")
        if district_id not in self._district_rows("schools") and district_id not in self._district_rows("balance"):
            raise KeyError(f"no district {district_id!r} in the panel")
        empty = np.zeros(0, dtype=np.int64)

        def rows(name: str) -> pd.DataFrame:
            frame = getattr(self, name)
            if "district_id" not in frame.columns:
                return frame
            at = self._district_rows(name).get(district_id, empty)
            return frame.iloc[at].drop(columns="district_id").reset_index(drop=True)

        return replace(self, **{name: rows(name) for name in ("schools", "indicators", "verdicts", "balance", "excluded",
                                                               "changes", "plan_targets")})

    def summary(self) -> pd.DataFrame:
        """Per period [× district] × stage: sections, sections passing, CVs within the limit, largest CV."""
        keys = ["period", *self.keys, "stage"]
        columns = [*keys, "sections", "sections_passed", "indicators", "cv_passed", "max_cv"]
        if not self.periods:
            return pd.DataFrame(columns=columns)
        sections = self.verdicts.groupby(keys, sort=False)["passed"].agg(sections="size", sections_passed="sum")
        cvs = self.balance.groupby(keys, sort=False).agg(
            indicators=("passed", "size"), cv_passed=("passed", "sum"), max_cv=("cv", "max"))
        frame = sections.join(cvs, how="outer").reset_index()
        stage_rank = {s: i for i, s in enumerate(self.standard.stages)}
        frame = frame.sort_values(keys, key=lambda c: c.map(
            period_sort_key if c.name == "period" else stage_rank.get if c.name == "stage" else str))
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


class _Assembler:
    """Collects the pieces of each period in chronological order and stacks them.

    The school changes are found as each period arrives (against the previous
    one), so only the last period's stage list is kept; the indicators are
    written into the panel's columns as they arrive (:class:`.stacking.LongStack`,
    sized for ``periods`` periods).
    """

    def __init__(self, periods: int = 1) -> None:
        self.periods: list[str] = []
        self.indicators = LongStack(periods)
        self.tables: dict[str, list[pd.DataFrame]] = {name: [] for name in (
            "schools", "verdicts", "balance", "excluded", "changes", "plan_targets", "warnings",
            "sources", "failed_periods")}
        self.previous: tuple[pd.DataFrame, pd.DataFrame] | None = None  # roster, stage_students

    def add(self, pieces: PeriodPieces) -> None:
        self.periods.append(pieces.period)
        self.indicators.add(pieces.indicators)
        for name, frame in (("schools", pieces.roster), ("verdicts", pieces.verdicts),
                            ("balance", pieces.balance), ("excluded", pieces.excluded), ("warnings", pieces.warnings),
                            ("sources", pieces.sources)):
            self.tables[name].append(frame)
        if pieces.plan_targets is not None:
            self.tables["plan_targets"].append(pieces.plan_targets)
        if self.previous is not None:
            self.tables["changes"].append(school_changes(self.previous[0], pieces.roster,
                                                         self.previous[1], pieces.stage_students))
        self.previous = pieces.roster, pieces.stage_students  # not the rest: the indicators are written already

    def fail(self, failure: PeriodFailure) -> None:
        self.tables["failed_periods"].append(failure.rows())

    def panel(self, standard: Standard, plan: bool) -> Panel:
        t = self.tables
        changes = stack(t["changes"], CHANGE_COLUMNS)
        if len(changes):
            changes["students"] = changes["students"].astype("Int64")
        return Panel(
            periods=tuple(self.periods),
            standard=standard,
            schools=stack(t["schools"], ROSTER_COLUMNS),
            indicators=self.indicators.frame(),
            verdicts=stack(t["verdicts"], VERDICT_COLUMNS),
            balance=stack(t["balance"], BALANCE_COLUMNS),
            excluded=stack(t["excluded"], EXCLUDED_COLUMNS),
            changes=changes,
            plan_targets=stack(t["plan_targets"], PLAN_TARGET_COLUMNS),
            plan_targets_available=plan,
            failed_periods=stack(t["failed_periods"], FAILED_COLUMNS),
            warnings=stack(t["warnings"], WARNING_COLUMNS),
            sources=stack(t["sources"], SOURCE_COLUMNS),
        )


def default_jobs(folders: Sequence[Path]) -> int:
    """Worker processes for these period folders: 1 for small inputs (under
    :data:`PARALLEL_BYTES` in all), else one per period up to the CPUs and :data:`MAX_JOBS`."""
    size = sum(p.stat().st_size for folder in folders if folder.is_dir() for p in folder.iterdir() if p.is_file())
    if size < PARALLEL_BYTES:
        return 1
    return max(1, min(len(folders), os.cpu_count() or 1, MAX_JOBS))


def _start_method() -> BaseContext:
    """``fork`` when this process runs one thread (workers start at once, with the
    package imported, and a script needs no ``__main__`` guard); else
    ``forkserver``, since forking a process whose other threads may hold locks
    (a report batch has some) can deadlock the child."""
    if threading.active_count() == 1 and "fork" in get_all_start_methods():
        return get_context("fork")
    return get_context("forkserver")


def _evaluate_and_store(folder: str, label: str, std: Standard, plan: bool, store: str | None,
                        handover: str | None = None) -> PeriodPieces | PeriodFailure | Path:
    """:func:`period_pieces`, written to the cache file ``store`` when given.

    With ``handover`` (in a worker) the pieces are pickled to that file and its
    path returned: reading a file back costs the receiving process about half
    of what the result pipe costs for the same 110 MB (read 64 KB at a time,
    each into a fresh buffer; measured 0.35 s against 0.55 s per
    200,000-section period, and 0.3 s against 0.4 s in the worker).
    """
    pieces = period_pieces(folder, label, std, plan)
    if isinstance(pieces, PeriodFailure):
        return pieces
    if store is not None:
        cache.write(Path(store), pieces)
    if handover is None:
        return pieces
    try:
        with open(handover, "wb") as handle:
            pickle.dump(pieces, handle, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:  # a full folder (a container's /dev/shm is often 64 MB): through the pipe then
        with suppress(OSError):
            Path(handover).unlink()
        return pieces
    return Path(handover)


def _received(result: PeriodPieces | PeriodFailure | Path) -> PeriodPieces | PeriodFailure:
    """A worker's result, read back (and removed) when it was handed over as a file."""
    if not isinstance(result, Path):
        return result
    try:
        with result.open("rb") as handle:
            return pickle.load(handle)
    finally:
        result.unlink(missing_ok=True)


def _handover_folder() -> tempfile.TemporaryDirectory:
    """A private folder for the workers' pieces: under :data:`HANDOVER_ROOT` when usable, else the temp folder."""
    try:
        return tempfile.TemporaryDirectory(prefix="balance-panel-", dir=HANDOVER_ROOT)
    except OSError:
        return tempfile.TemporaryDirectory(prefix="balance-panel-")


def _pieces(folders: list[tuple[Path, str]], std: Standard, plan: bool, jobs: int,
            cache_dir: Path | None) -> Iterator[PeriodPieces | PeriodFailure]:
    """Each period's pieces in the order of ``folders``: from the cache, or evaluated
    here (``jobs`` = 1) or in ``jobs`` worker processes."""
    stores = [cache.entry(cache_dir, cache.period_key(folder, label, std, plan)) if cache_dir is not None else None
              for folder, label in folders]
    found = [cache.read(store) if store is not None else None for store in stores]
    todo = [i for i, f in enumerate(found) if f is None]
    workers = max(1, min(jobs, len(todo)))
    if workers == 1:
        for i, (folder, label) in enumerate(folders):
            yield found[i] if found[i] is not None else _evaluate_and_store(
                str(folder), label, std, plan, None if stores[i] is None else str(stores[i]))
            found[i] = None  # memory: the caller keeps what it needs
        return
    folder = _handover_folder()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_start_method())
    try:
        pending: deque[Future] = deque(
            pool.submit(_evaluate_and_store, str(folders[i][0]), folders[i][1], std, plan,
                        None if stores[i] is None else str(stores[i]), str(Path(folder.name) / f"period-{i}.pkl"))
            for i in todo)
        for i in range(len(folders)):
            if found[i] is not None:
                yield found[i]
                found[i] = None
            else:
                yield _received(pending.popleft().result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        folder.cleanup()  # after the workers stopped: nothing is left, even on an error


def build_panel(
    data_dir: str | Path,
    standard: str | Path | Standard = DEFAULT_STANDARD,
    periods: Sequence[str] | None = None,
    *,
    on_error: Literal["raise", "skip"] = "raise",
    frequency: Frequency | None = None,
    with_plan_targets: bool = True,
    jobs: int | None = None,
    cache_dir: str | Path | None = None,
) -> Panel:
    """Evaluate every period under ``data_dir`` and line the results up.

    Each period is loaded, evaluated and reduced at once to the tables the
    panel keeps (:mod:`.pieces`); its dataset is dropped before the next, so
    memory holds one period (per worker) plus the panel.

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
        Collect each period's plan targets (the standard's
        ``[plan_targets]``; national-2017 has none, so nothing more is
        evaluated); ``False`` evaluates the resource indicators only.
    jobs : int, optional
        Worker processes evaluating periods side by side (each holds one
        period in memory); 1 evaluates here. Default :func:`default_jobs`:
        1 for small inputs, else one per period up to the CPUs and
        :data:`MAX_JOBS`. The panel is the same for any value.
    cache_dir : str or Path, optional
        Folder of the per-period cache (:mod:`.cache`): a period whose files,
        standard and code are unchanged is read back, not evaluated. Default:
        no cache.

    Returns
    -------
    Panel
        For a period holding many districts (``schools.district_id``) every
        table carries ``district_id`` (second column).

    Raises
    ------
    DataValidationError
        A period's data are invalid (``on_error="raise"``); the message names
        the period and lists every problem.
    FileNotFoundError
        ``data_dir`` holds no period folder.
    ValueError
        A label is not a period, two periods end in the same month, or ``jobs`` < 1.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be 1 or more, got {jobs}")
    std = load_standard(standard)
    labels = check_period_list(list(periods) if periods is not None else find_periods(data_dir, frequency))
    if not labels:
        raise FileNotFoundError(f"no period folders (named like 2022Q4 or 2022-10) in {data_dir}")
    folders = [(Path(data_dir) / label, label) for label in labels]
    workers = jobs if jobs is not None else default_jobs([folder for folder, _ in folders])
    store = Path(cache_dir) if cache_dir is not None else None
    assembler = _Assembler(len(folders))
    with closing(_pieces(folders, std, with_plan_targets, workers, store)) as stream:  # closing: stop the workers on error
        for pieces in stream:
            if isinstance(pieces, PeriodFailure):
                if on_error == "raise":
                    raise pieces.error()
                assembler.fail(pieces)
            else:
                assembler.add(pieces)
    if store is not None:
        cache.prune(store)
    return assembler.panel(std, with_plan_targets)


# -- helpers shared by the monitoring modules -----------------------------------------


def as_text(values: Any) -> np.ndarray:
    """``str`` of each value as an object array, as an f-string writes it (a missing
    value keeps its own spelling: "nan", "None", "<NA>"); each distinct value is
    converted once."""
    values = np.asarray(values, dtype=object)
    if not len(values):
        return values
    # Missing values are left out of the factorization: it would spell them all alike.
    codes, uniques = pd.factorize(values)
    out = np.array([str(v) for v in uniques] + [""], dtype=object)[codes]
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        out[missing] = pd.Series(values[missing], dtype=object).map(str).to_numpy(object)
    return out


def period_ranks(periods: pd.Series) -> np.ndarray:
    """Chronological rank of each period label (equal ranks for labels ending in the
    same month): :func:`period_sort_key` once per distinct label, not per row."""
    codes, uniques = pd.factorize(periods, use_na_sentinel=False)
    keys = [period_sort_key(label) for label in uniques]
    rank = {key: i for i, key in enumerate(sorted(set(keys)))}
    return np.array([rank[key] for key in keys], dtype=np.int64)[codes] if len(codes) else np.zeros(0, dtype=np.int64)


def by_period(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``frame`` sorted by ``keys`` then chronologically."""
    order = period_ranks(frame["period"])
    return frame.assign(_order=order).sort_values([*keys, "_order"]).drop(columns="_order").reset_index(drop=True)


def standard_order(standard: Standard) -> Callable[[pd.Series], pd.Series]:
    """Sort key putting stages and indicators in the standard's order (R2 before R10);
    other columns (district_id) sort as they are."""
    rank = {s: i for i, s in enumerate(standard.stages)} | {ind: i for i, ind in enumerate(standard.indicator_ids)}
    # A dict map is one hash lookup per row (no Python call); unknown values first, as -1.
    return lambda column: column if column.name not in ("stage", "indicator") else column.map(rank).fillna(-1)
