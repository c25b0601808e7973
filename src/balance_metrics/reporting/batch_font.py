"""The one font subset a batch of reports shares: :func:`batch_font`.

Every character a report shows comes from one of three places: the library's
own wording (source code, standard data, stylesheet, the notebooks' headings),
the standard in use, or the input data (names, codes, notes, file names and
the values quoted by data warnings). The union of the characters of all three
is therefore a superset of what any report of the batch can show, and it does
not depend on which reports are selected, so a report renders to the same
bytes whether it is rendered alone or in a batch. A report that shows a
character outside the set anyway (it should not happen) gets a subset of its
own text instead (:func:`balance_metrics.reporting.pdf.inject_font_css`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from balance_metrics.reporting.font_subsets import FontSubset, batch_subset

__all__ = ["batch_characters", "batch_font"]

_PACKAGE = Path(__file__).resolve().parents[1]
_SOURCE_SUFFIXES = (".py", ".toml", ".css")
_MAX_DEPTH = 8


def _source_characters() -> set[str]:
    chars: set[str] = set()
    for path in sorted(p for p in _PACKAGE.rglob("*") if p.suffix in _SOURCE_SUFFIXES):
        chars.update(path.read_text(encoding="utf-8"))
    return chars


def _frame_characters(frame: pd.DataFrame | pd.Series, chars: set[str]) -> None:
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    chars.update("".join(map(str, frame.columns)))
    chars.update("".join(map(str, frame.index.unique())) if not pd.api.types.is_numeric_dtype(frame.index) else "")
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        chars.update("".join(map(str, column.dropna().unique())))


def _walk(value: Any, chars: set[str], seen: set[int], depth: int = 0) -> None:
    if isinstance(value, str):
        chars.update(value)
        return
    if value is None or isinstance(value, int | float | bool) or depth > _MAX_DEPTH or id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, pd.DataFrame | pd.Series):
        _frame_characters(value, chars)
    elif isinstance(value, os.PathLike):
        chars.update(os.fspath(value))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _walk(key, chars, seen, depth + 1)
            _walk(item, chars, seen, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _walk(item, chars, seen, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _walk(getattr(value, f.name), chars, seen, depth + 1)
    elif hasattr(value, "__dict__") and type(value).__module__.startswith("balance_metrics"):
        _walk(vars(value), chars, seen, depth + 1)


def batch_characters(context: Any, extra: Iterable[str] = (), notebooks: Iterable[str | os.PathLike[str]] = ()) -> str:
    """Every character the reports of a batch on ``context`` may show.

    Parameters
    ----------
    context : ReportContext
        The batch's evaluated period (data, results, panel, standard).
    extra : iterable of str
        More text (paths, titles).
    notebooks : iterable of path
        The report notebooks (their markdown headings are report text).

    Returns
    -------
    str
        The characters, sorted.
    """
    chars = _source_characters()
    _walk(context, chars, set())
    for text in extra:
        chars.update(text)
    for path in notebooks:
        chars.update(Path(path).read_text(encoding="utf-8"))
    return "".join(sorted(chars))


def batch_font(context: Any, directory: str | os.PathLike[str], extra: Iterable[str] = (),
               notebooks: Iterable[str | os.PathLike[str]] = ()) -> FontSubset:  # fmt: skip
    """The batch's shared subset, written to ``directory`` (see :func:`batch_characters`)."""
    return batch_subset(batch_characters(context, extra, notebooks), directory)
