"""Sections that newly fail or newly pass between two periods (:func:`section_changes`).

Schools that opened, closed or changed are found while the panel is built
(:attr:`Panel.changes`, :mod:`.panel`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.analysis.monitoring.panel import Panel, as_text, stage_zh
from balance_metrics.contract.periods import period_sort_key

def _pair(panel: Panel, since: str | None, until: str | None) -> tuple[str, str] | None:
    if since is None and until is None and len(panel.periods) < 2:
        return None
    until = until if until is not None else panel.periods[-1]
    for label in (since, until):
        if label is not None and label not in panel.periods:
            raise ValueError(f"period {label} is not in the panel (periods: {', '.join(panel.periods) or 'none'})")
    if since is None:
        position = panel.periods.index(until)
        if position == 0:
            raise ValueError(f"period {until} is the first of the panel: nothing to compare it with")
        since = panel.periods[position - 1]
    if period_sort_key(since) >= period_sort_key(until):
        raise ValueError(f"since ({since}) must come before until ({until})")
    return since, until


def _in(frame: pd.DataFrame, period: str) -> np.ndarray:
    """Rows of ``period`` (compared as Python objects: a third of the string array's ``==``)."""
    return np.asarray(frame["period"].to_numpy(object) == period, dtype=bool)


def _flips(before: pd.DataFrame, after: pd.DataFrame, keys: list[str], flag: str) -> pd.DataFrame:
    """Rows of ``after`` whose ``flag`` turned False (or is False for a new row) or turned True."""
    merged = after.merge(before[[*keys, flag, "value"]], on=keys, how="left", suffixes=("", "_before"))
    merged[f"{flag}_before"] = merged[f"{flag}_before"].astype("boolean")
    was_failing = merged[f"{flag}_before"].eq(False).fillna(False)
    was_not_failing = ~was_failing  # passing before, or the row is new
    newly_failing = ~merged[flag].astype(bool) & was_not_failing
    newly_passing = merged[flag].astype(bool) & was_failing
    merged["change"] = np.where(newly_failing, "newly failing", np.where(newly_passing, "newly passing", ""))
    return merged[merged["change"] != ""]


def section_changes(panel: Panel, since: str | None = None, until: str | None = None) -> pd.DataFrame:
    """Sections that newly fail or newly pass between two periods.

    A section *newly fails* an indicator (or the per-section rule) when it
    fails in ``until`` and did not fail in ``since`` — it passed, or it did
    not exist yet (a new school or stage). It *newly passes* when it passes in
    ``until`` after failing in ``since``. Sections gone by ``until`` are not
    listed here (see :attr:`Panel.changes`).

    Parameters
    ----------
    panel : Panel
    since, until : str, optional
        Period labels; default the last two periods of the panel. With only
        ``until``, ``since`` is the period before it.

    Returns
    -------
    DataFrame
        since, until, school_id, school_name, stage, level ("indicator" or
        "section"), indicator ("" for the section verdict), name, before
        (boolean, <NA> for a new section), after, value_before, value_after
        (indicator value in its unit, or the number of indicators met),
        threshold, change ("newly failing" / "newly passing"), description.
        Empty when the panel has fewer than two periods. For a panel of many
        districts, ``district_id`` follows ``until``.
    """
    columns = ["since", "until", *panel.keys, "school_id", "school_name", "stage", "level", "indicator", "name", "before", "after",
               "value_before", "value_after", "threshold", "change", "description"]
    pair = _pair(panel, since, until)
    if pair is None:
        return pd.DataFrame(columns=columns)
    since, until = pair
    keys = [*panel.keys, "school_id", "stage"]
    ind = panel.indicators
    ind_flips = _flips(ind[_in(ind, since)], ind[_in(ind, until)], [*keys, "indicator"], "met")
    ind_flips = ind_flips.assign(level="indicator", before=ind_flips["met_before"], after=ind_flips["met"],
                                 value_after=ind_flips["value"])
    ver = panel.verdicts.assign(value=panel.verdicts["indicators_met"].astype(float))
    ver_flips = _flips(ver[_in(ver, since)], ver[_in(ver, until)], keys, "passed")
    ver_flips = ver_flips.assign(level="section", indicator="", name="学段综合判定", before=ver_flips["passed_before"],
                                 after=ver_flips["passed"], value_after=ver_flips["value"],
                                 threshold=float(panel.standard.min_indicators_met))
    parts = [f for f in (ver_flips, ind_flips) if len(f)]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True).assign(since=since, until=until)
    frame["before"] = frame["before"].astype("boolean")
    frame["after"] = frame["after"].astype(bool)
    frame["description"] = _flip_texts(frame, panel.standard.display_decimals)
    # Failures first: they are what a monthly report must act on.
    frame = frame.sort_values(["change", "stage", "school_id", "level", "indicator"], ascending=[True, True, True, False, True])
    return frame[columns].reset_index(drop=True)


def _fmts(values: Any, decimals: int) -> np.ndarray:
    """Every value with fixed decimals ("%.nf", as an f-string writes it), "—" for a missing one."""
    numbers = np.asarray(values, dtype=float)
    missing = np.isnan(numbers)
    out = np.full(len(numbers), "—", dtype=object)
    if (~missing).any():
        out[~missing] = np.char.mod(f"%.{decimals}f", numbers[~missing]).astype(object)
    return out


def _flip_texts(frame: pd.DataFrame, decimals: int) -> np.ndarray:
    """The Chinese description of every flip: who, what changed, the values before and after
    ("—" for none) and, for an indicator, its threshold."""
    stage = frame["stage"].to_numpy(object)
    zh = as_text(pd.Series(stage, dtype=object).map(stage_zh).to_numpy(object))
    who = as_text(frame["school_name"]) + "（" + as_text(frame["school_id"]) + "）" + zh
    failing = frame["change"].to_numpy(object) == "newly failing"
    what = np.where(failing, "由达标变为未达标", "由未达标变为达标").astype(object)
    # New school, new stage, or a teaching point newly over 50 pupils.
    what[pd.isna(frame["before"]).to_numpy()] = "为新纳入计算的学段，未达标"
    section = frame["level"].to_numpy(object) == "section"
    out = np.empty(len(frame), dtype=object)
    s, i = np.flatnonzero(section), np.flatnonzero(~section)
    before, after = frame["value_before"].to_numpy(object), frame["value_after"].to_numpy(object)
    out[s] = (who[s] + "学段综合判定" + what[s] + "（达标指标" + _fmts(before[s], 0) + "→" + _fmts(after[s], 0) + "项）")
    out[i] = (who[i] + as_text(frame["indicator"].to_numpy(object)[i]) + as_text(frame["name"].to_numpy(object)[i]) + what[i]
              + "（" + _fmts(before[i], decimals) + "→" + _fmts(after[i], decimals) + "，标准"
              + _fmts(frame["threshold"].to_numpy(object)[i], decimals) + "）")
    return out
