"""Progress towards the targets: straight-line projections of every CV limit, the
share of sections passing and the plan targets, read at the deadline and the next
inspection (:func:`progress`, :func:`linear_projection`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import linregress

from balance_metrics.analysis.monitoring.panel import Panel, by_period, stage_zh
from balance_metrics.common.labels import PROGRESS_STATUS_LABELS
from balance_metrics.contract.periods import period_end
from balance_metrics.standard.loader import Standard
from balance_metrics.standard.model import MonitoringRules

DAYS_PER_YEAR = 365.25
MAX_REACH_DAYS = 100 * DAYS_PER_YEAR



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


# -- projection and progress --------------------------------------------------------------


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
        return (self.origin + pd.Timedelta(days=days)).normalize()


def linear_projection(dates: Sequence[Any], values: Sequence[float]) -> Projection | None:
    """Fit ``value = a + b × days`` by least squares (:func:`scipy.stats.linregress`).

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
    x_dates = pd.to_datetime(pd.Series(list(dates)))
    y = pd.Series(list(values), dtype=float)
    keep = y.notna().to_numpy()
    x_dates, y = x_dates[keep], y[keep]
    if x_dates.nunique() < 2:
        return None
    origin = x_dates.min()
    x = (x_dates - origin).dt.days.to_numpy(dtype=float)
    fit = linregress(x, y.to_numpy())
    return Projection(origin=origin, intercept=float(fit.intercept), slope_per_day=float(fit.slope), points=int(len(y)))


def _margin(value: float, target: float, comparison: str) -> float:
    """How far ``value`` is on the good side of ``target`` (negative = missing it)."""
    return target - value if comparison == "<=" else value - target


def _status(met_now: bool, latest: float, line: Projection | None, when: pd.Timestamp | None,
            last_end: pd.Timestamp, target: float, comparison: str, tolerance: float) -> str:
    if pd.isna(latest):
        return "data missing"
    if met_now:
        return "met"
    if when is not None and when <= last_end:
        return "missed"
    if line is None:
        return "cannot project"
    if when is None:
        return "no deadline"
    margin = _margin(line.at(when), target, comparison)
    if margin >= 0:
        return "on track"
    return "at risk" if margin >= -tolerance * abs(target) else "off track"


@dataclass(frozen=True)
class _Target:
    """One tracked target and its observed series."""

    kind: str
    district_id: str
    target_id: str
    name: str
    scope: str
    unit: str
    comparison: str
    target: float
    met_now: bool
    deadline: pd.Timestamp | None
    series: pd.DataFrame  # period, value (chronological)


def _district(key: tuple, panel: Panel) -> str:
    """The district of a group key led by district_id ("" for a one-district panel)."""
    return str(key[0]) if panel.keys else ""


def _cv_targets(panel: Panel, deadline: pd.Timestamp | None) -> list[_Target]:
    out = []
    keys = [*panel.keys, "stage", "indicator"]
    for key, g in by_period(panel.balance, keys).groupby(keys, sort=False):
        stage, ind = key[-2:]
        last = g.iloc[-1]
        out.append(_Target("cv", _district(key, panel), f"CV-{stage}-{ind}", f"{stage_zh(stage)}{ind}差异系数（{last['name']}）", stage, "",
                           "<=", float(last["limit"]), bool(last["passed"]), deadline,
                           g[["period"]].assign(value=g["cv"].astype(float))))
    return out


def _share_targets(panel: Panel, target: float, deadline: pd.Timestamp | None) -> list[_Target]:
    if panel.verdicts.empty:
        return []
    keys = [*panel.keys, "stage"]
    share = panel.verdicts.groupby([*keys, "period"], sort=False)["passed"].mean().rename("value").reset_index()
    out = []
    for key, g in by_period(share, keys).groupby(keys, sort=False):
        stage = key[-1]
        latest = float(g["value"].iloc[-1])
        out.append(_Target("section_share", _district(key, panel), f"SEC-{stage}", f"{stage_zh(stage)}学段达标比例（校校达标）", stage,
                           "占比(0–1)", ">=", target, latest >= target, deadline, g[["period", "value"]]))
    return out


def _plan_targets(panel: Panel, deadline: pd.Timestamp | None) -> list[_Target]:
    out = []
    frame = panel.plan_targets
    if frame.empty:
        return out
    keys = [*(k for k in panel.keys if k in frame.columns), "target_id", "scope"]
    for key, g in by_period(frame, keys).groupby(keys, sort=False):
        tid, scope = key[-2:]
        last = g.iloc[-1]
        own = _date_or_none(last["deadline"], f"plan target {tid} deadline") if pd.notna(last["deadline"]) else None
        out.append(_Target("plan", str(key[0]) if len(key) == 3 else "", str(tid), str(last["name"]), str(scope), str(last["unit"]), str(last["comparison"]),
                           float(last["requirement"]), last["status"] == "pass", own if own is not None else deadline,
                           g[["period"]].assign(value=pd.to_numeric(g["measured"], errors="coerce"))))
    return out


def _date_text(value: pd.Timestamp | None) -> str:
    return "" if value is None or pd.isna(value) else f"{value:%Y-%m-%d}"


def _progress_row(t: _Target, inspection: pd.Timestamp | None, tolerance: float) -> dict[str, Any]:
    dates = t.series["period"].map(period_end)
    line = linear_projection(dates, t.series["value"])
    latest = float(t.series["value"].iloc[-1])
    last_end = dates.iloc[-1]
    status = _status(t.met_now, latest, line, t.deadline, last_end, t.target, t.comparison, tolerance)
    at_deadline = line.at(t.deadline) if line is not None and t.deadline is not None else np.nan
    at_inspection = line.at(inspection) if line is not None and inspection is not None else np.nan
    improving = line is not None and _margin(line.slope_per_day, 0.0, t.comparison) > 0
    reach = line.reaches(t.target) if line is not None and improving and status != "met" else None
    return {
        "kind": t.kind, "district_id": t.district_id, "target_id": t.target_id, "name": t.name, "scope": t.scope, "unit": t.unit,
        "comparison": t.comparison, "target": t.target, "periods": int(t.series["value"].notna().sum()),
        "first_period": t.series["period"].iloc[0], "latest_period": t.series["period"].iloc[-1],
        "baseline_value": float(t.series["value"].iloc[0]), "latest_value": latest,
        "margin": _margin(latest, t.target, t.comparison),
        "slope_per_year": line.slope_per_year if line is not None else np.nan,
        "deadline": _date_text(t.deadline), "projected_at_deadline": at_deadline,
        "next_inspection": _date_text(inspection), "projected_at_inspection": at_inspection,
        "reach_date": _date_text(reach), "status": status,
        "inspection_status": _status(t.met_now, latest, line, inspection, last_end, t.target, t.comparison, tolerance),
        "status_zh": PROGRESS_STATUS_LABELS[status], "note": _progress_note(t, status, line, at_deadline),
    }


def _progress_note(t: _Target, status: str, line: Projection | None, at_deadline: float) -> str:
    if status == "cannot project":
        return f"仅有{int(t.series['value'].notna().sum())}期数据，无法做趋势外推"
    if status == "met" and line is not None and pd.notna(at_deadline) and _margin(at_deadline, t.target, t.comparison) < 0:
        # Met today but drifting the wrong way: worth a warning in the report.
        return f"目前达标，但按趋势到{_date_text(t.deadline)}将不达标（预测值{at_deadline:.3f}）"
    return ""


def progress(panel: Panel, deadline: Any = None, next_inspection: Any = None) -> pd.DataFrame:
    """Progress towards every target, with a straight-line projection.

    Targets tracked: every CV limit per stage × indicator (CV ≤ limit), the
    share of sections passing per stage (≥ the standard's
    ``monitoring.section_pass_target``, 100 %), and the plan targets of the
    evaluation module when the panel has them. Each target's observed series
    is fitted by least squares against the period end dates
    (:func:`linear_projection`) and the line is read at the deadline and at
    the next inspection.

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
    targets = [*_cv_targets(panel, due), *_share_targets(panel, rules.section_pass_target, due), *_plan_targets(panel, due)]
    rows = [_progress_row(t, inspection, rules.at_risk_tolerance) for t in targets]
    columns = ["kind", *panel.keys, "target_id", "name", "scope", "unit", "comparison", "target", "periods", "first_period",
               "latest_period", "baseline_value", "latest_value", "margin", "slope_per_year", "deadline",
               "projected_at_deadline", "next_inspection", "projected_at_inspection", "reach_date", "status",
               "inspection_status", "status_zh", "note"]
    return pd.DataFrame(rows, columns=columns)
