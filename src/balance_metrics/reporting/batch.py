"""Render the period's report set: :func:`render_reports`.

For one period this writes, under ``<out_dir>/<period>/``::

    district.html, district.pdf, district.provenance.json
    schools/<school_id>.html, .pdf, .provenance.json
    notebooks/district.ipynb, notebooks/school_<school_id>.ipynb   (executed)
    index.html                                                     (links, verdicts)

and the multi-period monitoring panel, as CSV tables, to
``<data_dir>/../processed/monitoring/`` (``render_reports(processed_dir=...)``).

Each report is a parameterised notebook (``notebooks/district_report.ipynb``,
``notebooks/school_report.ipynb``) executed in-process with papermill's Python
API, converted to HTML with nbconvert (code, prompts and bookkeeping cells
hidden) and to PDF with :func:`balance_metrics.pdf.render_pdf_bytes`.

Reports run in a process pool. A failing report does not stop the others: it
is listed in :attr:`ReportRun.reports` with the error, its executed notebook
is kept as ``notebooks/<name>.failed.ipynb`` for debugging, and the previous
good HTML/PDF (if any) stay in place. Every file is written atomically (temp
file + rename), so an interrupted run never leaves a half-written report where
a good one was.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from balance_metrics.reporting import presentation as pres
from balance_metrics.common.atomic import atomic_write_bytes, atomic_write_text
from balance_metrics.common.paths import child, prepare_output_folder
from balance_metrics.contract.dataset import load_period
from balance_metrics.reporting.findings import school_ids as evaluated_school_ids
from balance_metrics.analysis.monitoring import write_panel
from balance_metrics.reporting.provenance import read_sidecar, write_sidecar
from balance_metrics.reporting.context import load_panel, resolve_period
from balance_metrics.engine.resources import ResourceEvaluation, evaluate_resources
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, load_standard

__all__ = [
    "FORMATS",
    "KERNEL_NAME",
    "ReportError",
    "ReportRun",
    "ReportTask",
    "export_html",
    "notebook_dir",
    "render_one",
    "render_reports",
]


class _Default:
    """Marks a parameter left at its computed default."""

    def __repr__(self) -> str:
        return "<default>"


#: ``render_reports(processed_dir=...)`` default: ``<data_dir>/../processed/monitoring``.
_DEFAULT_PROCESSED: Any = _Default()

#: Output formats.
FORMATS: tuple[str, ...] = ("html", "pdf")
#: Jupyter kernel the notebooks run in (``python -m ipykernel install --sys-prefix --name python3``).
KERNEL_NAME = "python3"
#: Cells with these tags are not shown in the HTML/PDF reports.
HIDDEN_TAGS: tuple[str, ...] = ("parameters", "injected-parameters", "report-hide")
_NOTEBOOKS = {"district": "district_report.ipynb", "school": "school_report.ipynb"}
_NOTEBOOK_ENV = "BALANCE_METRICS_NOTEBOOKS"
_KERNEL_START_TIMEOUT_S = 120
_CELL_TIMEOUT_S = 600
REPORT_COLUMNS = [
    "kind", "school_id", "school_name", "status", "seconds", "execute_seconds", "html_seconds", "pdf_seconds",
    "paths", "error",
]  # fmt: skip


class ReportError(ValueError):
    """Invalid report request: unknown school, format or notebook folder."""


def notebook_dir() -> Path:
    """Folder holding the report notebooks.

    ``$BALANCE_METRICS_NOTEBOOKS`` if set, else ``notebooks/`` of the
    checkout this package is installed from (editable install).

    Raises
    ------
    ReportError
        If the notebooks are not there.
    """
    override = os.environ.get(_NOTEBOOK_ENV)
    folder = Path(override) if override else Path(__file__).resolve().parents[3] / "notebooks"
    missing = [name for name in _NOTEBOOKS.values() if not (folder / name).is_file()]
    if missing:
        raise ReportError(
            f"report notebooks not found in {folder} (missing {', '.join(missing)}); "
            f"set {_NOTEBOOK_ENV} to the folder holding them"
        )
    return folder


# --------------------------------------------------------------------------
# One report
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportTask:
    """Everything a worker process needs to render one report.

    All paths are absolute, so the worker does not depend on its current
    directory.
    """

    kind: str
    period: str
    school_id: str
    school_name: str
    data_dir: str
    standard: str
    out_dir: str
    formats: tuple[str, ...]
    notebook: str
    lang: str = "zh-CN"

    @property
    def stem(self) -> str:
        """``district`` or ``school_<id>`` (executed notebook name)."""
        return "district" if self.kind == "district" else f"school_{self.school_id}"

    def path(self, what: str) -> Path:
        """Output path of ``what`` ∈ html, pdf, provenance, notebook, failed_notebook."""
        out = Path(self.out_dir)
        # Names are appended, never swapped in with with_suffix (an id "X.1" keeps its ".1"),
        # and child() refuses a name that would leave its folder.
        folder, name = (out, "district") if self.kind == "district" else (out / "schools", self.school_id)
        return {
            "html": child(folder, f"{name}.html"),
            "pdf": child(folder, f"{name}.pdf"),
            "provenance": child(folder, f"{name}.provenance.json"),
            "notebook": child(out / "notebooks", f"{self.stem}.ipynb"),
            "failed_notebook": child(out / "notebooks", f"{self.stem}.failed.ipynb"),
        }[what]

    @property
    def title(self) -> str:
        who = "全区" if self.kind == "district" else f"{self.school_name}（{self.school_id}）"
        return f"义务教育优质均衡发展监测报告 · {who} · {self.period}"

    def parameters(self, provenance_out: str) -> dict[str, Any]:
        params: dict[str, Any] = {"period": self.period, "standard": self.standard, "data_dir": self.data_dir, "lang": self.lang}
        if self.kind == "school":
            params["school_id"] = self.school_id
        params["provenance_out"] = provenance_out
        return params


def _normalise_cells(nb: Any) -> Any:
    """Deterministic cell ids, no stderr streams.

    papermill gives its injected-parameters cell a random id, which nbconvert
    writes into the HTML; warnings printed to stderr are for the executed
    notebook (kept for debugging), not for the report.
    """
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:03d}"
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", []) if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    return nb


def export_html(nb: Any, *, title: str, lang: str = "zh-CN") -> str:
    """Convert an executed report notebook to a complete HTML document.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (modified: cell ids normalised).
    title : str
        Document title.
    lang : str, default "zh-CN"

    Returns
    -------
    str
        HTML without code, prompts or the cells tagged :data:`HIDDEN_TAGS`;
        no fonts embedded yet.

    Raises
    ------
    RuntimeError
        If the notebook holds an error output (a report never shows a traceback).
    """
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    errors = [
        f"{o.get('ename')}: {o.get('evalue')}"
        for cell in nb.cells
        if cell.get("cell_type") == "code"
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    if errors:
        raise RuntimeError("notebook has error output: " + "; ".join(errors))
    _normalise_cells(nb)
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        anchor_link_text="",
    )
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=set(HIDDEN_TAGS)), enabled=True)
    body, _resources = exporter.from_notebook_node(nb)
    return pres.html_document(body, title=title, lang=lang)


def _execute(task: ReportTask, staging: Path, provenance_tmp: Path) -> None:
    import papermill

    papermill.execute_notebook(
        task.notebook,
        str(staging),
        parameters=task.parameters(str(provenance_tmp)),
        kernel_name=KERNEL_NAME,
        cwd=str(Path(task.notebook).parent),
        progress_bar=False,
        log_output=False,
        start_timeout=_KERNEL_START_TIMEOUT_S,
        execution_timeout=_CELL_TIMEOUT_S,
        # The kernel warns on stderr that its local TCP sockets are not
        # encrypted; with dozens of kernels that buries the progress bar.
        extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
    )


def _error_text(error: BaseException) -> str:
    """One readable message; papermill errors carry the cell's exception."""
    ename = getattr(error, "ename", None)
    evalue = getattr(error, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return f"{type(error).__name__}: {error}"


def render_one(task: ReportTask) -> dict[str, Any]:
    """Render one report; never raises for a report failure.

    Parameters
    ----------
    task : ReportTask

    Returns
    -------
    dict
        One row of :attr:`ReportRun.reports`: kind, school_id, school_name,
        status ("ok" or "failed"), seconds, execute_seconds, html_seconds,
        pdf_seconds, paths (dict: what → path of the files written), error.
    """
    import nbformat

    from balance_metrics.reporting.pdf import inject_font_css, render_pdf_bytes

    started = time.perf_counter()
    row: dict[str, Any] = {
        "kind": task.kind, "school_id": task.school_id, "school_name": task.school_name, "status": "failed",
        "seconds": 0.0, "execute_seconds": 0.0, "html_seconds": 0.0, "pdf_seconds": 0.0, "paths": {}, "error": "",
    }  # fmt: skip
    notebook_path = task.path("notebook")
    notebook_path.parent.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    staging = notebook_path.with_name(f".{task.stem}.{tag}.running.ipynb")
    provenance_tmp = Path(task.out_dir) / f".{task.stem}.{tag}.provenance.json"
    try:
        try:
            _execute(task, staging, provenance_tmp)
        finally:
            row["execute_seconds"] = round(time.perf_counter() - started, 2)
        clock = time.perf_counter()
        nb = nbformat.read(staging, as_version=4)
        document = export_html(nb, title=task.title, lang=task.lang)
        html = inject_font_css(document) if "html" in task.formats else None
        row["html_seconds"] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()
        pdf = render_pdf_bytes(document, base_url=task.out_dir) if "pdf" in task.formats else None
        row["pdf_seconds"] = round(time.perf_counter() - clock, 2)
        record = read_sidecar(provenance_tmp)
        # Everything is rendered in memory first: the files below are then
        # replaced one after the other, each atomically.
        paths: dict[str, str] = {}
        if html is not None:
            paths["html"] = str(atomic_write_text(task.path("html"), html))
        if pdf is not None:
            paths["pdf"] = str(atomic_write_bytes(task.path("pdf"), pdf))
        os.replace(staging, notebook_path)
        paths["notebook"] = str(notebook_path)
        task.path("failed_notebook").unlink(missing_ok=True)
        record.setdefault("extra", {})
        record["extra"]["outputs"] = {k: os.path.relpath(v, task.out_dir) for k, v in paths.items()}
        record["extra"]["timings_seconds"] = {
            k: row[f"{k}_seconds"] for k in ("execute", "html", "pdf")
        }
        paths["provenance"] = str(write_sidecar(record, task.path("provenance")))
        row["paths"] = paths
        row["status"] = "ok"
    except Exception as error:  # noqa: BLE001 - one failing report must not stop the others
        row["error"] = _error_text(error)
        if not getattr(error, "ename", None) and os.environ.get("BALANCE_METRICS_DEBUG"):
            row["error"] += "\n" + traceback.format_exc()
        if staging.exists():
            os.replace(staging, task.path("failed_notebook"))
            row["paths"] = {"failed_notebook": str(task.path("failed_notebook"))}
    finally:
        staging.unlink(missing_ok=True)
        provenance_tmp.unlink(missing_ok=True)
        row["seconds"] = round(time.perf_counter() - started, 2)
    return row


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
        One row per report: kind, school_id, school_name, status, seconds,
        execute_seconds, html_seconds, pdf_seconds, paths, error.
    seconds : float
        Wall-clock time of the whole run.
    jobs : int
        Worker processes used.
    """

    period: str
    out_dir: Path
    index: Path | None
    reports: pd.DataFrame = field(repr=False)
    seconds: float
    jobs: int

    @property
    def ok(self) -> bool:
        """Every report rendered."""
        return bool((self.reports["status"] == "ok").all())

    @property
    def failed(self) -> pd.DataFrame:
        """The failed reports."""
        return self.reports[self.reports["status"] != "ok"]

    def summary(self) -> str:
        """A few lines for the terminal (Chinese, with the errors of failed reports)."""
        done = int((self.reports["status"] == "ok").sum())
        lines = [
            f"{self.period}：{done}/{len(self.reports)} 份报告生成成功，用时 {self.seconds:.1f} 秒（{self.jobs} 个进程）。",
            f"输出目录：{self.out_dir}",
        ]
        if self.index is not None:
            lines.append(f"索引页：{self.index}")
        for row in self.failed.to_dict("records"):
            who = "全区报告" if row["kind"] == "district" else f"学校报告 {row['school_id']}"
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


def _school_selection(schools: str | Sequence[str] | None, res: ResourceEvaluation, roster: pd.DataFrame) -> list[str]:
    known = evaluated_school_ids(res)
    if schools is None:
        return []
    if isinstance(schools, str):
        schools = [schools]
    wanted = [str(s) for s in schools]
    if wanted == ["all"]:
        return known
    if wanted == ["none"]:
        return []
    in_roster = set(roster["school_id"])
    unknown = [s for s in wanted if s not in in_roster]
    if unknown:
        raise ReportError(f"unknown school id(s) {', '.join(unknown)} in period {res.period} (e.g. {', '.join(known[:5])})")
    return list(dict.fromkeys(wanted))


def _standard_argument(standard: str | os.PathLike[str] | Standard) -> str:
    if isinstance(standard, Standard):
        raise ReportError("pass the standard by name or TOML path: worker processes load it themselves")
    text = os.fspath(standard)
    path = Path(text)
    # A file path must survive the workers' different current directory.
    return str(path.resolve()) if path.suffix == ".toml" or path.exists() else text


def _run_tasks(tasks: list[ReportTask], jobs: int, progress: bool | None, runner: Callable[[ReportTask], dict[str, Any]]) -> list[dict[str, Any]]:
    from tqdm.auto import tqdm

    rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(tasks), desc="生成报告", unit="份", disable=progress is False if progress is not None else None, file=sys.stderr)
    try:
        if jobs == 1:
            for task in tasks:
                rows.append(runner(task))
                bar.update()
            return rows
        # "spawn": workers start clean instead of inheriting the parent's
        # threads (tqdm's monitor) and open files through fork.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {pool.submit(runner, task): task for task in tasks}
            try:
                for future in as_completed(futures):
                    task = futures[future]
                    try:
                        rows.append(future.result())
                    except Exception as error:  # noqa: BLE001 - a crashed worker fails its report only
                        rows.append(
                            {
                                "kind": task.kind, "school_id": task.school_id, "school_name": task.school_name,
                                "status": "failed", "seconds": 0.0, "execute_seconds": 0.0, "html_seconds": 0.0,
                                "pdf_seconds": 0.0, "paths": {}, "error": _error_text(error),
                            }
                        )  # fmt: skip
                    bar.update()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        return rows
    finally:
        bar.close()


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
        process.
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
        Where the multi-period monitoring panel is written as CSV tables
        (:func:`balance_metrics.monitoring.write_panel`). Default
        ``<data_dir>/../processed/monitoring`` (``data/processed/monitoring``
        for ``data/raw``); None writes nothing.

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
        Unknown school, format or missing notebooks.
    OutputError
        ``out_dir`` is a file, or cannot be created or written.
    FileNotFoundError
        No such data folder or period.
    """
    started = time.perf_counter()
    wanted_formats = _formats(formats)
    pres.check_lang(lang)
    folder = Path(data_dir).resolve()
    label = resolve_period(folder, period)
    standard_arg = _standard_argument(standard)
    std = load_standard(standard_arg)
    # Validate and evaluate here, once: invalid data stop the run before any
    # worker starts, and the index needs every school's verdict.
    dataset = load_period(folder / label)
    res = evaluate_resources(dataset, std)
    selected = _school_selection(schools, res, dataset.schools)
    nb_dir = Path(notebooks).resolve() if notebooks is not None else notebook_dir()
    out = prepare_output_folder(Path(out_dir) / label)
    names = dict(zip(dataset.schools["school_id"], dataset.schools["school_name"], strict=True))
    common = {"period": label, "data_dir": str(folder), "standard": standard_arg, "out_dir": str(out), "formats": wanted_formats, "lang": lang}
    tasks = []
    if district:
        tasks.append(ReportTask(kind="district", school_id="", school_name="", notebook=str(nb_dir / _NOTEBOOKS["district"]), **common))
    tasks += [
        ReportTask(kind="school", school_id=sid, school_name=str(names.get(sid, sid)), notebook=str(nb_dir / _NOTEBOOKS["school"]), **common)
        for sid in selected
    ]
    if not tasks:
        raise ReportError("nothing to render: no district report and no school selected")
    workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
    # Build the multi-period panel once; every report then reads it from the cache.
    panel = load_panel(folder, label, std)
    if processed_dir is _DEFAULT_PROCESSED:
        processed_dir = folder.parent / "processed" / "monitoring"
    if processed_dir is not None:
        write_panel(panel, Path(processed_dir).resolve())
    rows = _run_tasks(tasks, workers, progress, render_one)
    order = {(t.kind, t.school_id): i for i, t in enumerate(tasks)}
    reports = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    reports = reports.assign(_o=[order[(k, s)] for k, s in zip(reports["kind"], reports["school_id"], strict=True)])
    reports = reports.sort_values("_o").drop(columns="_o").reset_index(drop=True)
    from balance_metrics.reporting.index_page import write_index

    index = write_index(out, res, reports, standard=std)
    return ReportRun(period=label, out_dir=out, index=index, reports=reports, seconds=round(time.perf_counter() - started, 2), jobs=workers)
