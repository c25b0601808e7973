"""Parse a whole column of text cells at once (the fast path of :func:`~balance_metrics.contract.cells.parse_cell`).

Plain cells — ASCII digits (with one decimal point for amounts), known category
codes and labels, yes/no words, ids and texts — are parsed with whole-column
string operations; every other cell (thousands separators, full-width digits,
exponents, placeholders, errors …) goes through :func:`parse_cell` one by one,
so the rules and messages are exactly those of the cell parser.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from balance_metrics.contract.cells import parse_cell
from balance_metrics.contract.schema import BOOLEANS, MAX_AMOUNT, MAX_COUNT, Column

_COUNT = r"[0-9]{1,15}"
_AMOUNT = r"[0-9]{1,15}(?:\.[0-9]+)?"


def parse_column(col: Column, texts: list[str], known_bad: dict[int, str] | None = None) -> tuple[list[object], dict[int, str]]:
    """Parse every cell of one column.

    Parameters
    ----------
    col : Column
    texts : list of str
        The cells, one per record.
    known_bad : dict, optional
        Record -> rule already broken when reading (the cell gets no value).

    Returns
    -------
    (list, dict)
        The values (``None`` where empty or broken) and record -> rule broken,
        records ascending.
    """
    known_bad = known_bad or {}
    raw = pd.Series(texts, dtype=object)
    stripped = raw.str.strip()
    values = pd.Series(None, index=raw.index, dtype=object)
    fast = pd.Series(False, index=raw.index)
    empty = (stripped == "").to_numpy(bool)
    kind = col.kind
    if kind in ("id", "text"):
        fast = ~empty
        values[fast] = stripped[fast]
    elif kind == "bool":
        mapped = stripped.str.lower().map(BOOLEANS)
        fast = mapped.notna().to_numpy(bool)
        values[fast] = mapped[fast].astype(bool)
    elif kind == "category":
        choices = {label: code for code, label in (col.choices or {}).items()} | {code: code for code in (col.choices or {})}
        mapped = stripped.map(choices)
        fast = mapped.notna().to_numpy(bool)
        values[fast] = mapped[fast]
    elif kind in ("count", "amount"):
        pattern = _COUNT if kind == "count" else _AMOUNT
        fast = stripped.str.fullmatch(pattern, na=False).to_numpy(bool).copy()
        if fast.any():
            numbers = stripped[fast].astype("int64" if kind == "count" else float)
            within = (numbers <= (MAX_COUNT if kind == "count" else MAX_AMOUNT)).to_numpy(bool)
            index = np.flatnonzero(fast)
            fast[index[~within]] = False
            values.iloc[index[within]] = numbers[within].to_numpy(object) if kind == "amount" else [int(v) for v in numbers[within]]
    fast = np.asarray(fast, dtype=bool)
    optional_empty = empty & (not col.required)
    slow = np.flatnonzero(~fast & ~optional_empty)
    problems: dict[int, str] = {}
    for record in slow:  # cells outside the plain forms only
        record = int(record)
        rule = known_bad.get(record)
        value = None
        if rule is None:
            value, rule = parse_cell(col, texts[record])
        values.iat[record] = value
        if rule is not None:
            problems[record] = rule
    for record, rule in known_bad.items():  # a cell broken when reading has no value
        if record not in problems:
            values.iat[record] = None
            problems[record] = rule
    return values.tolist(), dict(sorted(problems.items()))
