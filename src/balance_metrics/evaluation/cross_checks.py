"""District totals cross-checked against the sum of the schools' own figures.

A plan target measured on a district figure (e.g. P13, the primary teaching
space added since the plan's baseline) may name, under ``school_sum``, the
resource indicator whose numerator counts the same thing in the school tables
(``indicator``, ``stage``) and the district item holding that sum on the
baseline date (``baseline_item``). The schools' increase is then

    Σ numerator of the stage's evaluated sections this period − baseline

(facility totals of combined schools shared by weighted enrolment, as the
indicator counts them). When the reported figure and the schools' increase
differ by more than ``cross_check_tolerance_percent`` of the reported figure,
the period gets a data warning naming both figures; the target is still judged
on the reported figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pandas as pd

from balance_metrics.common.errors import Problem, problems_frame
from balance_metrics.contract.schema import DISTRICT_ITEMS
from balance_metrics.evaluation.checks import fmt
from balance_metrics.evaluation.context import Context
from balance_metrics.standard.loader import exact


@dataclass(frozen=True)
class CrossCheck:
    """One district figure against the schools' own figures (m² or the item's unit)."""

    target_id: str
    item: str
    reported: Fraction
    schools_now: Fraction
    baseline: Fraction
    tolerance_percent: Fraction

    @property
    def from_schools(self) -> Fraction:
        """The increase the school tables show: now − baseline."""
        return self.schools_now - self.baseline

    @property
    def difference(self) -> Fraction:
        return self.reported - self.from_schools

    @property
    def agrees(self) -> bool:
        return abs(self.difference) <= abs(self.reported) * self.tolerance_percent / 100

    def text(self) -> str:
        unit = DISTRICT_ITEMS[self.item].unit
        base = (f"{DISTRICT_ITEMS[self.item].zh}：区级填报{fmt(self.reported, unit)}，各校合计为{fmt(self.from_schools, unit)}"
                f"（本期各校{fmt(self.schools_now, unit)} − 基准{fmt(self.baseline, unit)}）")
        if self.agrees:
            return base + "，一致"
        share = abs(self.difference) / abs(self.reported) * 100 if self.reported else None
        gap = f"相差{fmt(abs(self.difference), unit)}" + (f"（{fmt(share, '%')}）" if share is not None else "")
        return f"{base}，{gap}，超过容差{fmt(self.tolerance_percent, '%')}，请核实区级数据与学校办学条件表"


def cross_checks(ctx: Context) -> list[CrossCheck]:
    """Every plan target with a ``school_sum`` whose figures are all reported."""
    sections = ctx.resources.sections
    found = []
    for target_id, target in ctx.standard.plan_targets.items():
        spec: Mapping[str, Any] = target.params
        school_sum = spec.get("school_sum")
        if not school_sum:
            continue
        reported = ctx.district.get(str(spec["item"]))
        baseline = ctx.district.get(str(school_sum["baseline_item"]))
        if reported is None or baseline is None:
            continue
        part = sections[(sections["indicator"] == school_sum["indicator"]) & (sections["stage"] == school_sum["stage"])]
        now = exact(round(float(part["numerator"].sum()), 6))
        found.append(CrossCheck(target_id, str(spec["item"]), reported, now, baseline, exact(spec["cross_check_tolerance_percent"])))
    return found


def cross_check_warnings(ctx: Context, checks: list[CrossCheck]) -> pd.DataFrame:
    """The disagreeing checks as data warnings (file, row, column, value, rule) on the district table's row."""
    table = ctx.dataset.table("district")
    problems = []
    for check in checks:
        if check.agrees:
            continue
        rows = table[table["item"] == check.item] if table is not None else pd.DataFrame()
        source, row = (str(rows["_source"].iloc[0]), int(rows["_row"].iloc[0])) if len(rows) else ("district", None)
        problems.append(Problem(source, row, "value", fmt(check.reported), f"{check.target_id} {check.text()}"))
    return problems_frame(problems)


