"""The Gini coefficient of the pupil distribution."""

from __future__ import annotations

import numpy as np

from balance_metrics.analysis.inequality.base import ArrayLike, arrays


def gini(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Gini coefficient of the pupil distribution.

    ``G = Σ_i Σ_j P_i·P_j·|X_i − X_j| / (2·P²·X̄)`` with ``P = Σ P_i`` and
    ``X̄ = Σ P_i·X_i / P`` (the district value): the mean absolute difference
    between two pupils' values, over twice the mean. 0 when every section has
    the same value; pupils of the same section differ by 0. With ``weights``
    None every section counts once (PySAL's ``inequality.gini.Gini``).

    Computed in O(n log n) from the sorted values: Σ_i Σ_j P_i P_j |X_i − X_j|
    = 2 Σ_k P_k X_k (C_{k−1} − (P − C_k)) with C the cumulative weights.

    Parameters
    ----------
    values : array-like of float
        Section values X_i (any unit; G is unit-free), non-negative.
    weights : array-like of float or None
        Enrolments P_i (students).

    Returns
    -------
    float
        G in [0, 1); ``nan`` when X̄ is 0.

    Examples
    --------
    Two sections of 100 pupils with values 1 and 3: mean difference
    (2·100·100·2)/200² = 1, X̄ = 2, G = 1/(2·2) = 0.25.

    >>> float(gini([1, 3], [100, 100]))
    0.25
    """
    x, p = arrays(values, weights)
    total = p.sum()
    mean = float(np.dot(p, x) / total)
    if mean == 0:
        return float("nan")
    order = np.argsort(x, kind="stable")
    xs, ps = x[order], p[order]
    cum = np.cumsum(ps)
    below = cum - ps  # weight strictly before k in the order
    above = total - cum
    pair_sum = 2.0 * float(np.dot(ps * xs, below - above))
    return pair_sum / (2 * total**2 * mean)
