"""Input checks and the pupil-weighted percentile shared by the measures."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from balance_metrics.standard.loader import exact

ArrayLike = Sequence[float] | np.ndarray


def arrays(values: ArrayLike, weights: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``values`` and ``weights`` as float arrays (weights default to 1 each).

    Raises
    ------
    ValueError
        Shapes differ, nothing is given, a number is not finite, a weight is
        negative or all weights are 0.
    """
    x = np.asarray(values, dtype=float)
    p = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if x.shape != p.shape or x.ndim != 1 or x.size == 0:
        raise ValueError(f"values and weights must be 1-D, non-empty and of equal length, got {x.shape} and {p.shape}")
    if not (np.isfinite(x).all() and np.isfinite(p).all()):
        raise ValueError("values and weights must be finite numbers")
    if (p < 0).any() or p.sum() <= 0:
        raise ValueError("weights (enrolments) must be non-negative and not all zero")
    return x, p


def weighted_mean(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Σ P·X ÷ Σ P: the district value when X are section ratios and P enrolments."""
    x, p = arrays(values, weights)
    return float(np.dot(p, x) / p.sum())


def weighted_percentile(values: ArrayLike, weights: ArrayLike | None, q: float) -> float:
    """The ``q``-quantile of the pupil distribution (inverse of its CDF).

    With the sections sorted by value and F(x) = Σ_{X_i ≤ x} P_i ÷ P the share
    of pupils whose section value is at most x, the result is the smallest
    section value X_k with F(X_k) ≥ q — no interpolation, so the result is
    always an actual section value. This equals ``numpy.quantile`` with
    ``method="inverted_cdf"`` on every pupil's value. The comparison with q
    is exact, so that for example 3 of 30 pupils is exactly the 10th percentile.

    Parameters
    ----------
    values : array-like of float
        Section values X_i (the indicator's unit).
    weights : array-like of float or None
        Enrolments P_i (students), non-negative, not all zero; ``None``: 1 each.
    q : float
        Quantile in (0, 1], e.g. 0.1 for the 10th percentile.

    Returns
    -------
    float
        The percentile, in the unit of ``values``.
    """
    x, p = arrays(values, weights)
    if not 0 < q <= 1:
        raise ValueError(f"q must be in (0, 1], got {q}")
    order = np.argsort(x, kind="stable")
    target = exact(float(q)) * sum((exact(float(w)) for w in p), Fraction(0))
    cumulative = Fraction(0)
    for i in order:
        cumulative += exact(float(p[i]))
        if p[i] > 0 and cumulative >= target:
            return float(x[i])
    return float(x[order[-1]])


def ratio(high: float, low: float) -> float:
    """high ÷ low; ``inf`` when only ``low`` is 0, ``nan`` when both are."""
    if low == 0:
        return float("nan") if high == 0 else float("inf")
    return high / low
