"""Write result tables as CSV (UTF-8 with BOM, for Excel) and one XLSX workbook."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from balance_metrics.common.atomic import atomic_target

__all__ = ["atomic_target", "write_tables"]

EXCEL_SHEET_NAME_MAX = 31


def write_tables(tables: Mapping[str, pd.DataFrame], out_dir: str | Path, workbook: str = "evaluation.xlsx") -> list[Path]:
    """Write each table to ``<name>.csv`` and as a sheet of ``workbook``.

    Returns
    -------
    list of Path
        The files written, CSVs first then the workbook.
    """
    out = Path(out_dir)
    written = []
    for name, frame in tables.items():
        with atomic_target(out / f"{name}.csv") as tmp:
            frame.to_csv(tmp, index=False, encoding="utf-8-sig")
        written.append(out / f"{name}.csv")
    with atomic_target(out / workbook) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, frame in tables.items():
                frame.to_excel(writer, sheet_name=name[:EXCEL_SHEET_NAME_MAX], index=False)
    written.append(out / workbook)
    return written
