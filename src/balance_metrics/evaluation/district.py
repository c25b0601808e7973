"""District-level figures of a period (the optional ``district`` table) as exact numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from fractions import Fraction
from types import MappingProxyType

import numpy as np
import pandas as pd

from balance_metrics.contract.dataset import Dataset
from balance_metrics.contract.schema import DISTRICT_ITEMS
from balance_metrics.engine.sections import factorize_runs
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
        return self._columns[code]

    @cached_property
    def _columns(self) -> dict[str, np.ndarray]:
        """Each item's column as floats (read-only: the same array each time it is asked for)."""
        columns = {}
        for code in self.values.columns:  # a loop over the few reported items
            values = self.values[code].to_numpy(float, copy=True)
            values.flags.writeable = False
            columns[code] = values
        return columns

    def exact(self, code: str) -> Ratios:
        """:meth:`get` as exact numbers (missing where not reported)."""
        return Ratios.of(self.get(code))


def district_table(dataset: Dataset, ids: np.ndarray) -> DistrictTable:
    """The once-only figures of the ``district`` table, one row per district of ``ids``.

    Whole-column: items and districts are coded (the table comes district by
    district: one lookup per run), and a district's last row of an item wins.
    """
    ids = np.asarray(ids, dtype=object)
    table = dataset.table("district")
    if table is None or table.empty:
        return DistrictTable(ids, pd.DataFrame(index=range(len(ids))))
    item, items = pd.factorize(table["item"].to_numpy(object))
    once = np.array([code in DISTRICT_ITEMS and not DISTRICT_ITEMS[code].yearly for code in items] + [False], dtype=bool)[item]
    if "district_id" in table.columns:
        district = table["district_id"]
        values = np.where(district.isna().to_numpy(bool), None, district.to_numpy(object)) if district.hasnans else district.to_numpy(object)
        run, districts = factorize_runs(values)
        position = np.append(pd.Index(ids).get_indexer(districts), -1)[run]
    else:
        position = np.full(len(table), pd.Index(ids).get_indexer(np.array([""], dtype=object))[0])
    kept = np.flatnonzero(once & (position >= 0))
    key = position[kept] * len(items) + item[kept]
    last = len(key) - 1 - np.unique(key[::-1], return_index=True)[1]  # the last row of each district × item
    rows = kept[last]
    present = np.unique(item[rows])  # item codes, ascending
    names = np.asarray(items, dtype=object)[present]
    order = np.argsort(names, kind="stable")  # columns in item order, as a pivot gives them
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    wide = np.full((len(ids), len(present)), np.nan)
    wide[position[rows], rank[np.searchsorted(present, item[rows])]] = table["value"].to_numpy(float, na_value=np.nan)[rows]
    columns = pd.Index(names[order], name="item")  # text dtype inferred, as a pivot of the rows infers it
    return DistrictTable(ids, pd.DataFrame(wide, index=pd.RangeIndex(len(ids), name="position"), columns=columns))
