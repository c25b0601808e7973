"""District-level figures of a period (the optional ``district`` table) as exact numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

import numpy as np
import pandas as pd

from balance_metrics.contract.dataset import Dataset
from balance_metrics.contract.schema import DISTRICT_ITEMS
from balance_metrics.evaluation.ratios import Ratios
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


@dataclass(frozen=True)
class DistrictTable:
    """The once-only figures of every district of a period, one row per district.

    Attributes
    ----------
    ids : ndarray of object
        The districts evaluated, in order (``[""]`` for a one-district period).
    values : DataFrame
        Index position 0 … len(ids) − 1 (as ``ids``), one float column per
        reported once-only item (NaN: not reported; unit: see
        :data:`balance_metrics.schema.DISTRICT_ITEMS`).
    """

    ids: np.ndarray
    values: pd.DataFrame

    def __len__(self) -> int:
        return len(self.ids)

    def get(self, code: str) -> np.ndarray:
        """Each district's value of a once-only item (NaN when not reported)."""
        if code not in DISTRICT_ITEMS:
            raise KeyError(f"unknown district item {code!r}")
        if code not in self.values.columns:
            return np.full(len(self.ids), np.nan)
        return self.values[code].to_numpy(float)

    def exact(self, code: str) -> Ratios:
        """:meth:`get` as exact numbers (missing where not reported)."""
        return Ratios.of(self.get(code))


def district_table(dataset: Dataset, ids: np.ndarray) -> DistrictTable:
    """The once-only figures of the ``district`` table, one row per district of ``ids``."""
    ids = np.asarray(ids, dtype=object)
    table = dataset.table("district")
    if table is None or table.empty:
        return DistrictTable(ids, pd.DataFrame(index=range(len(ids))))
    once = table[~table["item"].map({code: item.yearly for code, item in DISTRICT_ITEMS.items()}).astype(bool).to_numpy()]
    key = once["district_id"].astype(object) if "district_id" in once.columns else pd.Series("", index=once.index, dtype=object)
    position = pd.Series(np.arange(len(ids)), index=pd.Index(ids)).reindex(key.to_numpy()).to_numpy()
    kept = ~np.isnan(position)
    frame = pd.DataFrame({"position": position[kept].astype(np.int64), "item": once["item"].to_numpy(object)[kept],
                          "value": once["value"].to_numpy(float)[kept]})
    wide = frame.drop_duplicates(["position", "item"], keep="last").pivot(index="position", columns="item", values="value")
    return DistrictTable(ids, wide.reindex(range(len(ids))))
