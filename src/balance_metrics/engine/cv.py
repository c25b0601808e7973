"""The pupil-weighted coefficient of variation (差异系数), STANDARD.md §3."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pupil_weighted_cv(values: Sequence[float] | np.ndarray, weights: Sequence[float] | np.ndarray) -> float:
    """Pupil-weighted population coefficient of variation.

    ``X̄ = Σ P·X / ΣP``, ``S = sqrt(Σ P·(X − X̄)² / ΣP)``, ``CV = S / X̄``.
    Dividing by ΣP (never ΣP − 1 or n) is what the 2017 method prescribes.

    Parameters
    ----------
    values : array-like of float
        Each section's indicator value (any unit; the CV is unit-free).
    weights : array-like of float
        Each section's enrolment P_i (students), non-negative, not all zero.

    Returns
    -------
    float
        The CV (dimensionless); ``nan`` when the weighted mean is 0.

    Examples
    --------
    >>> round(pupil_weighted_cv([279/45, 137/37, 935/89, 160/76, 402/55], [45, 37, 89, 76, 55]), 5)
    0.51526
    """
    x = np.asarray(values, dtype=float)
    p = np.asarray(weights, dtype=float)
    if x.shape != p.shape or x.ndim != 1:
        raise ValueError(f"values and weights must be 1-D of equal length, got {x.shape} and {p.shape}")
    if x.size == 0:
        raise ValueError("no values: the CV of an empty set is undefined")
    if not (np.isfinite(x).all() and np.isfinite(p).all()):
        raise ValueError("values and weights must be finite numbers")
    if (p < 0).any():
        raise ValueError("weights (enrolments) must not be negative")
    total = p.sum()
    if total <= 0:
        raise ValueError("weights (enrolments) sum to zero")
    mean = float(np.dot(p, x) / total)
    if mean == 0:
        return float("nan")
    variance = float(np.dot(p, (x - mean) ** 2) / total)
    return float(np.sqrt(variance) / abs(mean))


def grouped_pupil_weighted_cv(values: np.ndarray, weights: np.ndarray, groups: np.ndarray, n_groups: int,
                              total: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pupil_weighted_cv` of many groups at once (grouped sums with ``np.bincount``).

    Parameters
    ----------
    values, weights : ndarray of float
        Each section's indicator value and enrolment.
    groups : ndarray of int
        Group number (0 … n_groups − 1) of each section.
    n_groups : int
    total : ndarray of float, optional
        Each group's ``Σ P`` when already known.

    Returns
    -------
    (ndarray, ndarray)
        Each group's CV (``nan`` when its weighted mean is 0 or it has no
        weight) and its weighted mean ``Σ P·X / ΣP``.
    """
    total = np.bincount(groups, weights=weights, minlength=n_groups) if total is None else total
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(groups, weights=weights * values, minlength=n_groups) / total
        variance = np.bincount(groups, weights=weights * (values - mean[groups]) ** 2, minlength=n_groups) / total
        cv = np.sqrt(variance) / np.abs(mean)
    cv[(mean == 0) | ~np.isfinite(mean)] = np.nan
    return cv, mean
