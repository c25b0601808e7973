"""District-level figures of a period (the optional ``district`` table) as exact numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

import pandas as pd

from balance_metrics.contract.dataset import Dataset
from balance_metrics.contract.schema import DISTRICT_ITEMS
from balance_metrics.standard.loader import exact


@dataclass(frozen=True)
class DistrictFigures:
    """The district table of a period.

    Attributes
    ----------
    values : Mapping[str, Fraction]
        Item code -> value, for items given once (unit: see
        :data:`balance_metrics.schema.DISTRICT_ITEMS`).
    yearly : Mapping[str, Mapping[int, Fraction]]
        Yearly item code -> {year: value}, years ascending.
    references : Mapping[str, str]
        Item code -> the data source given for it, if any.
    """

    values: Mapping[str, Fraction] = field(default_factory=dict)
    yearly: Mapping[str, Mapping[int, Fraction]] = field(default_factory=dict)
    references: Mapping[str, str] = field(default_factory=dict)

    def get(self, code: str) -> Fraction | None:
        """The value of a once-only item, or ``None`` when not reported."""
        if code not in DISTRICT_ITEMS:
            raise KeyError(f"unknown district item {code!r}")
        return self.values.get(code)

    def series(self, code: str) -> Mapping[int, Fraction]:
        """A yearly item's values by year (empty when not reported)."""
        if code not in DISTRICT_ITEMS:
            raise KeyError(f"unknown district item {code!r}")
        return self.yearly.get(code, {})


def district_figures(dataset: Dataset) -> DistrictFigures:
    """Read the period's ``district`` table (empty figures when it has none)."""
    table = dataset.table("district")
    if table is None:
        return DistrictFigures()
    values: dict[str, Fraction] = {}
    yearly: dict[str, dict[int, Fraction]] = {}
    references: dict[str, str] = {}
    for _, row in table.iterrows():
        code, value = row["item"], exact(float(row["value"]))
        if DISTRICT_ITEMS[code].yearly:
            yearly.setdefault(code, {})[int(row["year"])] = value
        else:
            values[code] = value
        if pd.notna(row["reference"]):
            references[code] = str(row["reference"])
    ordered = {code: MappingProxyType(dict(sorted(years.items()))) for code, years in yearly.items()}
    return DistrictFigures(MappingProxyType(values), MappingProxyType(ordered), MappingProxyType(references))
