"""What every evaluation rule gets: the period, the standard and shared views of it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from balance_metrics.contract.dataset import Dataset
from balance_metrics.evaluation.district import DistrictFigures, district_figures
from balance_metrics.engine.resources import ResourceEvaluation, evaluate_resources
from balance_metrics.engine.schoolview import schools_view
from balance_metrics.standard.loader import Standard


@dataclass(frozen=True)
class Context:
    """Inputs shared by the item rules of one evaluation.

    Attributes
    ----------
    dataset : Dataset
    standard : Standard
    schools : DataFrame
        :func:`balance_metrics.schoolview.schools_view` of the period.
    district : DistrictFigures
    resources : ResourceEvaluation
    """

    dataset: Dataset
    standard: Standard
    schools: pd.DataFrame
    district: DistrictFigures
    resources: ResourceEvaluation


def build_context(dataset: Dataset, standard: Standard, resources: ResourceEvaluation | None = None) -> Context:
    """Compute the shared views once for all rules (``resources`` when already computed)."""
    return Context(
        dataset=dataset,
        standard=standard,
        schools=schools_view(dataset, standard),
        district=district_figures(dataset),
        resources=evaluate_resources(dataset, standard) if resources is None else resources,
    )


#: An item rule: (context, item id, the item's standard entry) -> check rows.
Rule = Callable[[Context, str, Mapping[str, Any]], list[dict[str, object]]]
