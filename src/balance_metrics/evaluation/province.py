"""Many districts in one period: every district evaluated in one call.

Every rule runs once over all districts (whole-column, rows keyed by
``district_id``): :class:`WholeEvaluation` holds the resulting tables.
:class:`ProvinceEvaluation` ranks the districts (:meth:`ProvinceEvaluation.summary`),
stacks the tables (:meth:`ProvinceEvaluation.tables`) and gives each district's
:class:`~balance_metrics.evaluation.evaluate.Evaluation` (CVs, items, readiness
and 问题清单), a view of its rows built when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from balance_metrics.common.labels import READY_LABELS
from balance_metrics.evaluation.checks import FAIL, MISSING, NOT_APPLICABLE, PASS
from balance_metrics.evaluation.issue_list import issue_list_zh

from balance_metrics.contract.dataset import Dataset
from balance_metrics.engine.resources import ResourceEvaluation
from balance_metrics.engine.sections import Sections
from balance_metrics.standard.loader import Standard

RANKING_COLUMNS = [
    "rank", "district_id", "district_name", "passed", "verdict_label", "blocking_items", "sections",
    "sections_failing", "cv_failing", "worst_cv_ratio", "worst_cv", "items_failing", "issues",
]


def split_by_district(dataset: Dataset, district_ids: list[str]) -> dict[str, Dataset]:
    """One :class:`Dataset` per district, each table split in one grouped pass."""
    school_district = dataset.schools.set_index("school_id")["district_id"]
    parts: dict[str, dict[str, pd.DataFrame]] = {d: {} for d in district_ids}
    for name, frame in dataset.tables.items():
        if "district_id" in frame.columns:
            key = frame["district_id"]
        elif "school_id" in frame.columns:
            key = frame["school_id"].map(school_district)
        else:
            for d in district_ids:
                parts[d][name] = frame
            continue
        groups = dict(tuple(frame.groupby(key.astype(object), sort=False)))
        for d in district_ids:
            parts[d][name] = groups.get(d, frame.iloc[0:0])
    return {d: Dataset(dataset.period, dataset.path, tables, dataset.warnings, dataset.sources) for d, tables in parts.items()}


@dataclass(frozen=True, repr=False)
class WholeEvaluation:
    """The tables of one evaluation of every district at once, each with
    ``district_id`` (district by district in ``ids`` order); the
    per-district :class:`~balance_metrics.evaluation.evaluate.Evaluation` is a
    view of them (:meth:`district`)."""

    ids: np.ndarray
    resources: ResourceEvaluation
    items: pd.DataFrame
    checks: pd.DataFrame
    plan_targets: pd.DataFrame
    plan_checks: pd.DataFrame
    satisfaction: pd.DataFrame
    blocking: pd.DataFrame
    issue_list: pd.DataFrame
    standard: Standard
    period: str
    warnings: pd.DataFrame
    district_warnings: Mapping[str, pd.DataFrame]
    make: Callable[["WholeEvaluation", str], Any]
    _cache: dict = field(default_factory=dict, compare=False)

    @property
    def keyed(self) -> bool:
        """Whether the period holds many districts (its resource tables carry district_id)."""
        return not (len(self.ids) == 1 and self.ids[0] == "")

    def rows(self, name: str, district_id: str) -> pd.DataFrame:
        """One district's rows of a whole table, without ``district_id``."""
        frame: pd.DataFrame = getattr(self, name)
        key = ("rows", name)
        if key not in self._cache:
            self._cache[key] = frame.groupby("district_id", sort=False).indices if len(frame) else {}
        positions = self._cache[key].get(district_id, np.zeros(0, dtype=np.int64))
        return frame.iloc[positions].drop(columns="district_id").reset_index(drop=True)

    def district_rows(self, frame: pd.DataFrame, key: object, district_id: str) -> pd.DataFrame:
        """One district's rows of any table with district_id (kept), row positions grouped once per table."""
        if key not in self._cache:
            self._cache[key] = frame.groupby("district_id", sort=False).indices if len(frame) and "district_id" in frame else {}
        if not len(frame) or "district_id" not in frame:
            return frame
        return frame.iloc[self._cache[key].get(district_id, np.zeros(0, dtype=np.int64))].reset_index(drop=True)

    def district_resources(self, district_id: str) -> ResourceEvaluation:
        """One district's resource evaluation (as :meth:`ResourceEvaluation.select`, grouped once)."""
        r = self.resources

        def rows(name: str, frame: pd.DataFrame) -> pd.DataFrame:
            return self.district_rows(frame, ("resources", name), district_id)

        basis = None if r.basis is None else Sections(rows("basis.sections", r.basis.sections), rows("basis.excluded", r.basis.excluded))
        return ResourceEvaluation(rows("sections", r.sections), rows("verdicts", r.verdicts), rows("balance", r.balance),
                                  rows("excluded", r.excluded), r.standard, r.period, basis)

    def district(self, district_id: str):
        """One district's Evaluation (built once, when first asked for)."""
        key = ("district", district_id)
        if key not in self._cache:
            self._cache[key] = self.make(self, district_id)
        return self._cache[key]

    def by_district(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A table district by district (``ids`` order, stable), district_id first."""
        if "district_id" not in frame.columns:
            return frame
        where = pd.Index(self.ids).get_indexer(frame["district_id"].to_numpy(object))
        frame = frame.iloc[np.argsort(where, kind="stable")].reset_index(drop=True)
        return frame[["district_id", *[c for c in frame.columns if c != "district_id"]]]


class _Districts(Mapping):
    """district_id -> Evaluation, each built when first asked for."""

    def __init__(self, whole: WholeEvaluation):
        self._whole = whole

    def __getitem__(self, district_id: str):
        if district_id not in set(self._whole.ids):
            raise KeyError(district_id)
        return self._whole.district(district_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self._whole.ids.tolist())

    def __len__(self) -> int:
        return len(self._whole.ids)


@dataclass(frozen=True)
class ProvinceEvaluation:
    """Result of :func:`~balance_metrics.evaluate` on a period holding many districts.

    Attributes
    ----------
    whole : WholeEvaluation
        Every table for all districts at once (each with district_id).
    names : Mapping[str, str]
        district_id -> district_name.
    """

    whole: WholeEvaluation = field(repr=False)
    names: Mapping[str, str] = field(repr=False)

    @property
    def districts(self) -> Mapping[str, Any]:
        """district_id -> that district's :class:`~balance_metrics.evaluation.evaluate.Evaluation` (built on access)."""
        return _Districts(self.whole)

    @property
    def resources(self) -> ResourceEvaluation:
        """The resource engine's result for every district at once (tables carry district_id)."""
        return self.whole.resources

    @property
    def standard(self) -> Standard:
        return self.whole.standard

    @property
    def items(self) -> pd.DataFrame:
        """Every district's items (district_id, then the columns of Evaluation.items)."""
        return self.whole.items

    @property
    def checks(self) -> pd.DataFrame:
        """Every district's checks (district_id, then the columns of Evaluation.checks)."""
        return self.whole.checks

    @property
    def plan_targets(self) -> pd.DataFrame:
        """Every district's plan targets (district_id, then the columns of Evaluation.plan_targets)."""
        return self.whole.plan_targets

    @property
    def issue_list(self) -> pd.DataFrame:
        """Every district's 问题清单 (district_id; ``no`` counts from 1 in each district)."""
        return self.whole.issue_list

    @property
    def period(self) -> str:
        return self.whole.period

    def __repr__(self) -> str:
        return (f"ProvinceEvaluation(period={self.period!r}, districts={len(self.whole.ids)}, "
                f"passed={int(self._ready().sum())}, standard={self.standard.label!r})")

    def _ready(self) -> np.ndarray:
        blocking = np.bincount(pd.Index(self.whole.ids).get_indexer(self.whole.blocking["district_id"].to_numpy(object)),
                               minlength=len(self.whole.ids))
        return blocking == 0

    @property
    def passed(self) -> bool:
        """Every district is ready to apply."""
        return bool(self._ready().all())

    def district(self, district_id: str):
        """One district's :class:`Evaluation`."""
        if district_id not in set(self.whole.ids):
            raise KeyError(f"no district {district_id!r} in this evaluation")
        return self.whole.district(district_id)

    def _count(self, frame: pd.DataFrame, mask: np.ndarray | None = None) -> np.ndarray:
        where = pd.Index(self.whole.ids).get_indexer(frame["district_id"].to_numpy(object))
        return np.bincount(where if mask is None else where[mask], minlength=len(self.whole.ids))

    def summary(self) -> pd.DataFrame:
        """The districts ranked: ready first, then fewest blocking items, failing
        CVs, failing sections and the smallest worst CV ÷ limit.

        Returns
        -------
        DataFrame
            :data:`RANKING_COLUMNS`; ``worst_cv_ratio`` is the largest 差异系数 ÷ its
            limit of the district (> 1: over the limit), ``worst_cv`` names it (stage indicator).
        """
        whole = self.whole
        ids = whole.ids
        balance = self.resources.balance
        verdicts = self.resources.verdicts
        ratio = balance.assign(ratio=balance["cv"] / balance["limit"])
        worst = ratio.sort_values("ratio", ascending=False, kind="stable").drop_duplicates("district_id").set_index("district_id")
        sections = self._count(verdicts)
        failing_sections = self._count(verdicts, ~verdicts["passed"].to_numpy(bool))
        blocking = self._count(whole.blocking)
        ready = blocking == 0
        frame = pd.DataFrame({
            "district_id": ids,
            "district_name": pd.Series(ids).map(self.names).fillna("").to_numpy(object),
            "passed": ready,
            "verdict_label": np.where(ready, READY_LABELS[True], READY_LABELS[False]).astype(object),
            "blocking_items": blocking,
            "sections": sections,
            "sections_failing": failing_sections,
            "cv_failing": self._count(balance, ~balance["passed"].to_numpy(bool)),
            "worst_cv_ratio": worst["ratio"].reindex(ids).to_numpy(float),
            "worst_cv": (worst["stage"].reindex(ids).fillna("").astype(str) + " " + worst["indicator"].reindex(ids).fillna("").astype(str)).str.strip().to_numpy(object),
            "items_failing": self._count(whole.items, (whole.items["status"] == "fail").to_numpy(bool)),
            "issues": self._count(whole.issue_list),
        }, columns=RANKING_COLUMNS[1:])
        frame = frame.sort_values(
            ["passed", "blocking_items", "cv_failing", "sections_failing", "worst_cv_ratio", "district_id"],
            ascending=[False, True, True, True, True, True], kind="stable",
        )
        frame.insert(0, "rank", range(1, len(frame) + 1))
        return frame.reset_index(drop=True)

    def _summaries(self) -> pd.DataFrame:
        """:meth:`Evaluation.summary` of every district, stacked."""
        whole = self.whole
        ready = self._ready()
        row: dict[str, object] = {
            "district_id": whole.ids,
            "period": whole.period,
            "standard": whole.standard.label,
            "verdict": np.where(ready, "ready", "not ready").astype(object),
            "verdict_label": np.where(ready, READY_LABELS[True], READY_LABELS[False]).astype(object),
            "blocking_items": self._count(whole.blocking),
        }
        status = whole.items["status"].to_numpy(object)
        for code in (PASS, FAIL, MISSING, NOT_APPLICABLE):
            row[f"items_{code.replace(' ', '_')}"] = self._count(whole.items, status == code)
        targets = whole.plan_targets
        for code in targets["status"].value_counts().index:
            counts = self._count(targets, (targets["status"] == code).to_numpy(bool))
            row[f"plan_targets_{code.replace(' ', '_')}"] = np.where(counts > 0, counts, np.nan)
        row["issues"] = self._count(whole.issue_list)
        return pd.DataFrame(row)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result table of every district, stacked, each starting with
        district_id; plus ``districts`` (:meth:`summary`)."""
        whole = self.whole
        resources = self.resources
        return {
            "districts": self.summary(),
            "summary": self._summaries(),
            "sections": whole.by_district(resources.sections),
            "verdicts": whole.by_district(resources.verdicts),
            "balance": whole.by_district(resources.balance),
            "excluded": whole.by_district(resources.excluded),
            "items": whole.items,
            "checks": whole.by_district(whole.checks),
            "plan_targets": whole.plan_targets,
            "plan_checks": whole.by_district(whole.plan_checks),
            "satisfaction": whole.satisfaction,
            "readiness": whole.blocking,
            "问题清单": issue_list_zh(whole.issue_list),
        }
