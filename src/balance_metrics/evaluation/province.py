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
from balance_metrics.evaluation.issue_list import issue_list, issue_list_zh
from balance_metrics.evaluation.items import LaterNotes, summarise_items, with_later_notes
from balance_metrics.evaluation.readiness import blocking_counts, blocking_items

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
    view of them (:meth:`district`).

    Statuses, numbers and the 问题清单's lines are computed at once:
    :attr:`statuses` (the item table without the texts written per district,
    :data:`~balance_metrics.evaluation.items.WORDED_COLUMNS`) and
    :attr:`issue_lines` (the 问题清单 without ``description``). The sentences
    are written when first asked for: for every district by :attr:`items`,
    :attr:`blocking` and :attr:`issue_list` (or :meth:`write_texts`), for one
    district only by :meth:`district` (at 200,000 sections the sentences of
    all districts are tens of millions of characters, seconds to write).
    """

    ids: np.ndarray
    resources: ResourceEvaluation
    base_checks: pd.DataFrame
    later_notes: tuple[LaterNotes, ...]
    where: np.ndarray
    plan_targets: pd.DataFrame
    plan_checks: pd.DataFrame
    satisfaction: pd.DataFrame
    statuses: pd.DataFrame
    issue_lines: pd.DataFrame
    references: pd.Series
    specs: Mapping[str, Mapping[str, Any]]
    standard: Standard
    period: str
    warnings: pd.DataFrame
    district_warnings: Mapping[str, pd.DataFrame]
    make: Callable[["WholeEvaluation", str], Any]
    _cache: dict = field(default_factory=dict, compare=False)

    @property
    def checks(self) -> pd.DataFrame:
        """Every district's checks, their notes complete (:attr:`base_checks` with
        :attr:`later_notes` written when first asked for)."""
        if "checks" not in self._cache:
            self._cache["checks"] = with_later_notes(self.base_checks, self.later_notes, self.resources)
        return self._cache["checks"]

    @property
    def items(self) -> pd.DataFrame:
        """Every district's items with their texts (:func:`~balance_metrics.evaluation.items.summarise_items`)."""
        return self._worded()["items"]

    @property
    def blocking(self) -> pd.DataFrame:
        """Every district's blocking items (:func:`~balance_metrics.evaluation.readiness.blocking_items`)."""
        return self._worded()["blocking"]

    @property
    def issue_list(self) -> pd.DataFrame:
        """Every district's 问题清单 (:func:`~balance_metrics.evaluation.issue_list.issue_list`)."""
        return self._worded()["issue_list"]

    @property
    def worded(self) -> bool:
        """Whether the sentences of every district are written (:attr:`items` was asked for)."""
        return "worded" in self._cache

    def issue_counts(self) -> np.ndarray:
        """How many lines each district's 问题清单 has (``ids`` order), from :attr:`issue_lines`."""
        where = pd.Index(self.ids).get_indexer(self.issue_lines["district_id"].to_numpy(object))
        return np.bincount(where, minlength=len(self.ids))

    def blocking_counts(self) -> np.ndarray:
        """How many items block each district (``ids`` order), from the statuses alone."""
        return blocking_counts(self.statuses, self.standard, self.ids)

    def write_texts(self) -> None:
        """Write the sentences of every district now (once), rather than district by district."""
        self._worded()

    def _worded(self) -> dict[str, pd.DataFrame]:
        if "worded" not in self._cache:
            self._cache["worded"] = written_tables(self.standard, self.specs, self.checks, self.references, self.plan_targets,
                                                   self.plan_checks, self.ids, self.where)
        return self._cache["worded"]

    def district_worded(self, district_id: str) -> dict[str, pd.DataFrame]:
        """One district's items, blocking items and 问题清单 (without district_id):
        its rows of the whole tables once those are written, else written for it alone."""
        if self.worded or not self.keyed:
            return {name: self.rows(name, district_id) for name in ("items", "blocking", "issue_list")}
        rows = self._check_rows(district_id)
        checks = self._district_check_frame(district_id)
        references = self.references[self.references.index.get_level_values(0) == district_id] if len(self.references) else self.references
        ids = np.array([district_id], dtype=object)
        written = written_tables(self.standard, self.specs, checks, references,
                                 self.district_rows(self.plan_targets, ("worded", "plan_targets"), district_id),
                                 self.district_rows(self.plan_checks, ("worded", "plan_checks"), district_id), ids,
                                 np.zeros(len(rows), dtype=np.int64))
        return {name: frame.drop(columns="district_id").reset_index(drop=True) for name, frame in written.items()}

    def district_checks(self, district_id: str) -> pd.DataFrame:
        """One district's checks, without district_id (as :meth:`rows`, from the district positions)."""
        return self._district_check_frame(district_id).drop(columns="district_id")

    def _district_check_frame(self, district_id: str) -> pd.DataFrame:
        """One district's checks with district_id, their notes complete: rows of
        :attr:`checks` once it is built, else the district's notes written for it alone."""
        rows = self._check_rows(district_id)
        if "checks" in self._cache or not self.later_notes:
            return self.checks.iloc[rows].reset_index(drop=True)
        key = ("checks", district_id)  # read twice by a district's view: its sentences and its checks
        if key not in self._cache:
            mine = self.base_checks.iloc[rows].reset_index(drop=True)
            self._cache[key] = with_later_notes(mine, self.later_notes, self.district_resources(district_id), rows)
        return self._cache[key]

    def _check_rows(self, district_id: str) -> np.ndarray:
        """Positions of one district's checks, in order (the checks grouped by district once)."""
        if "check_rows" not in self._cache:
            order = np.argsort(self.where, kind="stable")
            bounds = np.r_[0, np.cumsum(np.bincount(self.where, minlength=len(self.ids)))]
            self._cache["check_rows"] = (order, bounds, {d: k for k, d in enumerate(self.ids.tolist())})
        order, bounds, position = self._cache["check_rows"]
        k = position[district_id]
        return order[bounds[k]:bounds[k + 1]]

    @property
    def keyed(self) -> bool:
        """Whether the period holds many districts (its resource tables carry district_id)."""
        return not (len(self.ids) == 1 and self.ids[0] == "")

    def rows(self, name: str, district_id: str) -> pd.DataFrame:
        """One district's rows of a whole table, without ``district_id``."""
        frame: pd.DataFrame = getattr(self, name)
        if not self.keyed and (frame["district_id"] == district_id).all():  # one district: every row (no grouping)
            return frame.drop(columns="district_id").reset_index(drop=True)
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


def written_tables(standard: Standard, specs: Mapping[str, Mapping[str, Any]], checks: pd.DataFrame, references: pd.Series,
                   targets: pd.DataFrame, target_checks: pd.DataFrame, ids: np.ndarray, where: np.ndarray) -> dict[str, pd.DataFrame]:
    """The tables holding sentences of the districts ``ids``: ``items`` (with their
    texts), ``blocking`` and ``issue_list``, from their checks (``where``: each
    check's position in ``ids``), evidence references and plan targets."""
    items = summarise_items(standard, specs, checks, references, ids, where)
    return {
        "items": items,
        "blocking": blocking_items(items, standard, ids),
        "issue_list": issue_list(items, checks, targets, target_checks, ids, where),
    }


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

    def values(self):
        """Every district's Evaluation: the sentences of all districts written at once first."""
        self._whole.write_texts()  # once for all, not district by district
        return super().values()

    def items(self):
        """(district_id, Evaluation) pairs: the sentences of all districts written at once first."""
        self._whole.write_texts()
        return super().items()


@dataclass(frozen=True)
class ProvinceEvaluation:
    """Result of :func:`~balance_metrics.evaluate` on a period holding many districts.

    Every check, item status, verdict, the ranking (:meth:`summary`) and every
    问题清单 line (:attr:`issue_lines`) are computed by the call; the sentences
    are written when read — one district's by :meth:`district`, all of them by
    :attr:`items`, :attr:`checks`, :attr:`issue_list` or :meth:`tables`.

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
        """Every district's 问题清单 (district_id; ``no`` counts from 1 in each district),
        its sentences written when first asked for."""
        return self.whole.issue_list

    @property
    def issue_lines(self) -> pd.DataFrame:
        """:attr:`issue_list` without ``description``, computed with the evaluation
        (no sentence written): which school fails what, with the numbers."""
        return self.whole.issue_lines

    @property
    def period(self) -> str:
        return self.whole.period

    def __repr__(self) -> str:
        return (f"ProvinceEvaluation(period={self.period!r}, districts={len(self.whole.ids)}, "
                f"passed={int(self._ready().sum())}, standard={self.standard.label!r})")

    def _ready(self) -> np.ndarray:
        return self.whole.blocking_counts() == 0

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
        blocking = whole.blocking_counts()
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
            "items_failing": self._count(whole.statuses, (whole.statuses["status"] == FAIL).to_numpy(bool)),
            "issues": whole.issue_counts(),
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
            "blocking_items": whole.blocking_counts(),
        }
        status = whole.statuses["status"].to_numpy(object)
        for code in (PASS, FAIL, MISSING, NOT_APPLICABLE):
            row[f"items_{code.replace(' ', '_')}"] = self._count(whole.statuses, status == code)
        targets = whole.plan_targets
        for code in targets["status"].value_counts().index:
            counts = self._count(targets, (targets["status"] == code).to_numpy(bool))
            row[f"plan_targets_{code.replace(' ', '_')}"] = np.where(counts > 0, counts, np.nan)
        row["issues"] = whole.issue_counts()
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
