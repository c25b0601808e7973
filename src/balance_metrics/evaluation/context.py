"""What every evaluation rule gets: the period (one district or many), the
standard and shared views of it.

Rules run once over every district of the period: their check rows carry
``district_id`` ("" for a one-district period), and district-level figures come
as one row per district (:class:`~balance_metrics.evaluation.district.DistrictTable`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.contract.dataset import Dataset
from balance_metrics.evaluation.district import DistrictFigures, DistrictTable, district_figures, district_table
from balance_metrics.engine.resources import ResourceEvaluation, evaluate_resources
from balance_metrics.engine.schoolview import coded_schools, school_codes
from balance_metrics.engine.sections import factorize_runs
from balance_metrics.standard.loader import Standard


@dataclass(frozen=True)
class Context:
    """Inputs shared by the item rules of one evaluation.

    Attributes
    ----------
    dataset : Dataset
    standard : Standard
    schools : DataFrame
        :func:`balance_metrics.schoolview.schools_view` of the period, with
        ``district_id`` ("" for a one-district period).
    figures : DistrictTable
        The districts evaluated (``figures.ids``) and their once-only figures.
    resources : ResourceEvaluation
    district : DistrictFigures
        The district figures (yearly series and sources too) of a one-district
        context; built when asked for.
    """

    dataset: Dataset
    standard: Standard
    schools: pd.DataFrame
    figures: DistrictTable
    resources: ResourceEvaluation
    _district: list = field(default_factory=list, repr=False, compare=False)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, computed once per context (views several rules share)."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    @property
    def ids(self) -> np.ndarray:
        """The districts evaluated, in order."""
        return self.figures.ids

    @property
    def positions(self) -> np.ndarray:
        """0 … len(ids) − 1: the district of each row of a per-district array.

        Check rows name their district by this position while the rules run
        (``district_id`` becomes the id in :func:`~balance_metrics.evaluation.items.run_items`).
        """
        return np.arange(len(self.ids))

    @property
    def district(self) -> DistrictFigures:
        if len(self.ids) != 1:
            raise ValueError("district figures of one district: use a one-district context (per_district)")
        if not self._district:
            self._district.append(district_figures(self.dataset))
        return self._district[0]

    def school_rows(self, table: str) -> np.ndarray:
        """Each row's school as its position in the schools table (-1: not there),
        coded once per table (campuses are their own schools here)."""
        def code() -> np.ndarray:
            return school_codes(self.dataset, (table,))[table]
        return self.once(f"school_rows:{table}", code)

    def school_districts(self) -> np.ndarray:
        """District position of each row of the schools table (-1 appended: for row -1)."""
        def code() -> np.ndarray:
            schools = self.dataset.schools
            if "district_id" not in schools.columns:
                return np.zeros(len(schools) + 1, dtype=np.int64)
            return np.append(self.position(schools["district_id"].to_numpy(object)), -1)
        return self.once("school_districts", code)

    def position(self, district_ids: object) -> np.ndarray:
        """Position in :attr:`ids` of each district id (-1 for an unknown one)."""
        index = self.once("ids_index", lambda: pd.Index(self.ids))  # (its hash table built once)
        return index.get_indexer(np.asarray(district_ids, dtype=object))


def district_key(frame: pd.DataFrame) -> np.ndarray:
    """A table's ``district_id`` column as an object array ("" when it has none)."""
    if "district_id" in frame.columns:
        return frame["district_id"].astype(object).to_numpy()
    return np.full(len(frame), "", dtype=object)


def build_context(dataset: Dataset, standard: Standard, resources: ResourceEvaluation | None = None,
                  ids: object | None = None) -> Context:
    """Compute the shared views once for all rules (``resources`` when already
    computed; ``ids``: the districts, by default every one in the period)."""
    if ids is None:
        ids = dataset.districts()["district_id"].to_numpy(object)
    schools, codes = coded_schools(dataset, standard)
    for column in ("school_id", "school_name"):  # plain str objects: the rules copy them into every check
        values = schools[column]
        schools[column] = values.astype(object) if not values.hasnans else values.astype(str).astype(object)  # (the same str objects)
    ids = np.asarray(ids, dtype=object)
    district = schools["district_id"].to_numpy(object)
    run, districts = factorize_runs(np.where(pd.isna(district), None, district))  # schools come district by district
    schools["_district"] = pd.Index(ids).get_indexer(districts)[run] if len(run) else np.zeros(0, dtype=np.int64)
    return Context(
        dataset=dataset,
        standard=standard,
        schools=schools,
        figures=district_table(dataset, ids),
        resources=evaluate_resources(dataset, standard) if resources is None else resources,
        cache={f"school_rows:{table}": code for table, code in codes.items()},
    )


def per_district(ctx: Context, datasets: Mapping[str, Dataset]) -> dict[str, Context]:
    """One-district contexts (for measures that work one district at a time)."""
    if len(ctx.ids) == 1 and ctx.ids[0] == "":
        return {"": ctx}
    schools = dict(tuple(ctx.schools.assign(_district=0).groupby("district_id", sort=False)))
    return {
        d: Context(datasets[d], ctx.standard, schools.get(d, ctx.schools.iloc[0:0]).reset_index(drop=True),
                   district_table(datasets[d], np.array([d], dtype=object)), ctx.resources.select(d))
        for d in ctx.ids  # only for plan targets and cross-checks (see evaluate)
    }


#: An item rule: (context, item id, the item's standard entry) -> check rows (a
#: DataFrame with :data:`~balance_metrics.evaluation.checks.CHECK_COLUMNS`).
Rule = Callable[[Context, str, Mapping[str, Any]], pd.DataFrame]
