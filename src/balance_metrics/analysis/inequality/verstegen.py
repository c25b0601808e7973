"""The Verstegen index: how far the pupils at or above the median are above it.

``Verstegen = Σ_{X_i ≥ M} P_i·X_i ÷ (M · Σ_{X_i ≥ M} P_i)`` with M the
pupil-weighted median; the mirror of McLoone. 1 is perfect equality at the
top; higher is more unequal.
"""

from __future__ import annotations

import numpy as np

from balance_metrics.analysis.inequality.base import ArrayLike, arrays, ratio, weighted_percentile


def verstegen(values: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Verstegen index ≥ 1 (``inf`` when the median is 0 and values above are not).

    >>> verstegen([1.0, 2.0, 4.0], [1, 1, 1])   # median 2: (2 + 4) / (2 * 2)
    1.5
    """
    x, p = arrays(values, weights)
    median = weighted_percentile(x, p, 0.5)
    high = x >= median
    return ratio(float(np.dot(p[high], x[high])), median * float(p[high].sum()))
