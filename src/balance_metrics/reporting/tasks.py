"""One report of a batch: :class:`ReportTask`, its output paths and parameters.

A task is a small frozen value holding absolute paths and plain strings only,
so it crosses process pools and Dask clusters as is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from balance_metrics.common.paths import child

__all__ = [
    "FORMATS",
    "HIDDEN_TAGS",
    "NOTEBOOKS",
    "REPORT_COLUMNS",
    "ReportError",
    "ReportTask",
    "failed_row",
    "notebook_dir",
]

#: Output formats.
FORMATS: tuple[str, ...] = ("html", "pdf")
#: Cells with these tags are not shown in the HTML/PDF reports.
HIDDEN_TAGS: tuple[str, ...] = ("parameters", "injected-parameters", "report-hide")
#: Report kind → notebook file name.
NOTEBOOKS = {"district": "district_report.ipynb", "school": "school_report.ipynb"}
_NOTEBOOK_ENV = "BALANCE_METRICS_NOTEBOOKS"
#: Columns of :attr:`balance_metrics.reporting.batch.ReportRun.reports`.
REPORT_COLUMNS = [
    "district_id", "kind", "school_id", "school_name", "status", "seconds", "execute_seconds", "html_seconds", "pdf_seconds",
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
    missing = [name for name in NOTEBOOKS.values() if not (folder / name).is_file()]
    if missing:
        raise ReportError(
            f"report notebooks not found in {folder} (missing {', '.join(missing)}); "
            f"set {_NOTEBOOK_ENV} to the folder holding them"
        )
    return folder


@dataclass(frozen=True)
class ReportTask:
    """Everything a worker needs to render one report.

    All paths are absolute, so the worker does not depend on its current
    directory (on a Dask cluster they must name the same files on every
    machine: shared storage).

    Attributes
    ----------
    kind : {"district", "school"}
    period, school_id, school_name : str
    data_dir : str
        Folder of period folders.
    standard : str
        Standard name or absolute TOML path.
    out_dir : str
        The period's report folder.
    formats : tuple of str
    notebook : str
        Notebook to execute.
    lang : str
    context_cache, context_sha256 : str
        The batch's evaluated context (:func:`balance_metrics.reporting.context.write_context_cache`);
        empty: the notebook evaluates the period itself.
    font_file : str
        The batch's shared font subset (:func:`balance_metrics.reporting.font_subsets.batch_subset`);
        empty: each report gets a subset of its own text.
    render_key : str
        Hash of everything the report depends on (:mod:`balance_metrics.reporting.rerun`).
    district_id, district_name : str
        For a period holding many districts: the report's district (its
        reports go to ``<period>/<district_id>/``); empty for a one-district period.
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
    context_cache: str = ""
    context_sha256: str = ""
    font_file: str = ""
    render_key: str = ""
    district_id: str = ""
    district_name: str = ""

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
        district = self.district_name or self.district_id
        if self.kind == "district":
            who = district or "全区"
        else:
            who = (f"{district} · " if district else "") + f"{self.school_name}（{self.school_id}）"
        return f"义务教育优质均衡发展监测报告 · {who} · {self.period}"

    def parameters(self, provenance_out: str) -> dict[str, Any]:
        """The notebook's papermill parameters."""
        params: dict[str, Any] = {"period": self.period, "standard": self.standard, "data_dir": self.data_dir, "lang": self.lang}
        if self.kind == "school":
            params["school_id"] = self.school_id
        if self.district_id:
            params["district_id"] = self.district_id
        params["provenance_out"] = provenance_out
        if self.context_cache:
            params["context_cache"] = self.context_cache
            params["context_sha256"] = self.context_sha256
        return params


def failed_row(task: ReportTask, error: str, status: str = "failed") -> dict[str, Any]:
    """A row of the run's report table for a report that was not rendered."""
    return {
        "district_id": task.district_id, "kind": task.kind, "school_id": task.school_id, "school_name": task.school_name, "status": status,
        "seconds": 0.0, "execute_seconds": 0.0, "html_seconds": 0.0, "pdf_seconds": 0.0, "paths": {}, "error": error,
    }  # fmt: skip
