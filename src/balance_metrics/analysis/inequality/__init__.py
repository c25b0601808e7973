"""Inequality measures of a pupil distribution, one measure per module (like PySAL's
``inequality``): ranges (:mod:`ranges`), McLoone (:mod:`mcloone`), Verstegen
(:mod:`verstegen`), Gini (:mod:`gini`), Theil T with its between/within
decomposition (:mod:`theil`), and the battery over an evaluation
(:mod:`battery`).

Every measure takes section values X_i and weights P_i (enrolments): a section
counts as P_i pupils who each have X_i. Passing ``weights=None`` (or all ones)
gives the unweighted variant, where every section counts once.
"""

from balance_metrics.analysis.inequality.base import weighted_percentile
from balance_metrics.analysis.inequality.gini import gini
from balance_metrics.analysis.inequality.mcloone import mcloone
from balance_metrics.analysis.inequality.ranges import federal_range_ratio, range_, restricted_range
from balance_metrics.analysis.inequality.theil import theil_decomposition, theil_t
from balance_metrics.analysis.inequality.verstegen import verstegen

__all__ = [
    "federal_range_ratio",
    "gini",
    "mcloone",
    "range_",
    "restricted_range",
    "theil_decomposition",
    "theil_t",
    "verstegen",
    "weighted_percentile",
]
