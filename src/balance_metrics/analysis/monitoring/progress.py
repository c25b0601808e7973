"""Progress towards the targets: straight-line projections of every CV limit, the
share of sections passing and the plan targets, read at the deadline and the next
inspection (:func:`progress`, :func:`linear_projection`).

Whole-column: every target of every district is one row of a target table and
its observations one block of a long table; the lines are fitted together
(:func:`~.projection.fit_lines`) and statuses are decided with array masks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.analysis.monitoring.panel import Panel, as_text, by_period, stage_zh
from balance_metrics.analysis.monitoring.projection import DAYS_PER_YEAR, MAX_REACH_DAYS, Lines, crossing_dates, fit_lines
from balance_metrics.common.labels import PROGRESS_STATUS_LABELS
from balance_metrics.contract.periods import period_end
from balance_metrics.standard.loader import Standard
from balance_metrics.standard.model import MonitoringRules

__all__ = ["DAYS_PER_YEAR", "MAX_REACH_DAYS", "Projection", "linear_projection", "monitoring_rules", "progress"]

PROGRESS_COLUMNS = ["kind", "district_id", "target_id", "name", "scope", "unit", "comparison", "target", "periods",
                    "first_period", "latest_period", "baseline_value", "latest_value", "margin", "slope_per_year",
                    "deadline", "projected_at_deadline", "next_inspection", "projected_at_inspection", "reach_date",
                    "status", "inspection_status", "status_zh", "note"]
_TARGET_COLUMNS = ["kind", "district_id", "target_id", "name", "scope", "unit", "comparison", "target", "met_now",
                   "deadline"]


# -- monitoring rules from the standard ----------------------------------------


def _date_or_none(value: Any, what: str) -> pd.Timestamp | None:
    """A date given by the caller (ISO text or Timestamp); ``None`` for none."""
    if value is None or value == "":
        return None
    try:
        return pd.Timestamp(value).normalize()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: expected an ISO date like 2022-12-31, got {value!r}") from exc


def monitoring_rules(standard: Standard) -> MonitoringRules:
    """The ``[monitoring]`` table of ``standard``, parsed and checked at load."""
    return standard.monitoring


# -- one projection ------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """A least-squares straight line through a dated series.

    Attributes
    ----------
    origin : pandas.Timestamp
        Date of x = 0 (the first observation).
    intercept : float
        Fitted value at ``origin`` (the series' unit).
    slope_per_day : float
        Change per day (the series' unit per day).
    points : int
        Observations used.
    """

    origin: pd.Timestamp
    intercept: float
    slope_per_day: float
    points: int

    @property
    def slope_per_year(self) -> float:
        """Change per year of 365.25 days."""
        return self.slope_per_day * DAYS_PER_YEAR

    def at(self, when: pd.Timestamp) -> float:
        """Fitted value on date ``when``."""
        return self.intercept + self.slope_per_day * (pd.Timestamp(when) - self.origin).days

    def reaches(self, target: float) -> pd.Timestamp | None:
        """Date on which the line crosses ``target`` (``None`` if it is flat)."""
        if self.slope_per_day == 0:
            return None
        days = (target - self.intercept) / self.slope_per_day
        # A nearly flat line crosses centuries away, beyond what a date can
        # hold and beyond any meaning for a plan: report no date.
        if abs(days) > MAX_REACH_DAYS:
            return None
        return crossing_dates([self.origin], np.array([days]))[0]


def linear_projection(dates: Sequence[Any], values: Sequence[float]) -> Projection | None:
    """Fit ``value = a + b × days`` by least squares (:func:`~.projection.fit_lines`,
    the arithmetic of :func:`scipy.stats.linregress`).

    Parameters
    ----------
    dates : sequence of date-like
        Observation dates (period ends); x is days since the earliest.
    values : sequence of float
        Observed values; NaN observations are ignored.

    Returns
    -------
    Projection or None
        ``None`` when fewer than two distinct dates have a value: a line
        through one point has no slope.
    """
    stamps = pd.to_datetime(pd.Series(list(dates))).to_numpy("datetime64[ns]")
    y = pd.Series(list(values), dtype=float).to_numpy()
    lines = fit_lines(np.zeros(len(y), dtype=np.int64), stamps, y, 1)
    if not lines.fitted[0]:
        return None
    return Projection(origin=pd.Timestamp(lines.origin[0]), intercept=float(lines.intercept[0]),
                      slope_per_day=float(lines.slope_per_day[0]), points=int(lines.points[0]))


# -- the targets: one row each, their observations in a long table -------------------


@dataclass(frozen=True)
class _Targets:
    """Tracked targets (``table``: :data:`_TARGET_COLUMNS`, one row per target) and
    their observations (``target`` code, ``period``, ``value``; chronological within a target)."""

    table: pd.DataFrame
    observations: pd.DataFrame


def _series(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``frame`` sorted by ``keys`` then chronologically, each row's target code
    (rows with a missing key: none, as in a groupby) and the position of each target's latest row."""
    frame = by_period(frame, keys)
    code = frame.groupby(keys, sort=False).ngroup().to_numpy(np.int64)
    frame, code = frame[code >= 0].reset_index(drop=True), code[code >= 0]
    last = np.flatnonzero(np.r_[code[1:] != code[:-1], True]) if len(code) else np.zeros(0, dtype=np.int64)
    return frame, code, last


def _dates(when: Any, n: int) -> np.ndarray:
    """``when`` as n datetime64[ns]: one date (None: NaT) repeated, or an array of dates as it is."""
    if np.ndim(when) != 0:
        return np.asarray(when, dtype="datetime64[ns]")
    stamp = pd.NaT if when is None else pd.Timestamp(when)
    return np.full(n, np.datetime64("NaT", "ns") if pd.isna(stamp) else stamp.as_unit("ns").to_datetime64())


def _district_ids(frame: pd.DataFrame, last: np.ndarray, keyed: bool) -> np.ndarray:
    return as_text(frame["district_id"].to_numpy(object)[last]) if keyed else np.full(len(last), "", dtype=object)


def _targets(kind: np.ndarray | str, district: np.ndarray, target_id: np.ndarray, name: np.ndarray, scope: np.ndarray,
             unit: np.ndarray | str, comparison: np.ndarray | str, target: np.ndarray, met_now: np.ndarray,
             deadline: np.ndarray | pd.Timestamp | None, frame: pd.DataFrame, code: np.ndarray,
             value: np.ndarray) -> _Targets:
    n = len(target_id)
    full = lambda v: np.full(n, v, dtype=object) if isinstance(v, str) else v  # noqa: E731
    table = pd.DataFrame({
        "kind": full(kind), "district_id": district, "target_id": target_id, "name": name, "scope": scope,
        "unit": full(unit), "comparison": full(comparison), "target": np.asarray(target, dtype=float),
        "met_now": np.asarray(met_now, dtype=bool),
        "deadline": _dates(deadline, n),
    })
    return _Targets(table, pd.DataFrame({"target": code, "period": frame["period"].to_numpy(object), "value": value}))


def _cv_targets(panel: Panel, deadline: pd.Timestamp | None) -> _Targets | None:
    if panel.balance.empty:
        return None
    keys = [*panel.keys, "stage", "indicator"]
    frame, code, last = _series(panel.balance, keys)
    stage = frame["stage"].to_numpy(object)[last]
    ind = as_text(frame["indicator"].to_numpy(object)[last])
    stage_text = as_text(stage)
    zh = as_text(pd.Series(stage, dtype=object).map(stage_zh).to_numpy(object))
    return _targets("cv", _district_ids(frame, last, bool(panel.keys)), "CV-" + stage_text + "-" + ind,
                    zh + ind + "差异系数（" + as_text(frame["name"].to_numpy(object)[last]) + "）", stage, "", "<=",
                    frame["limit"].to_numpy(float)[last], frame["passed"].to_numpy(bool)[last], deadline, frame, code,
                    frame["cv"].to_numpy(float))


def _share_targets(panel: Panel, target: float, deadline: pd.Timestamp | None) -> _Targets | None:
    if panel.verdicts.empty:
        return None
    keys = [*panel.keys, "stage"]
    share = panel.verdicts.groupby([*keys, "period"], sort=False)["passed"].mean().rename("value").reset_index()
    frame, code, last = _series(share, keys)
    stage = frame["stage"].to_numpy(object)[last]
    latest = frame["value"].to_numpy(float)[last]
    zh = as_text(pd.Series(stage, dtype=object).map(stage_zh).to_numpy(object))
    return _targets("section_share", _district_ids(frame, last, bool(panel.keys)), "SEC-" + as_text(stage),
                    zh + "学段达标比例（校校达标）", stage, "占比(0–1)", ">=", np.full(len(last), target, dtype=float),
                    latest >= target, deadline, frame, code, frame["value"].to_numpy(float))


def _plan_targets(panel: Panel, deadline: pd.Timestamp | None) -> _Targets | None:
    if panel.plan_targets.empty:
        return None
    keyed = "district_id" in panel.keys and "district_id" in panel.plan_targets.columns
    keys = [*(["district_id"] if keyed else []), "target_id", "scope"]
    frame, code, last = _series(panel.plan_targets, keys)
    at = lambda column: frame[column].to_numpy(object)[last]  # noqa: E731
    when = _plan_deadlines(at("deadline"), at("target_id"), deadline)
    return _targets("plan", _district_ids(frame, last, keyed), as_text(at("target_id")), as_text(at("name")),
                    as_text(at("scope")), as_text(at("unit")), as_text(at("comparison")), np.asarray(at("requirement"), dtype=float),
                    at("status") == "pass", when, frame, code,
                    pd.to_numeric(frame["measured"], errors="coerce").to_numpy(dtype=float, na_value=np.nan))


def _plan_deadlines(own: np.ndarray, target_ids: np.ndarray, default: pd.Timestamp | None) -> np.ndarray:
    """Each plan target's own deadline (each distinct value parsed once, in the order
    of the targets, so a bad date is reported for its first target), else ``default``."""
    codes, uniques = pd.factorize(pd.Series(own, dtype=object), use_na_sentinel=False)
    first = np.full(len(uniques), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    parsed = [_date_or_none(v, f"plan target {target_ids[i]} deadline") if pd.notna(v) else None
              for v, i in zip(uniques, first)]
    stamps = [p if p is not None else default for p in parsed]
    table = pd.DatetimeIndex([pd.NaT if s is None else s for s in stamps]).as_unit("ns").to_numpy()
    return table[codes] if len(codes) else np.zeros(0, dtype="datetime64[ns]")


def _all_targets(panel: Panel, rules: MonitoringRules, due: pd.Timestamp | None) -> _Targets | None:
    """The CV, section-share and plan targets one after the other (target codes renumbered)."""
    parts = [t for t in (_cv_targets(panel, due), _share_targets(panel, rules.section_pass_target, due),
                         _plan_targets(panel, due)) if t is not None and len(t.table)]
    if not parts:
        return None
    offsets = np.cumsum([0, *(len(t.table) for t in parts[:-1])])
    observations = pd.concat([t.observations.assign(target=t.observations["target"] + k) for t, k in zip(parts, offsets)],
                             ignore_index=True)
    return _Targets(pd.concat([t.table for t in parts], ignore_index=True), observations)


# -- progress ----------------------------------------------------------------------------


def _margin(value: Any, target: Any, below: Any) -> Any:
    """How far ``value`` is on the good side of ``target`` (negative = missing it);
    ``below``: the target is an upper bound (comparison "<=")."""
    return np.where(below, target - value, value - target)


def _status(met_now: np.ndarray, latest: np.ndarray, lines: Lines, when: Any, last_end: np.ndarray,
            target: np.ndarray, below: np.ndarray, tolerance: float) -> np.ndarray:
    """Each target's status against the date ``when`` (one date, one per target, or None)."""
    stamp = _dates(when, len(latest))
    dated = ~np.isnat(stamp)
    margin = _margin(lines.at(stamp), target, below)
    with np.errstate(invalid="ignore"):
        choices = [
            (np.isnan(latest), "data missing"),
            (met_now, "met"),
            (dated & (stamp <= last_end), "missed"),
            (~lines.fitted, "cannot project"),
            (~dated, "no deadline"),
            (margin >= 0, "on track"),
            (margin >= -tolerance * np.abs(target), "at risk"),
        ]
    return np.select([c for c, _ in choices], [s for _, s in choices], default="off track").astype(object)


def _date_texts(stamps: Any) -> np.ndarray:
    """``%Y-%m-%d`` of each date, "" for none."""
    index = pd.DatetimeIndex(stamps)
    return np.where(index.isna(), "", index.strftime("%Y-%m-%d").to_numpy(object)).astype(object)


def _notes(status: np.ndarray, points: np.ndarray, lines: Lines, at_deadline: np.ndarray, margin_at_deadline: np.ndarray,
           deadline_text: np.ndarray) -> np.ndarray:
    """A warning for a target that cannot be projected, or one met now but drifting to miss its deadline."""
    note = np.full(len(status), "", dtype=object)
    few = np.flatnonzero(status == "cannot project")
    note[few] = "仅有" + as_text(points[few]) + "期数据，无法做趋势外推"
    with np.errstate(invalid="ignore"):
        drifting = np.flatnonzero((status == "met") & lines.fitted & ~np.isnan(at_deadline) & (margin_at_deadline < 0))
    projected = np.char.mod("%.3f", at_deadline[drifting]).astype(object)  # as f"{v:.3f}"
    note[drifting] = "目前达标，但按趋势到" + deadline_text[drifting] + "将不达标（预测值" + projected + "）"
    return note


def progress(panel: Panel, deadline: Any = None, next_inspection: Any = None) -> pd.DataFrame:
    """Progress towards every target, with a straight-line projection.

    Targets tracked: every CV limit per stage × indicator (CV ≤ limit), the
    share of sections passing per stage (≥ the standard's
    ``monitoring.section_pass_target``, 100 %), and the plan targets of the
    evaluation module when the panel has them. Each target's observed series
    is fitted by least squares against the period end dates
    (:func:`~.projection.fit_lines`, all targets at once) and the line is
    read at the deadline and at the next inspection.

    Parameters
    ----------
    panel : Panel
    deadline, next_inspection : date-like, optional
        Override the standard's ``monitoring.deadline`` and
        ``monitoring.next_inspection``. A plan target's own deadline wins over
        both defaults.

    Returns
    -------
    DataFrame
        One row per target: kind ("cv", "section_share", "plan"), target_id,
        name, scope (stage or plan scope), unit, comparison ("<=" / ">="),
        target, periods (observations used), first_period, latest_period,
        baseline_value, latest_value, margin (distance on the good side of
        the target, negative = missing it), slope_per_year (unit per year),
        deadline, projected_at_deadline, next_inspection,
        projected_at_inspection, reach_date (when the fitted line reaches an
        unmet target, "" if it moves away), status, inspection_status,
        status_zh, note. A panel of many districts adds ``district_id``
        (second column): every target is tracked per district.

        status is "met" (the latest period meets the target), "on track"
        (projection meets it by the deadline), "at risk" (misses it by less
        than ``at_risk_tolerance`` × target), "off track", "missed" (deadline
        passed, not met), "cannot project" (one observation only),
        "no deadline" or "data missing".
    """
    rules = monitoring_rules(panel.standard)
    due = _date_or_none(deadline, "deadline") if deadline is not None else rules.deadline
    inspection = _date_or_none(next_inspection, "next_inspection") if next_inspection is not None else rules.next_inspection
    columns = [c for c in PROGRESS_COLUMNS if c != "district_id" or panel.keys]
    targets = _all_targets(panel, rules, due)
    if targets is None:
        return pd.DataFrame([], columns=columns)
    t, obs = targets.table, targets.observations
    code = obs["target"].to_numpy(np.int64)
    periods = obs["period"].to_numpy(object)
    ends = pd.Series(periods).map({p: period_end(p) for p in pd.unique(periods)}).to_numpy("datetime64[ns]")
    value = obs["value"].to_numpy(float)
    lines = fit_lines(code, ends, value, len(t))
    first = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    last = np.flatnonzero(np.r_[code[1:] != code[:-1], True])
    latest, target = value[last], t["target"].to_numpy(float)
    below = t["comparison"].to_numpy(object) == "<="
    met_now, when = t["met_now"].to_numpy(bool), t["deadline"].to_numpy("datetime64[ns]")
    status = _status(met_now, latest, lines, when, ends[last], target, below, rules.at_risk_tolerance)
    at_deadline = lines.at(when)
    deadline_text = _date_texts(when)
    improving = lines.fitted & (_margin(lines.slope_per_day, 0.0, below) > 0)
    reach = lines.reaches(target, improving & (status != "met"))
    out = {
        **{c: t[c] for c in ("kind", "district_id", "target_id", "name", "scope", "unit", "comparison", "target")},
        "periods": lines.points, "first_period": periods[first], "latest_period": periods[last],
        "baseline_value": value[first], "latest_value": latest, "margin": _margin(latest, target, below),
        "slope_per_year": lines.slope_per_day * DAYS_PER_YEAR, "deadline": deadline_text,
        "projected_at_deadline": at_deadline, "next_inspection": _date_texts(_dates(inspection, len(t))),
        "projected_at_inspection": lines.at(inspection), "reach_date": _date_texts(reach), "status": status,
        "inspection_status": _status(met_now, latest, lines, inspection, ends[last], target, below, rules.at_risk_tolerance),
        "status_zh": pd.Series(status).map(PROGRESS_STATUS_LABELS).to_numpy(object),
        "note": _notes(status, lines.points, lines, at_deadline, _margin(at_deadline, target, below), deadline_text),
    }
    # Python values, as the table has always been built: the same dtypes (str, float64, int64).
    return pd.DataFrame({c: np.asarray(out[c]).tolist() for c in columns}, columns=columns)
