"""Range, restricted range (P5–P95) and the federal range ratio.

The federal range ratio is the US school-finance measure
``(P95 − P5) ÷ P5``: how far the pupil at the 95th percentile is above the one
at the 5th, relative to the latter. Percentiles are pupil-weighted
(:func:`~balance_metrics.analysis.inequality.base.weighted_percentile`).
"""

from __future__ import annotations

from balance_metrics.analysis.inequality.base import ArrayLike, arrays, ratio, weighted_percentile

LOW, HIGH = 0.05, 0.95


def range_(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Highest minus lowest value among sections with pupils (unit of ``values``).

    >>> range_([2.0, 5.0, 9.0], [10, 0, 5])
    7.0
    """
    x, p = arrays(values, weights)
    present = x[p > 0]
    return float(present.max() - present.min())


def restricted_range(values: ArrayLike, weights: ArrayLike | None = None, low: float = LOW, high: float = HIGH) -> float:
    """P95 − P5 of the pupil distribution (unit of ``values``)."""
    return weighted_percentile(values, weights, high) - weighted_percentile(values, weights, low)


def federal_range_ratio(values: ArrayLike, weights: ArrayLike | None = None, low: float = LOW, high: float = HIGH) -> float:
    """(P95 − P5) ÷ P5 (dimensionless; ``inf`` when P5 is 0)."""
    p_low = weighted_percentile(values, weights, low)
    return ratio(weighted_percentile(values, weights, high) - p_low, p_low)
