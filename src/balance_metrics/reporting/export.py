"""Write result tables as CSV (UTF-8 with BOM, for Excel) and one formatted XLSX workbook.

CSV files are for machines: canonical English headers (``csv_lang="en"``, the
default; the 问题清单 is always in Chinese) and raw values. The workbook is for
people: Chinese by default (:func:`balance_metrics.reporting.workbook.write_workbook`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from balance_metrics.analysis.monitoring import Panel, panel_tables
from balance_metrics.common.atomic import atomic_target, write_csv
from balance_metrics.reporting.workbook import write_workbook
from balance_metrics.reporting.workbook.content import check_lang, header
from balance_metrics.standard.loader import Standard

__all__ = ["MONITORING_WORKBOOK", "atomic_target", "csv_frame", "write_monitoring", "write_tables"]

#: File name of the monitoring workbook, beside the panel's CSV files.
MONITORING_WORKBOOK = "monitoring.xlsx"


def csv_frame(name: str, frame: pd.DataFrame, lang: str = "en", standard: Standard | None = None) -> pd.DataFrame:
    """``frame`` as written to ``<name>.csv``: canonical headers, or the workbook's Chinese headers."""
    if check_lang(lang) == "en":
        return frame
    return frame.rename(columns={c: header(name, str(c), "zh", standard) for c in frame.columns})


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    out_dir: str | Path,
    workbook: str | None = "evaluation.xlsx",
    *,
    lang: str = "zh",
    csv_lang: str = "en",
    standard: Standard | None = None,
    provenance: Any = None,
) -> list[Path]:
    """Write each table to ``<name>.csv`` and as a sheet of ``workbook``.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Result tables by name.
    out_dir : str or Path
        Destination folder (created if needed).
    workbook : str or None, default "evaluation.xlsx"
        File name of the workbook; None writes the CSV files only (a province's
        workbook of millions of formatted cells takes minutes to write).
    lang : {"zh", "en"}, default "zh"
        Language of the workbook.
    csv_lang : {"en", "zh"}, default "en"
        Headers of the CSV files: canonical English names, or the workbook's
        Chinese headers (values are the same either way).
    standard : Standard, optional
        Display decimals, indicator names and units for the workbook.
    provenance : ProvenanceRecord, optional
        The workbook's 说明 sheet.

    Returns
    -------
    list of Path
        The files written, CSVs first then the workbook.
    """
    out = Path(out_dir)
    written = []
    for name, frame in tables.items():
        written.append(write_csv(out / f"{name}.csv", csv_frame(name, frame, csv_lang, standard)))
    if workbook is not None:
        written.append(write_workbook(out / workbook, tables, lang=lang, standard=standard, provenance=provenance))
    return written


def write_monitoring(
    panel: Panel,
    out_dir: str | Path,
    *,
    standard: Standard | None = None,
    provenance: Any = None,
    lang: str = "zh",
    workbook: bool = True,
) -> list[Path]:
    """Write the monitoring panel's tables as CSV (as :func:`~balance_metrics.analysis.monitoring.write_panel`)
    and as ``monitoring.xlsx``, formatted like the evaluation workbook.

    Parameters
    ----------
    panel : Panel
        From :func:`balance_metrics.analysis.monitoring.build_panel`.
    out_dir : str or Path
        E.g. ``data/processed/monitoring``.
    standard : Standard, optional
        Defaults to the panel's standard.
    provenance : ProvenanceRecord, optional
        The workbook's 说明 sheet (inputs: every period's files).
    lang : {"zh", "en"}, default "zh"
    workbook : bool, default True
        Also write ``monitoring.xlsx`` (a province's panel is too large for a workbook: CSV only).

    Returns
    -------
    list of Path
        The CSV files, then the workbook.
    """
    std = standard if standard is not None else panel.standard
    return write_tables(panel_tables(panel), out_dir, MONITORING_WORKBOOK if workbook else None, lang=lang, standard=std,
                        provenance=provenance)
