"""Theil's T index and its decomposition into between- and within-group parts.

With pupil shares w_i = P_i / P, mean μ = Σ w_i X_i and resource shares
s_i = w_i X_i / μ::

    T = Σ w_i (X_i/μ) ln(X_i/μ)

For groups g (e.g. 城区/镇区/乡村) with resource shares S_g = Σ_{i∈g} s_i and
group means μ_g, ``T = Σ_g S_g T_g + Σ_g S_g ln(μ_g/μ)``: the first sum is
the within-group part, the second the between-group part. Sections with a 0
value contribute 0 (x ln x → 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from balance_metrics.analysis.inequality.base import ArrayLike, arrays


def _xlogx(r: np.ndarray) -> np.ndarray:
    out = np.zeros_like(r)
    positive = r > 0
    out[positive] = r[positive] * np.log(r[positive])
    return out


def theil_t(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Theil T ≥ 0 (0 when all values are equal; ``nan`` when the mean is 0).

    >>> round(theil_t([1.0, 3.0], [1, 1]), 6)   # ½(½ ln ½ + 1.5 ln 1.5)
    0.130812
    """
    x, p = arrays(values, weights)
    if (x < 0).any():
        raise ValueError("Theil T needs non-negative values")
    w = p / p.sum()
    mean = float(np.dot(w, x))
    if mean == 0:
        return float("nan")
    return float(np.dot(w, _xlogx(x / mean)))


@dataclass(frozen=True)
class TheilDecomposition:
    """Theil T split by a grouping: ``total == between + within``."""

    total: float
    between: float
    within: float

    @property
    def between_share(self) -> float:
        """between ÷ total (``nan`` when total is 0)."""
        return self.between / self.total if self.total else float("nan")


def theil_decomposition(values: ArrayLike, groups: ArrayLike, weights: ArrayLike | None = None) -> TheilDecomposition:
    """Theil T and its between-group and within-group parts.

    Parameters
    ----------
    values : array-like of float
        Section values X_i.
    groups : array-like
        Each section's group label (same length).
    weights : array-like of float or None
        Enrolments P_i; ``None`` for the unweighted form (PySAL's ``TheilD``).
    """
    x, p = arrays(values, weights)
    g = np.asarray(groups)
    if g.shape != x.shape:
        raise ValueError(f"groups must have one label per value, got {g.shape} for {x.shape}")
    total = theil_t(x, p)
    mean = float(np.dot(p, x) / p.sum())
    labels, codes = np.unique(g, return_inverse=True)
    group_p = np.bincount(codes, weights=p, minlength=len(labels))
    group_px = np.bincount(codes, weights=p * x, minlength=len(labels))
    group_mean = np.divide(group_px, group_p, out=np.zeros_like(group_px), where=group_p > 0)
    share = group_px / float(np.dot(p, x))  # resource share S_g
    between = float(np.dot(group_p / p.sum(), _xlogx(group_mean / mean)))  # = Σ S_g ln(μ_g/μ)
    within_g = [theil_t(x[codes == k], p[codes == k]) if group_px[k] > 0 else 0.0 for k in range(len(labels))]
    within = float(np.dot(share, within_g))
    return TheilDecomposition(total=total, between=between, within=within)
