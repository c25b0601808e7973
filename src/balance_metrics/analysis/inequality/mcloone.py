"""The McLoone index: how close the pupils at or below the median are to it.

``McLoone = Σ_{X_i ≤ M} P_i·X_i ÷ (M · Σ_{X_i ≤ M} P_i)`` with M the
pupil-weighted median: the resource the lower half has, over what it would
have if every pupil there were at the median. 1 is perfect equality at the
bottom; lower is worse.
"""

from __future__ import annotations

import numpy as np

from balance_metrics.analysis.inequality.base import ArrayLike, arrays, ratio, weighted_percentile


def mcloone(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """McLoone index in [0, 1] (``nan`` when the median is 0).

    >>> mcloone([1.0, 2.0, 4.0], [1, 1, 1])   # median 2: (1 + 2) / (2 * 2)
    0.75
    """
    x, p = arrays(values, weights)
    median = weighted_percentile(x, p, 0.5)
    low = x <= median
    return ratio(float(np.dot(p[low], x[low])), median * float(p[low].sum()))
