"""Render one report: :func:`render_one` (notebook → HTML → PDF, atomic writes).

The notebook is executed in this process's warm kernel
(:func:`balance_metrics.reporting.kernels.process_kernel`), converted to HTML
with nbconvert (code, prompts and bookkeeping cells hidden) and to PDF with
:func:`balance_metrics.reporting.pdf.render_pdf_bytes`, both embedding the
batch's shared font subset. Everything is rendered in memory first, then each
file is replaced atomically; a failure leaves the previous good files in place
and keeps the executed notebook as ``notebooks/<name>.failed.ipynb``.
"""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path
from typing import Any

from balance_metrics.common.atomic import atomic_write_bytes, atomic_write_text
from balance_metrics.reporting import presentation as pres
from balance_metrics.reporting.kernels import KERNEL_NAME, process_kernel
from balance_metrics.reporting.provenance import read_sidecar, write_sidecar
from balance_metrics.reporting.tasks import HIDDEN_TAGS, ReportTask, failed_row

__all__ = ["COLD_ENV", "error_text", "export_html", "render_one"]

#: Set to 1 to execute every notebook in a fresh kernel (slower; for comparisons).
COLD_ENV = "BALANCE_METRICS_COLD_KERNELS"
_KERNEL_START_TIMEOUT_S = 120
_CELL_TIMEOUT_S = 600


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
    exporter = _exporter()
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=set(HIDDEN_TAGS)), enabled=True)
    body, _resources = exporter.from_notebook_node(nb)
    return pres.html_document(body, title=title, lang=lang)


def _exporter() -> Any:
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        anchor_link_text="",
    )


def _execute(task: ReportTask, staging: Path, provenance_tmp: Path) -> Any:
    parameters = task.parameters(str(provenance_tmp))
    if os.environ.get(COLD_ENV) == "1":
        import papermill

        return papermill.execute_notebook(
            task.notebook, str(staging), parameters=parameters, kernel_name=KERNEL_NAME,
            cwd=str(Path(task.notebook).parent), progress_bar=False, log_output=False,
            start_timeout=_KERNEL_START_TIMEOUT_S, execution_timeout=_CELL_TIMEOUT_S,
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )  # fmt: skip
    return process_kernel(Path(task.notebook).parent).execute(task.notebook, staging, parameters)


def error_text(error: BaseException) -> str:
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
        One row of :attr:`balance_metrics.reporting.batch.ReportRun.reports`:
        kind, school_id, school_name, status ("rendered" or "failed"), seconds,
        execute_seconds, html_seconds, pdf_seconds, paths (dict: what → path
        of the files written), error.
    """
    from balance_metrics.reporting.font_subsets import load_subset
    from balance_metrics.reporting.pdf import inject_font_css, render_pdf_bytes

    started = time.perf_counter()
    row = failed_row(task, "")
    notebook_path = task.path("notebook")
    notebook_path.parent.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    staging = notebook_path.with_name(f".{task.stem}.{tag}.running.ipynb")
    provenance_tmp = Path(task.out_dir) / f".{task.stem}.{tag}.provenance.json"
    try:
        try:
            nb = _execute(task, staging, provenance_tmp)
        finally:
            row["execute_seconds"] = round(time.perf_counter() - started, 2)
        clock = time.perf_counter()
        font = load_subset(task.font_file) if task.font_file else None
        document = export_html(nb, title=task.title, lang=task.lang)
        html = inject_font_css(document, font=font) if "html" in task.formats else None
        row["html_seconds"] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()
        pdf = render_pdf_bytes(document, base_url=task.out_dir, font=font) if "pdf" in task.formats else None
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
        record["extra"]["timings_seconds"] = {k: row[f"{k}_seconds"] for k in ("execute", "html", "pdf")}
        record["extra"]["render_key"] = task.render_key
        if font is not None and font.path is not None:
            record["extra"]["font_subset"] = font.path.name
        paths["provenance"] = str(write_sidecar(record, task.path("provenance")))
        row["paths"] = paths
        row["status"] = "rendered"
    except Exception as error:  # noqa: BLE001 - one failing report must not stop the others
        row["error"] = error_text(error)
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
