"""Many districts in one period: every district evaluated on its own, in one call.

:class:`ProvinceEvaluation` holds one :class:`~balance_metrics.evaluation.evaluate.Evaluation`
per district (CVs, items, readiness and 问题清单 per district) and ranks the
districts (:meth:`ProvinceEvaluation.summary`). The resource engine runs once
for all districts (whole-column, grouped by district); the items of each
district are then judged from its own slice of the period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from balance_metrics.contract.dataset import Dataset
from balance_metrics.engine.resources import ResourceEvaluation
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


@dataclass(frozen=True)
class ProvinceEvaluation:
    """Result of :func:`~balance_metrics.evaluate` on a period holding many districts.

    Attributes
    ----------
    districts : Mapping[str, Evaluation]
        district_id -> that district's evaluation.
    resources : ResourceEvaluation
        The resource engine's result for every district at once (tables carry district_id).
    names : Mapping[str, str]
        district_id -> district_name.
    standard : Standard
    period : str
    """

    districts: Mapping[str, object] = field(repr=False)
    resources: ResourceEvaluation = field(repr=False)
    names: Mapping[str, str] = field(repr=False)
    standard: Standard = field(repr=False)
    period: str = ""

    def __repr__(self) -> str:
        ready = sum(e.passed for e in self.districts.values())
        return f"ProvinceEvaluation(period={self.period!r}, districts={len(self.districts)}, passed={ready}, standard={self.standard.label!r})"

    @property
    def passed(self) -> bool:
        """Every district is ready to apply."""
        return all(e.passed for e in self.districts.values())

    def district(self, district_id: str):
        """One district's :class:`Evaluation`."""
        try:
            return self.districts[district_id]
        except KeyError:
            raise KeyError(f"no district {district_id!r} in this evaluation") from None

    def summary(self) -> pd.DataFrame:
        """The districts ranked: ready first, then fewest blocking items, failing
        CVs, failing sections and the smallest worst CV ÷ limit.

        Returns
        -------
        DataFrame
            :data:`RANKING_COLUMNS`; ``worst_cv_ratio`` is the largest 差异系数 ÷ its
            limit of the district (> 1: over the limit), ``worst_cv`` names it (stage indicator).
        """
        balance = self.resources.balance
        verdicts = self.resources.verdicts
        ratio = balance.assign(ratio=balance["cv"] / balance["limit"])
        worst = ratio.sort_values("ratio", ascending=False, kind="stable").drop_duplicates("district_id").set_index("district_id")
        sections = verdicts.groupby("district_id")["passed"].agg(["size", "sum"])
        cv_failing = (~balance["passed"]).groupby(balance["district_id"]).sum()
        rows = []
        for district_id, evaluation in self.districts.items():
            rows.append({
                "district_id": district_id,
                "district_name": self.names.get(district_id, ""),
                "passed": evaluation.passed,
                "verdict_label": evaluation.readiness.label,
                "blocking_items": len(evaluation.readiness.blocking),
                "sections": int(sections["size"].get(district_id, 0)),
                "sections_failing": int(sections["size"].get(district_id, 0) - sections["sum"].get(district_id, 0)),
                "cv_failing": int(cv_failing.get(district_id, 0)),
                "worst_cv_ratio": float(worst["ratio"].get(district_id, float("nan"))),
                "worst_cv": f"{worst['stage'].get(district_id, '')} {worst['indicator'].get(district_id, '')}".strip(),
                "items_failing": int((evaluation.items["status"] == "fail").sum()),
                "issues": len(evaluation.issue_list),
            })
        frame = pd.DataFrame(rows, columns=RANKING_COLUMNS[1:])
        frame = frame.sort_values(
            ["passed", "blocking_items", "cv_failing", "sections_failing", "worst_cv_ratio", "district_id"],
            ascending=[False, True, True, True, True, True], kind="stable",
        )
        frame.insert(0, "rank", range(1, len(frame) + 1))
        return frame.reset_index(drop=True)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result table of every district, stacked, each starting with
        district_id; plus ``districts`` (:meth:`summary`)."""
        stacked: dict[str, list[pd.DataFrame]] = {}
        for district_id, evaluation in self.districts.items():
            for name, table in evaluation.tables().items():
                if "district_id" in table.columns:
                    table = table.drop(columns="district_id")
                stacked.setdefault(name, []).append(table.assign(district_id=district_id))
        out = {"districts": self.summary()}
        for name, parts in stacked.items():
            frame = pd.concat(parts, ignore_index=True)
            out[name] = frame[["district_id", *[c for c in frame.columns if c != "district_id"]]]
        return out
