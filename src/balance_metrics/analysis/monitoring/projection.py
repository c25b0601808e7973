"""Least-squares straight lines through many dated series at once (:func:`fit_lines`).

Every target of a panel (each district × stage × indicator CV, each stage's
share of sections passing, each plan target) is a short dated series; the
monitoring report projects each along its least-squares line. The lines are
fitted here as arrays: the series of the same length are stacked into one
matrix and fitted together, with the arithmetic of
:func:`scipy.stats.linregress` (means, then the 2 × 2 biased covariance as a
matrix product, scaled by 1/n), so each line is the one ``linregress`` gives
for that series alone, to the last bit on the platforms tested
(``tests/test_monitoring_projection.py`` compares them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DAYS_PER_YEAR", "MAX_REACH_DAYS", "Lines", "fit_lines"]

DAYS_PER_YEAR = 365.25
MAX_REACH_DAYS = 100 * DAYS_PER_YEAR
_DAY_NS = 86_400 * 10**9
_NAT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Lines:
    """One least-squares line per series (arrays indexed by series).

    Attributes
    ----------
    origin : ndarray of datetime64[ns]
        Date of x = 0: the series' earliest dated value (NaT for a series without values).
    intercept, slope_per_day : ndarray of float
        The line (value at ``origin``, change per day); NaN where there is no line.
    points : ndarray of int64
        Observations with a value.
    fitted : ndarray of bool
        Whether the series has a line (values on two distinct dates or more).
    """

    origin: np.ndarray
    intercept: np.ndarray
    slope_per_day: np.ndarray
    points: np.ndarray
    fitted: np.ndarray

    def at(self, when: object) -> np.ndarray:
        """Fitted values on ``when``: one date for all lines, or a date per line
        (datetime64 array, NaT for none); NaN where there is no line or no date."""
        day = _days(when, len(self.points))
        known = self.fitted & (day != _NAT)
        days = np.zeros(len(self.points), dtype=np.int64)
        days[known] = (day[known] - self.origin.view(np.int64)[known]) // _DAY_NS
        return np.where(known, self.intercept + self.slope_per_day * days.astype(float), np.nan)

    def reaches(self, target: np.ndarray, wanted: np.ndarray | None = None) -> pd.DatetimeIndex:
        """Date on which each line crosses its ``target`` (NaT: no line, flat, more than
        :data:`MAX_REACH_DAYS` away, or not ``wanted``)."""
        ask = self.fitted & (self.slope_per_day != 0) if wanted is None else wanted & self.fitted & (self.slope_per_day != 0)
        days = np.full(len(self.points), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            days[ask] = (np.asarray(target, dtype=float)[ask] - self.intercept[ask]) / self.slope_per_day[ask]
        # A nearly flat line crosses centuries away, beyond what a date can hold
        # and beyond any meaning for a plan: no date.
        days[np.abs(days) > MAX_REACH_DAYS] = np.nan
        return crossing_dates(self.origin, days)


def crossing_dates(origin: object, days: np.ndarray) -> pd.DatetimeIndex:
    """``origin`` + ``days`` (float, NaN: NaT), to the day.

    The time is rounded to the second first: a line that reaches its target
    exactly at midnight (on an observation date) is dated that day whichever
    way the last bit of its fit fell (the fit's rounding moves it by ~1e-12 days).
    """
    return (pd.DatetimeIndex(origin) + pd.to_timedelta(days, unit="D")).round("s").normalize()


def _days(when: object, n: int) -> np.ndarray:
    """``when`` (None, a date, or an array of dates) as n int64 nanoseconds (NaT = min int64)."""
    if when is None:
        return np.full(n, _NAT, dtype=np.int64)
    if np.ndim(when) == 0:
        stamp = pd.Timestamp(when)
        return np.full(n, _NAT if pd.isna(stamp) else stamp.as_unit("ns").value, dtype=np.int64)
    return np.asarray(when, dtype="datetime64[ns]").view(np.int64)


def fit_lines(group: np.ndarray, dates: np.ndarray, values: np.ndarray, groups: int) -> Lines:
    """Fit ``value = a + b × days`` by least squares for every group of observations.

    Parameters
    ----------
    group : array of int
        Series of each observation, 0 … ``groups`` − 1 (negative: ignored).
    dates : array of datetime64
        Observation dates (never NaT); x is days since the series' earliest dated value.
    values : array of float
        Observed values; NaN observations are ignored.
    groups : int
        Number of series.

    Returns
    -------
    Lines
        A line for every series with values on two distinct dates or more
        (a line through one date has no slope). Within a series, observations
        are summed in the order given (keep them chronological to match
        :func:`scipy.stats.linregress` on that series to the bit).
    """
    group = np.asarray(group, dtype=np.int64)
    values = np.asarray(values, dtype=float)
    stamps = np.asarray(dates, dtype="datetime64[ns]").view(np.int64)
    keep = np.flatnonzero((group >= 0) & ~np.isnan(values))
    order = keep[np.argsort(group[keep], kind="stable")]
    g, t, y = group[order], stamps[order], values[order]
    points = np.bincount(g, minlength=groups).astype(np.int64)
    starts = np.cumsum(points) - points
    has = points > 0
    origin = np.full(groups, _NAT, dtype=np.int64)
    span = np.zeros(groups, dtype=np.int64)
    if len(g):
        origin[has] = np.minimum.reduceat(t, starts[has])
        span[has] = np.maximum.reduceat(t, starts[has]) - origin[has]
    x = ((t - origin[g]) // _DAY_NS).astype(float)
    fitted = span > 0  # two distinct dates at least
    intercept = np.full(groups, np.nan)
    slope = np.full(groups, np.nan)
    for n in np.unique(points[fitted]):
        # Series of equal length side by side: one (series × n) matrix each.
        which = np.flatnonzero(fitted & (points == n))
        rows = starts[which][:, None] + np.arange(n)
        slope[which], intercept[which] = _fit_rows(x[rows], y[rows])
    return Lines(origin=origin.view("datetime64[ns]"), intercept=intercept, slope_per_day=slope, points=points,
                 fitted=fitted)


def _fit_rows(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slope and intercept of each row's line, in :func:`scipy.stats.linregress`'s arithmetic
    (``np.cov(x, y, bias=1)`` is the product of the centred 2 × n matrix with its
    transpose, times 1/n)."""
    n = x.shape[1]
    x_mean, y_mean = x.mean(axis=1), y.mean(axis=1)
    centred = np.stack([x - x_mean[:, None], y - y_mean[:, None]], axis=1)
    cov = np.matmul(centred, centred.transpose(0, 2, 1)) * np.true_divide(1, n)
    slope = cov[:, 0, 1] / cov[:, 0, 0]
    return slope, y_mean - slope * x_mean
