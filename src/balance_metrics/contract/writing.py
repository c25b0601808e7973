"""Write a period's tables back as a period folder in the data contract.

Used for derived periods (a plan's or scenario's "after" data): every table of
the dataset becomes ``<table>.csv`` with the canonical English headers, so
that :func:`~balance_metrics.contract.dataset.load_period` reads it back to
the same values. Files are written to a temporary name and renamed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from balance_metrics.common.atomic import atomic_write_text
from balance_metrics.contract.schema import TABLES


def _cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        # Contract amounts have at most 2 decimals; rounding at 6 only drops float noise.
        return repr(round(float(value), 6)).removesuffix(".0")
    return str(value)


def write_period(tables: Mapping[str, pd.DataFrame], folder: str | Path, note: str = "") -> list[Path]:
    """Write ``tables`` (canonical columns, as in :attr:`Dataset.tables`) to ``folder``.

    Parameters
    ----------
    tables : mapping of table name -> DataFrame
        Bookkeeping columns (``_source``, ``_row``) are left out.
    folder : path
        The period folder, named by its period label (e.g. ``…/2022Q4``).
    note : str
        A ``#`` comment line written above each header (where the data came from).

    Returns
    -------
    list of Path
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        columns = [c for c in (TABLES[name].names if name in TABLES else frame.columns) if c in frame.columns]
        lines = [f"# {note}"] if note else []
        lines.append(",".join(columns))
        for record in frame[columns].itertuples(index=False):
            lines.append(",".join(_csv_field(_cell(v)) for v in record))
        path = folder / f"{name}.csv"
        atomic_write_text(path, "\n".join(lines) + "\n")
        written.append(path)
    return written


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
