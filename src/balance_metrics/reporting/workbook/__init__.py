"""Result tables as an Excel workbook a bureau can send on.

:func:`write_workbook` writes the tables of ``balance-metrics evaluate`` (or of
the monitoring panel) as one ``.xlsx``: Chinese sheet names and headers from
:mod:`balance_metrics.reporting.labels` (``lang="en"``: the canonical English
names), units in headers, numbers at full precision displayed at the standard's
decimals, frozen header row and key columns, autofilters, failing rows and cells
filled (legend on 汇总), a print-ready 问题清单 and a 说明 sheet with the
provenance (standard, period, input files with SHA-256, package version, run
time). The file is written to a temporary name and renamed.

Modules: :mod:`.content` (what is on each sheet), :mod:`.formats` (number
formats, marks, widths), :mod:`.sheets` (openpyxl).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook

from balance_metrics.common.atomic import atomic_target
from balance_metrics.reporting.labels import PROVENANCE_LABELS
from balance_metrics.reporting.provenance import ProvenanceRecord
from balance_metrics.reporting.workbook.content import LANGS, check_lang, prepare_sheets, sheet_name
from balance_metrics.reporting.workbook.sheets import write_about, write_legend, write_table
from balance_metrics.standard.loader import DEFAULT_STANDARD, Standard, load_standard

__all__ = ["LANGS", "about_rows", "write_workbook"]

_ABOUT_FIELDS = ("standard", "chain", "period", "parameters", "data_dir", "package", "git_commit", "finished_at",
                 "duration_seconds")
_HEADINGS = {
    "zh": {"item": "项目", "value": "内容", "inputs": PROVENANCE_LABELS["inputs"], "legend": "图例",
           "display": "数值显示"},
    "en": {"item": "item", "value": "value", "inputs": "inputs", "legend": "legend", "display": "display"},
}
_INPUT_COLUMNS = ["period", "table", "file", "sheet", "rows", "sha256"]


def _display_note(lang: str, decimals: int) -> str:
    if lang == "zh":
        return (f"指标值、差异系数等按标准规定的{decimals}位小数显示，单元格内保存未经舍入的完整数值；"
                "标准值、底线和限值按标准原文显示")
    return f"indicator values and CVs are displayed with {decimals} decimals; cells keep the unrounded values"


def about_rows(record: ProvenanceRecord | Mapping[str, Any], lang: str = "zh", decimals: int = 3) -> list[tuple[str, Any]]:
    """The provenance as (label, value) rows for the 说明 sheet.

    Parameters
    ----------
    record : ProvenanceRecord or mapping
        From :meth:`balance_metrics.reporting.provenance.ProvenanceRecorder.finish`.
    lang : {"zh", "en"}
    decimals : int
        The standard's ``display_decimals``.
    """
    lang = check_lang(lang)
    data = record.to_dict() if isinstance(record, ProvenanceRecord) else dict(record)
    std, package = data["standard"], data["package"]
    values = {
        "standard": f"{std['title']}（{std['name']} v{std['version']}）",
        "chain": " → ".join(std["chain"]),
        "period": data["period"],
        "parameters": "; ".join(f"{k} = {v}" for k, v in data["parameters"].items()),
        "data_dir": data["data_dir"],
        "package": f"{package['name']} {package['version']}",
        "git_commit": (package.get("git_commit") or "—") + (" (+)" if package.get("git_dirty") else ""),
        "finished_at": data["finished_at"],
        "duration_seconds": data["duration_seconds"],
    }
    rows = [(PROVENANCE_LABELS[k] if lang == "zh" else k, values[k]) for k in _ABOUT_FIELDS]
    return [*rows, (_HEADINGS[lang]["display"], _display_note(lang, decimals))]


def write_workbook(
    path: str | os.PathLike[str],
    tables: Mapping[str, pd.DataFrame],
    *,
    lang: str = "zh",
    standard: Standard | None = None,
    provenance: ProvenanceRecord | Mapping[str, Any] | None = None,
) -> Path:
    """Write result tables as one formatted workbook, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.xlsx`` file.
    tables : mapping of str to DataFrame
        Result tables by name (:meth:`balance_metrics.Evaluation.tables`, the
        monitoring panel's tables); columns as the library names them.
    lang : {"zh", "en"}, default "zh"
        Chinese sheet names, headers with units and value labels; or the
        canonical English names (values identical, codes and True/False as in
        the CSV files).
    standard : Standard, optional
        Display decimals, indicator names and units (without it: 3 decimals,
        no indicator columns on 各校判定).
    provenance : ProvenanceRecord or mapping, optional
        Adds the 说明 sheet.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    lang = check_lang(lang)
    book = Workbook()
    book.remove(book.active)
    sheets = prepare_sheets(tables, lang, standard)
    for sheet in sheets:
        write_table(book.create_sheet(sheet.title), sheet)
    legend_on = sheet_name("summary", lang) if "summary" in tables else None
    if provenance is not None:
        about = book.create_sheet(sheet_name("about", lang))
        decimals = standard.display_decimals if standard is not None else 3
        record = provenance.to_dict() if isinstance(provenance, ProvenanceRecord) else dict(provenance)
        inputs = pd.DataFrame(record["inputs"])
        inputs = inputs[[c for c in _INPUT_COLUMNS if c in inputs.columns]]
        (files,) = prepare_sheets({"sources": inputs}, lang)
        write_about(about, about_rows(record, lang, decimals), files, _HEADINGS[lang])
        legend_on = legend_on or about.title
    if legend_on is not None:
        floor = (standard if standard is not None else load_standard(DEFAULT_STANDARD)).floor_percent
        write_legend(book[legend_on], lang, _HEADINGS[lang]["legend"], floor)
    book.properties.creator = "balance-metrics"
    target = Path(path)
    with atomic_target(target) as tmp:
        book.save(tmp)
    return target
