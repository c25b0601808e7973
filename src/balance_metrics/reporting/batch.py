"""Render the period's report set: :func:`render_reports`.

For one period this writes, under ``<out_dir>/<period>/``::

    district.html, district.pdf, district.provenance.json
    schools/<school_id>.html, .pdf, .provenance.json
    notebooks/district.ipynb, notebooks/school_<school_id>.ipynb   (executed)
    index.html                                                     (links, verdicts)
    .batch/                     (the batch's evaluated context and font subset)

and the multi-period monitoring panel, as CSV tables and ``monitoring.xlsx``, to
``<data_dir>/../processed/monitoring/`` (``render_reports(processed_dir=...)``).

A period holding many districts (``schools.district_id``, ``districts="all"``
or ids) gets that set once per district, under ``<out_dir>/<period>/<district_id>/``,
and a province index ``<out_dir>/<period>/index.html`` ranking the districts
(:mod:`balance_metrics.reporting.province_index`).

The run evaluates the period and builds the panel once, in this process, and
hands the result to every notebook as a context file
(:func:`balance_metrics.reporting.context.write_context_cache`); it makes one
font subset for the whole batch (:mod:`balance_metrics.reporting.batch_font`).
Each report (:func:`balance_metrics.reporting.render.render_one`) is a
parameterised notebook executed in a warm kernel
(:mod:`balance_metrics.reporting.kernels`) on a process pool or a Dask cluster
(:mod:`balance_metrics.reporting.executors`). Reports whose inputs and outputs
are unchanged since the last run are skipped (:mod:`balance_metrics.reporting.rerun`).

A failing report does not stop the others: it is listed in
:attr:`ReportRun.reports` with the error, its executed notebook is kept as
``notebooks/<name>.failed.ipynb`` for debugging, and the previous good
HTML/PDF (if any) stay in place. Every file is written atomically (temp file +
rename), so an interrupted run never leaves a half-written report where a good
one was.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from balance_metrics.common.paths import child, prepare_output_folder
from balance_metrics.contract.dataset import Dataset, load_period
from balance_metrics.engine.resources import ResourceEvaluation, evaluate_resources
from balance_metrics.evaluation.evaluate import evaluate
from balance_metrics.reporting import presentation as pres
from balance_metrics.reporting import provenance
from balance_metrics.reporting.context import (
    ReportContext,
    district_context,
    inputs_key,
    load_panel,
    resolve_period,
    write_context_cache,
)
from balance_metrics.reporting.executors import EXECUTORS, Workers
from balance_metrics.reporting.export import MONITORING_WORKBOOK, write_monitoring
from balance_metrics.reporting.findings import school_ids as evaluated_school_ids
from balance_metrics.reporting.kernels import KERNEL_NAME
from balance_metrics.reporting.render import export_html, render_one
from balance_metrics.reporting.rerun import is_current, render_key
from balance_metrics.reporting.tasks import (
    FORMATS,
    NOTEBOOKS,
    REPORT_COLUMNS,
    ReportError,
    ReportTask,
    failed_row,
    notebook_dir,
)
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, load_standard

__all__ = [
    "EXECUTORS",
    "FORMATS",
    "KERNEL_NAME",
    "ReportError",
    "ReportRun",
    "ReportTask",
    "export_html",
    "notebook_dir",
    "render_one",
    "render_reports",
    "select_districts",
]


class _Default:
    """Marks a parameter left at its computed default."""

    def __repr__(self) -> str:
        return "<default>"


#: ``render_reports(processed_dir=...)`` default: ``<data_dir>/../processed/monitoring``.
_DEFAULT_PROCESSED: Any = _Default()
#: Folder (inside the period's report folder) of the batch's context and font files.
BATCH_DIR = ".batch"


# --------------------------------------------------------------------------
# The report set
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRun:
    """Result of :func:`render_reports`.

    Attributes
    ----------
    period : str
    out_dir : Path
        ``<out_dir>/<period>``.
    index : Path or None
        ``index.html``.
    reports : DataFrame
        One row per report: kind, school_id, school_name, status ("rendered",
        "failed" or "skipped": unchanged since the last run), seconds,
        execute_seconds, html_seconds, pdf_seconds, paths, error.
    seconds : float
        Wall-clock time of the whole run.
    jobs : int
        Worker processes used.
    executor : str
        "processes" or "dask".
    districts : DataFrame or None
        For a period holding many districts: the districts ranked
        (:meth:`balance_metrics.evaluation.province.ProvinceEvaluation.summary`).
    """

    period: str
    out_dir: Path
    index: Path | None
    reports: pd.DataFrame = field(repr=False)
    seconds: float
    jobs: int
    executor: str = "processes"
    districts: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        """Every report rendered or unchanged (none failed)."""
        return bool(self.reports["status"].isin(["rendered", "skipped"]).all())

    @property
    def failed(self) -> pd.DataFrame:
        """The failed reports."""
        return self.reports[~self.reports["status"].isin(["rendered", "skipped"])]

    @property
    def skipped(self) -> pd.DataFrame:
        """The reports left as they were (inputs and outputs unchanged)."""
        return self.reports[self.reports["status"] == "skipped"]

    def summary(self) -> str:
        """A few lines for the terminal (Chinese, with the errors of failed reports)."""
        done = int((self.reports["status"] == "rendered").sum())
        skipped = len(self.skipped)
        where = f"{self.jobs} 个进程" if self.executor == "processes" else f"Dask 集群，{self.jobs} 个工作进程"
        lines = [
            f"{self.period}：{done + skipped}/{len(self.reports)} 份报告就绪，本次生成 {done} 份，用时 {self.seconds:.1f} 秒（{where}）。",
        ]
        if skipped:
            lines.append(f"跳过 {skipped} 份：输入文件、参数、评估标准和程序版本均未改变，且上次生成的文件齐全（--force 可全部重新生成）。")
        if self.districts is not None:
            ready = int(self.districts["passed"].sum())
            lines.append(f"{len(self.districts)} 个区县，{ready} 个具备申报条件；区县排名见索引页。本次未生成多期监测数据（尚不支持多区县）。")
        lines.append(f"输出目录：{self.out_dir}")
        if self.index is not None:
            lines.append(f"索引页：{self.index}")
        for row in self.failed.to_dict("records"):
            who = "全区报告" if row["kind"] == "district" else f"学校报告 {row['school_id']}"
            if row["district_id"]:
                who = f"{row['district_id']} {who.replace('全区', '区县')}"
            notebook = row["paths"].get("failed_notebook", "") if isinstance(row["paths"], dict) else ""
            lines.append(f"失败：{who}：{row['error']}")
            if notebook:
                lines.append(f"  已执行的 notebook（供排查）：{notebook}")
        return "\n".join(lines)


def _formats(formats: Iterable[str] | str) -> tuple[str, ...]:
    items = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats)]
    items = [f for f in items if f]
    unknown = [f for f in items if f not in FORMATS]
    if unknown or not items:
        raise ReportError(f"unknown report format(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in items)


def _school_selection(schools: str | Sequence[str] | None, units: list[_Unit], roster: pd.DataFrame) -> dict[str, list[str]]:
    """district_id → the evaluated schools to render ("" for a one-district period)."""
    known = {unit.district_id: evaluated_school_ids(unit.res) for unit in units}
    if schools is None:
        return {}
    if isinstance(schools, str):
        schools = [schools]
    wanted = [str(s) for s in schools]
    if wanted == ["all"]:
        return known
    if wanted == ["none"]:
        return {}
    in_roster = set(roster["school_id"])
    unknown = [s for s in wanted if s not in in_roster]
    examples = [s for ids in known.values() for s in ids][:5]
    if unknown:
        raise ReportError(f"unknown school id(s) {', '.join(unknown)} in period {units[0].res.period} (e.g. {', '.join(examples)})")
    wanted = list(dict.fromkeys(wanted))
    if units[0].district_id == "":
        return {"": wanted}
    district_of = dict(zip(roster["school_id"], roster["district_id"].astype(str), strict=True))
    outside = [s for s in wanted if district_of.get(s) not in known]
    if outside:
        raise ReportError(f"school id(s) {', '.join(outside)} are not in the selected district(s) {', '.join(known)}")
    return {d: [s for s in wanted if district_of[s] == d] for d in known}


def select_districts(districts: str | Sequence[str] | None, dataset: Dataset) -> list[str]:
    """The districts to render: ``[]`` for a one-district period, else the ids asked for.

    Raises
    ------
    ReportError
        A period holding many districts without a choice; unknown ids; ids
        given for a one-district period.
    """
    wanted = [districts] if isinstance(districts, str) else list(districts or [])
    wanted = [str(d) for d in wanted]
    if not dataset.multi_district:
        if wanted and wanted != ["all"]:
            raise ReportError(
                f"period {dataset.period} holds one district (no schools.district_id column): "
                f"leave --districts out (got {', '.join(wanted)})"
            )
        return []
    known = list(dataset.districts()["district_id"])
    if not wanted:
        raise ReportError(
            f"period {dataset.period} holds {len(known)} districts (schools.district_id): choose --districts all "
            f"or district ids (e.g. {', '.join(known[:5])})"
        )
    if wanted == ["all"]:
        return known
    unknown = [d for d in wanted if d not in known]
    if unknown:
        raise ReportError(
            f"unknown district id(s) {', '.join(unknown)} in period {dataset.period} "
            f"(schools.district_id has {len(known)}: {', '.join(known[:10])}{' …' if len(known) > 10 else ''})"
        )
    return list(dict.fromkeys(wanted))


def _standard_argument(standard: str | os.PathLike[str] | Standard) -> str:
    if isinstance(standard, Standard):
        raise ReportError("pass the standard by name or TOML path: worker processes load it themselves")
    text = os.fspath(standard)
    path = Path(text)
    # A file path must survive the workers' different current directory.
    return str(path.resolve()) if path.suffix == ".toml" or path.exists() else text


def render_reports(
    period: str,
    data_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    schools: str | Sequence[str] | None = "all",
    formats: Sequence[str] | str = FORMATS,
    jobs: int | None = None,
    standard: str | os.PathLike[str] = DEFAULT_STANDARD,
    *,
    district: bool = True,
    lang: str = "zh-CN",
    progress: bool | None = None,
    notebooks: str | os.PathLike[str] | None = None,
    processed_dir: str | os.PathLike[str] | None = _DEFAULT_PROCESSED,
    executor: str = "processes",
    scheduler: str | None = None,
    force: bool = False,
    districts: str | Sequence[str] | None = None,
) -> ReportRun:
    """Render the district report and school reports of one period.

    Parameters
    ----------
    period : str
        Period label (``"2022Q4"``) or ``"latest"``.
    data_dir : str or os.PathLike
        Folder of period folders (``data/raw``).
    out_dir : str or os.PathLike
        Reports root; files go to ``<out_dir>/<period>/``.
    schools : "all", "none", None or sequence of str, default "all"
        School reports to render: every evaluated school, none, or these ids.
    formats : sequence of {"html", "pdf"} or comma-separated str
        Output formats.
    jobs : int, optional
        Worker processes; default the number of CPUs. 1 renders in this
        process (process pool only).
    standard : str or os.PathLike, default "national-2017"
        Built-in standard name or TOML file.
    district : bool, default True
        Render the district report.
    lang : str, default "zh-CN"
        Report language.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    notebooks : str or os.PathLike, optional
        Folder of the report notebooks (default :func:`notebook_dir`).
    processed_dir : str or os.PathLike or None, optional
        Where the multi-period monitoring panel is written as CSV tables and a workbook
        (:func:`balance_metrics.reporting.export.write_monitoring`). Default
        ``<data_dir>/../processed/monitoring`` (``data/processed/monitoring``
        for ``data/raw``); None writes nothing.
    executor : {"processes", "dask"}, default "processes"
        Where reports render (:class:`balance_metrics.reporting.executors.Workers`).
    scheduler : str, optional
        Address of a running Dask scheduler; without it ``executor="dask"``
        starts a ``LocalCluster`` of ``jobs`` workers.
    force : bool, default False
        Render every report, even those unchanged since the last run.
    districts : "all" or sequence of str, optional
        For a period holding many districts (``schools.district_id``; required
        there): every district, or these ids. Each district gets its report,
        its school reports and an index under ``<out_dir>/<period>/<district_id>/``,
        and ``<out_dir>/<period>/index.html`` ranks the districts. The
        monitoring panel (every district, with ``district_id``) is written as
        CSV only, and each district's reports show its own trends
        (:meth:`~balance_metrics.analysis.monitoring.Panel.select`). For a
        one-district period only ``"all"`` (or None) is accepted and changes nothing.

    Returns
    -------
    ReportRun

    Raises
    ------
    DataValidationError
        The period's data are invalid (nothing is rendered).
    StandardError
        The standard cannot be loaded.
    ReportError
        Unknown school, district, format, executor or missing notebooks; a
        period holding several districts without ``districts``; district ids
        for a one-district period.
    OutputError
        ``out_dir`` is a file, or cannot be created or written.
    FileNotFoundError
        No such data folder or period.
    """
    started = time.perf_counter()
    monitoring_record = provenance.start("monitoring", {"period": period, "data_dir": str(data_dir), "standard": str(standard)})
    wanted_formats = _formats(formats)
    if executor not in EXECUTORS:
        raise ReportError(f"unknown executor {executor!r}; choose from {', '.join(EXECUTORS)}")
    if scheduler and executor != "dask":
        raise ReportError("--scheduler needs --executor dask")
    pres.check_lang(lang)
    folder = Path(data_dir).resolve()
    label = resolve_period(folder, period)
    standard_arg = _standard_argument(standard)
    std = load_standard(standard_arg)
    # Validate and evaluate here, once: invalid data stop the run before any
    # worker starts, and the index needs every school's verdict.
    dataset = load_period(folder / label)
    district_ids = select_districts(districts, dataset)
    nb_dir = Path(notebooks).resolve() if notebooks is not None else notebook_dir()
    out = prepare_output_folder(Path(out_dir) / label)
    common = dict(label=label, data_dir=str(folder), standard=standard_arg, formats=wanted_formats, lang=lang)
    if district_ids:
        # A period holding many districts: evaluated once for all of them, one
        # report set per district under <period>/<district_id>/.
        province = evaluate(dataset, std, district=district_ids)
        names = province.names
        units = [_Unit(d, str(names.get(d, "") or ""), prepare_output_folder(child(out, d)), province.whole.district_resources(d))
                 for d in district_ids]  # fmt: skip
    else:
        province = None
        units = [_Unit("", "", out, evaluate_resources(dataset, std))]
    selected = _school_selection(schools, units, dataset.schools)
    tasks = [t for unit in units for t in _tasks(dataset.schools, selected.get(unit.district_id, []), district, nb_dir,
                                                   unit=unit, **common)]  # fmt: skip
    if not tasks:
        raise ReportError("nothing to render: no district report and no school selected")
    key = inputs_key(folder, label, std)
    tasks = [replace(t, render_key=render_key(t, key)) for t in tasks]
    todo = tasks if force else [t for t in tasks if not is_current(t)]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    if processed_dir is _DEFAULT_PROCESSED:
        processed_dir = folder.parent / "processed" / "monitoring"
    font = None
    # Workers (and their kernels) start now and warm up while this process evaluates.
    # Nothing to render: no workers at all (a rerun with nothing changed stays quick).
    with (Workers(executor, workers, scheduler, warm=nb_dir) if todo else Workers()) as pool:
        panel = None
        # A province's panel is written as CSV only (far too many rows for a workbook).
        marker = MONITORING_WORKBOOK if province is None else "balance.csv"
        written = Path(processed_dir) / marker if processed_dir is not None else None
        if todo or (written is not None and not written.is_file()):
            # Evaluate and build the multi-period panel once; every report reads them from the context file
            # (for a province: each district's rows, Panel.select).
            panel = load_panel(folder, label, std)
            if processed_dir is not None:
                record = monitoring_record.finish_sources(f"{panel.periods[0]}–{panel.periods[-1]}", folder, panel.sources, std)
                write_monitoring(panel, Path(processed_dir).resolve(), standard=std, provenance=record, workbook=province is None)
        if todo:
            contexts = _contexts(dataset, std, folder, label, lang, panel, province, {t.district_id for t in todo})
            caches = {d: write_context_cache(ctx, child(_unit_out(units, d), BATCH_DIR)) for d, ctx in contexts.items()}
            from balance_metrics.reporting.batch_font import batch_font

            # From the context(s), the code and the notebooks only, not from the
            # school selection: a report renders to the same bytes alone or in a batch.
            font = batch_font(list(contexts.values()) if province is not None else contexts[""], out / BATCH_DIR,
                              notebooks=[nb_dir / name for name in NOTEBOOKS.values()])  # fmt: skip
            todo = [replace(t, context_cache=str(caches[t.district_id][0]), context_sha256=caches[t.district_id][1],
                            font_file=str(font.path)) for t in todo]  # fmt: skip
        rows = pool.run(todo, render_one, progress)
    rendered = {_task_key(t) for t in todo}
    rows += [_skipped_row(t) for t in tasks if _task_key(t) not in rendered]
    order = {_task_key(t): i for i, t in enumerate(tasks)}
    reports = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    reports = reports.assign(_o=[order[k] for k in zip(reports["district_id"], reports["kind"], reports["school_id"], strict=True)])
    reports = reports.sort_values("_o").drop(columns="_o").reset_index(drop=True)
    from balance_metrics.reporting.index_page import write_index

    indexes = [write_index(unit.out, unit.res, reports[reports["district_id"] == unit.district_id], standard=std, font=font)
               for unit in units]  # fmt: skip
    index = indexes[0]
    if province is not None:
        from balance_metrics.reporting.province_index import write_province_index

        index = write_province_index(out, province, reports, standard=std, font=font)
    return ReportRun(period=label, out_dir=out, index=index, reports=reports, seconds=round(time.perf_counter() - started, 2),
                     jobs=workers, executor=executor, districts=province.summary() if province is not None else None)  # fmt: skip


@dataclass(frozen=True)
class _Unit:
    """One district's report set: its id and name (empty: a one-district period), folder and results."""

    district_id: str
    district_name: str
    out: Path
    res: ResourceEvaluation = field(repr=False)


def _unit_out(units: list[_Unit], district_id: str) -> Path:
    return next(u.out for u in units if u.district_id == district_id)


def _task_key(task: ReportTask) -> tuple[str, str, str]:
    return (task.district_id, task.kind, task.school_id)


def _contexts(dataset: Dataset, std: Standard, folder: Path, label: str, lang: str, panel: Any, province: Any,
              district_ids: set[str]) -> dict[str, ReportContext]:  # fmt: skip
    """The context of each district with something to render ("" for a one-district period)."""
    if province is None:
        evaluation = evaluate(dataset, std)
        return {"": ReportContext(period=label, data_dir=folder, dataset=dataset, standard=std,
                                  resources=evaluation.resources, evaluation=evaluation, panel=panel, lang=lang)}  # fmt: skip
    return {d: replace(district_context(dataset, std, folder, d, lang=lang, evaluation=province),
                       panel=panel.select(d) if panel is not None else None) for d in sorted(district_ids)}


def _tasks(roster: pd.DataFrame, selected: list[str], district: bool, nb_dir: Path, *, unit: _Unit, label: str,
           **common: Any) -> list[ReportTask]:  # fmt: skip
    names = dict(zip(roster["school_id"], roster["school_name"], strict=True))
    where = {"out_dir": str(unit.out), "district_id": unit.district_id, "district_name": unit.district_name}
    tasks = []
    if district:
        tasks.append(ReportTask(kind="district", period=label, school_id="", school_name="",
                                notebook=str(nb_dir / NOTEBOOKS["district"]), **where, **common))  # fmt: skip
    tasks += [
        ReportTask(kind="school", period=label, school_id=sid, school_name=str(names.get(sid, sid)),
                   notebook=str(nb_dir / NOTEBOOKS["school"]), **where, **common)  # fmt: skip
        for sid in selected
    ]
    return tasks


def _skipped_row(task: ReportTask) -> dict[str, Any]:
    row = failed_row(task, "", status="skipped")
    row["paths"] = {what: str(task.path(what)) for what in (*task.formats, "notebook", "provenance")}
    return row
