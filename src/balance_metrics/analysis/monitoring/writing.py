"""Writing a panel and its derived tables as CSV files (UTF-8 with BOM, for Excel)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from balance_metrics.analysis.monitoring.changes import section_changes
from balance_metrics.analysis.monitoring.history import trends
from balance_metrics.analysis.monitoring.panel import Panel
from balance_metrics.analysis.monitoring.progress import progress
from balance_metrics.common.atomic import write_csv


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
    return [write_csv(out / f"{name}.csv", frame) for name, frame in tables.items()]
